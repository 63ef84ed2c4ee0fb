import { Construct } from 'constructs';
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group/index.js';
import { AutoscalingPolicy } from '@cdktf/provider-aws/lib/autoscaling-policy/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object/index.js';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter/index.js';
import type { ResolvedBundle } from '../bundle.js';
import type { ComputeConfig, LifecycleConfig, SocketConfig } from '../config/environments.js';
import { SKIP_REASONS, skipCheck } from './checkov-skip.js';
import { PORTS } from './security.js';
import { DOCDB_CA_FILE, METRICS_PORT, renderUserData } from './user-data.js';

export interface ComputeOptions {
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly tags: Record<string, string>;
  readonly compute: ComputeConfig;
  readonly socket: SocketConfig;
  readonly lifecycle: LifecycleConfig;
  readonly amiId: string;
  readonly privateSubnetIds: string[];
  readonly securityGroupId: string;
  readonly targetGroupArn: string;
  readonly kmsKeyArn: string;
  readonly bundle: ResolvedBundle;
  readonly appLogGroupName: string;
  readonly metricsLogGroupName: string;
  readonly clientUrl: string;
  readonly redis: {
    readonly host: string;
    readonly port: number;
    readonly cluster: boolean;
    readonly secretArn: string;
  };
  readonly docdb: { readonly host: string; readonly database: string; readonly secretArn: string };
  /** Further plain settings of the gateway (identity provider, webhook endpoints). */
  readonly env: Record<string, string>;
  /**
   * The gateway's secret settings: variable -> Secrets Manager ARN (JWT_SECRET,
   * SERVICE_TOKEN_SECRET, WEBHOOK_SECRET). The boot script reads them into the service's
   * environment file; the instances may read exactly these secrets.
   */
  readonly secretEnv: Record<string, string>;
  /** KMS keys of those secrets that are not the stack's or AWS's managed key. */
  readonly secretKmsKeyArns: string[];
  /** The attachments bucket the gateway presigns uploads and downloads for. */
  readonly attachmentsBucket: string;
  /** Alarms that stop and roll back an instance refresh. */
  readonly rollbackAlarmNames: string[];
  /** Instances start only after these exist: the data stores' writers, the listener, the users. */
  readonly dependsOn: ITerraformDependable[];
}

export const LIFECYCLE_HOOK_NAME = 'drain-before-terminate';
/** How long old bundle versions stay downloadable, so a rollback to an old template still boots. */
export const BUNDLE_VERSION_RETENTION_DAYS = 90;

export function autoScalingGroupName(namePrefix: string): string {
  return `${namePrefix}-gateway`;
}

/**
 * The gateway fleet: the bundle in a versioned S3 bucket, SSM parameters the boot script turns
 * into the service's environment, an instance role that can read only what it needs, a launch
 * template (pinned AMI, IMDSv2, encrypted disk, no key pair, tagged instances and volumes) and an
 * Auto Scaling group across both private subnets. Every deploy rolls it with an instance refresh
 * that keeps full capacity (100-200%), drains each instance through the termination lifecycle
 * hook before it goes, and rolls back on its own when the rollback alarms fire.
 */
export class Compute extends Construct {
  readonly autoScalingGroup: AutoscalingGroup;
  readonly autoScalingGroupName: string;
  readonly paramPrefix: string;
  readonly bundleKey: string;
  readonly artifactsBucket: string;
  readonly instanceRoleName: string;

  constructor(scope: Construct, id: string, options: ComputeOptions) {
    super(scope, id);
    const { namePrefix: prefix, compute, socket } = options;
    this.paramPrefix = `/${prefix}`;
    this.autoScalingGroupName = autoScalingGroupName(prefix);

    // Content-addressed by a hash of what the instance runs: a new build of the same source is the
    // same key and the same launch template, so it rolls nothing.
    const bundle = new TerraformAsset(this, 'gateway-bundle', {
      path: options.bundle.dir,
      type: AssetType.ARCHIVE,
      assetHash: options.bundle.hash,
    });
    this.bundleKey = `gateway/${options.bundle.hash}/${bundle.fileName}`;
    const bucket = new S3Bucket(this, 'artifacts', {
      bucketPrefix: `${prefix}-artifacts-`,
      forceDestroy: true,
    });
    skipCheck(
      bucket,
      'CKV_AWS_145',
      'holds only the gateway build (code anyone can build from the repository, no user data or secret); SSE-S3',
    );
    skipCheck(
      bucket,
      'CKV_AWS_18',
      'written only by Terraform (each write is in the plan) and read only by the instance role',
    );
    skipCheck(
      bucket,
      'CKV_AWS_144',
      'a build artifact, recreated by the next deploy; nothing to recover in another region',
    );
    skipCheck(bucket, 'CKV2_AWS_62', SKIP_REASONS.noEventConsumer);
    this.artifactsBucket = bucket.bucket;
    new S3BucketPublicAccessBlock(this, 'artifacts-public-access', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'artifacts-ownership', {
      bucket: bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'artifacts-encryption', {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    // Terraform deletes the previous bundle object when a new one replaces it; versioning keeps it
    // as a noncurrent version that the boot script can still fetch, so rolling back to an older
    // launch template works for the retention period.
    const versioning = new S3BucketVersioningA(this, 'artifacts-versioning', {
      bucket: bucket.id,
      versioningConfiguration: { status: 'Enabled' },
    });
    new S3BucketLifecycleConfiguration(this, 'artifacts-lifecycle', {
      bucket: bucket.id,
      rule: [
        {
          id: 'expire-old-bundles',
          status: 'Enabled',
          filter: [{ prefix: 'gateway/' }],
          noncurrentVersionExpiration: [{ noncurrentDays: BUNDLE_VERSION_RETENTION_DAYS }],
          expiration: [{ expiredObjectDeleteMarker: true }],
        },
        {
          // Bucket-wide: an interrupted upload of any key stops costing after a week.
          id: 'abort-incomplete-uploads',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
      dependsOn: [versioning],
    });
    const tlsOnly = new DataAwsIamPolicyDocument(this, 'artifacts-tls-only', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [bucket.arn, `${bucket.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    new S3BucketPolicy(this, 'artifacts-policy', { bucket: bucket.id, policy: tlsOnly.json });
    const bundleObject = new S3Object(this, 'gateway-bundle-object', {
      bucket: bucket.id,
      key: this.bundleKey,
      source: bundle.path,
      sourceHash: options.bundle.hash,
      dependsOn: [versioning],
    });

    // One parameter per plain environment variable (no secret among them), plus the wiring the
    // boot script needs. Secrets are read by the gateway itself (and re-read on rotation).
    const plainEnv: Record<string, string> = {
      CLIENT_URL: options.clientUrl,
      AWS_REGION: options.region,
      REDIS_HOST: options.redis.host,
      REDIS_PORT: String(options.redis.port),
      REDIS_TLS: 'true',
      REDIS_CLUSTER: String(options.redis.cluster),
      REDIS_AUTH_SECRET_ID: options.redis.secretArn,
      MONGODB_URI: `mongodb://${options.docdb.host}:27017/${options.docdb.database}?tls=true&tlsCAFile=${DOCDB_CA_FILE}&replicaSet=rs0&readPreference=primary&retryWrites=false&authSource=admin`,
      MONGODB_SECRET_ID: options.docdb.secretArn,
      SOCKET_PING_INTERVAL_MS: String(socket.pingIntervalMs),
      SOCKET_PING_TIMEOUT_MS: String(socket.pingTimeoutMs),
      SHUTDOWN_DRAIN_MS: String(socket.drainTimeoutMs),
      METRICS_PORT: String(METRICS_PORT),
      METRICS_HOST: '127.0.0.1',
      ATTACHMENTS_BUCKET: options.attachmentsBucket,
      // The ALB is the one proxy in front: the client address is the last X-Forwarded-For entry
      // (the one the ALB appended), so per-IP budgets count clients, and whatever a client wrote
      // itself in that header is ignored. Instances take traffic from the ALB's security group
      // only, so nothing can reach them without passing it. (Trusting the ALB's subnets instead
      // would change nothing here and break when its nodes' addresses move.)
      TRUST_PROXY_HOPS: '1',
      ...options.env,
    };
    const wiring: Record<string, string> = { 'bundle-bucket': bucket.bucket };
    const parameters = [
      ...Object.entries(plainEnv).map(([name, value]) => [`env/${name}`, value] as const),
      ...Object.entries(wiring).map(([name, value]) => [`config/${name}`, value] as const),
      ...Object.entries(options.secretEnv).map(
        ([name, arn]) => [`secret-env/${name}`, arn] as const,
      ),
    ].map(([name, value]) => {
      const parameter = new SsmParameter(this, `param-${name.replace('/', '-')}`, {
        name: `${this.paramPrefix}/${name}`,
        type: 'String',
        value,
      });
      skipCheck(
        parameter,
        'CKV2_AWS_34',
        'plain configuration (hosts, ports, ARNs, timeouts: also visible in the plan and the state); every credential is in Secrets Manager under the data key',
      );
      return parameter;
    });

    const assumeRole = new DataAwsIamPolicyDocument(this, 'assume-role', {
      statement: [
        {
          effect: 'Allow',
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }],
        },
      ],
    });
    const role = new IamRole(this, 'instance-role', {
      name: `${prefix}-gateway`,
      assumeRolePolicy: assumeRole.json,
      description: 'JobSphere chat gateway instances: SSM, their own secrets, CloudWatch agent',
    });
    this.instanceRoleName = role.name;
    for (const [name, policy] of [
      ['ssm', 'AmazonSSMManagedInstanceCore'],
      ['cloudwatch-agent', 'CloudWatchAgentServerPolicy'],
    ] as const) {
      new IamRolePolicyAttachment(this, `instance-role-${name}`, {
        role: role.name,
        policyArn: `arn:aws:iam::aws:policy/${policy}`,
      });
    }
    const asgArn = `arn:aws:autoscaling:${options.region}:${options.accountId}:autoScalingGroup:*:autoScalingGroupName/${this.autoScalingGroupName}`;
    const ownAccess = new DataAwsIamPolicyDocument(this, 'instance-access', {
      statement: [
        {
          sid: 'ReadOwnSecrets',
          effect: 'Allow',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [
            options.redis.secretArn,
            options.docdb.secretArn,
            ...Object.values(options.secretEnv),
          ],
        },
        {
          sid: 'DecryptOwnSecrets',
          effect: 'Allow',
          actions: ['kms:Decrypt'],
          resources: [options.kmsKeyArn, ...options.secretKmsKeyArns],
          condition: [
            {
              test: 'StringEquals',
              variable: 'kms:ViaService',
              values: [`secretsmanager.${options.region}.amazonaws.com`],
            },
          ],
        },
        {
          sid: 'ReadOwnParameters',
          effect: 'Allow',
          actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
          resources: [
            `arn:aws:ssm:${options.region}:${options.accountId}:parameter${this.paramPrefix}`,
            `arn:aws:ssm:${options.region}:${options.accountId}:parameter${this.paramPrefix}/*`,
          ],
        },
        {
          sid: 'ReadGatewayBundles',
          effect: 'Allow',
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [`${bucket.arn}/gateway/*`],
        },
        {
          sid: 'FindOlderBundleVersions',
          effect: 'Allow',
          actions: ['s3:ListBucketVersions'],
          resources: [bucket.arn],
          condition: [{ test: 'StringLike', variable: 's3:prefix', values: ['gateway/*'] }],
        },
        {
          sid: 'DrainAndReportOwnGroup',
          effect: 'Allow',
          actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:SetInstanceHealth'],
          resources: [asgArn],
        },
      ],
    });
    new IamRolePolicy(this, 'instance-role-access', {
      name: 'own-secrets-bundle-and-lifecycle',
      role: role.id,
      policy: ownAccess.json,
    });
    const profile = new IamInstanceProfile(this, 'instance-profile', {
      name: `${prefix}-gateway`,
      role: role.name,
    });

    const userData = renderUserData({
      region: options.region,
      paramPrefix: this.paramPrefix,
      bundleKey: this.bundleKey,
      nodeMajor: compute.nodeMajor,
      port: PORTS.gateway,
      appLogGroupName: options.appLogGroupName,
      metricsLogGroupName: options.metricsLogGroupName,
      drainTimeoutMs: socket.drainTimeoutMs,
      autoScalingGroupName: this.autoScalingGroupName,
      lifecycleHookName: LIFECYCLE_HOOK_NAME,
      lifecyclePollSeconds: options.lifecycle.pollSeconds,
    });
    const resourceTags = { ...options.tags, Name: `${prefix}-gateway` };
    const template = new LaunchTemplate(this, 'launch-template', {
      name: `${prefix}-gateway`,
      // Pinned (a deploy input): a new AMI is a reviewed change that rolls the fleet on purpose.
      imageId: options.amiId,
      instanceType: compute.instanceType,
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: [options.securityGroupId],
      userData: Buffer.from(userData, 'utf8').toString('base64'),
      updateDefaultVersion: true,
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpTokens: 'required',
        httpPutResponseHopLimit: 1,
      },
      monitoring: { enabled: true },
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          ebs: {
            volumeSize: 20,
            volumeType: 'gp3',
            encrypted: 'true',
            deleteOnTermination: 'true',
          },
        },
      ],
      // Default tags reach neither what the group launches nor its disks; these do.
      tagSpecifications: [
        { resourceType: 'instance', tags: resourceTags },
        { resourceType: 'volume', tags: resourceTags },
      ],
      tags: resourceTags,
    });

    const scales = compute.maxInstances > compute.minInstances;
    const fullCapacity = { minHealthyPercentage: 100, maxHealthyPercentage: 200 };
    this.autoScalingGroup = new AutoscalingGroup(this, 'asg', {
      name: this.autoScalingGroupName,
      minSize: compute.minInstances,
      maxSize: compute.maxInstances,
      desiredCapacity: compute.desiredInstances,
      vpcZoneIdentifier: options.privateSubnetIds,
      targetGroupArns: [options.targetGroupArn],
      // The target check (/health) fails only for what is wrong with this instance (draining, its
      // own process), never for a shared dependency, so ELB health can replace broken instances
      // without a Redis or DocumentDB failover replacing the whole fleet.
      healthCheckType: 'ELB',
      // Boot installs Node and the log agent, fetches the bundle and connects to the data stores.
      healthCheckGracePeriod: 420,
      defaultInstanceWarmup: 300,
      launchTemplate: { id: template.id, version: template.latestVersion.toString() },
      // Launch before terminate for every replacement, not only refreshes.
      instanceMaintenancePolicy: fullCapacity,
      instanceRefresh: {
        strategy: 'Rolling',
        preferences: {
          ...fullCapacity,
          instanceWarmup: '300',
          skipMatching: true,
          autoRollback: true,
          alarmSpecification: { alarms: options.rollbackAlarmNames },
          scaleInProtectedInstances: 'Refresh',
          standbyInstances: 'Terminate',
        },
      },
      // Exists before the first instance, so every termination drains.
      initialLifecycleHook: [
        {
          name: LIFECYCLE_HOOK_NAME,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: options.lifecycle.heartbeatTimeoutSeconds,
          defaultResult: 'CONTINUE',
        },
      ],
      // The apply fails (instead of reporting success) when the fleet never gets healthy.
      waitForElbCapacity: compute.minInstances,
      waitForCapacityTimeout: '20m',
      enabledMetrics: [
        'GroupInServiceInstances',
        'GroupDesiredCapacity',
        'GroupTerminatingInstances',
      ],
      tag: Object.entries(resourceTags).map(([key, value]) => ({
        key,
        value,
        propagateAtLaunch: true,
      })),
      dependsOn: [...options.dependsOn, ...parameters, bundleObject],
      ...(scales ? { lifecycle: { ignoreChanges: ['desired_capacity'] } } : {}),
    });
    if (scales) {
      new AutoscalingPolicy(this, 'cpu-target', {
        name: `${prefix}-gateway-cpu`,
        autoscalingGroupName: this.autoScalingGroup.name,
        policyType: 'TargetTrackingScaling',
        targetTrackingConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: 'ASGAverageCPUUtilization' },
          targetValue: 60,
        },
      });
    }
  }
}
