import { Construct } from 'constructs';
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group/index.js';
import { AutoscalingPolicy } from '@cdktf/provider-aws/lib/autoscaling-policy/index.js';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter/index.js';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object/index.js';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret/index.js';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter/index.js';
import { Password } from '@cdktf/provider-random/lib/password/index.js';
import type { ComputeConfig, SocketConfig } from '../config/environments.js';
import { PORTS } from './security.js';
import { renderUserData } from './user-data.js';

export interface ComputeOptions {
  readonly namePrefix: string;
  readonly region: string;
  readonly compute: ComputeConfig;
  readonly socket: SocketConfig;
  readonly privateSubnetIds: string[];
  readonly securityGroupId: string;
  readonly targetGroupArn: string;
  readonly kmsKeyArn: string;
  /** Directory uploaded as the gateway bundle (`dist/` + `package.json` + production `node_modules`). */
  readonly bundleDir: string;
  readonly appLogGroupName: string;
  readonly clientUrl: string;
  readonly redis: {
    readonly host: string;
    readonly port: number;
    readonly cluster: boolean;
    readonly secretArn: string;
  };
  readonly docdb: { readonly host: string; readonly secretArn: string };
  readonly secretRecoveryWindowDays: number;
  /** Instances start only after these exist (the data stores they connect to at boot). */
  readonly dependsOn: ITerraformDependable[];
}

const AL2023_AMI_PARAMETER =
  '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

/**
 * The gateway fleet: the bundle as an S3 asset, SSM parameters and secrets the boot script turns
 * into the service's environment, an instance role that can read only those, a launch template
 * (IMDSv2, encrypted disk, no key pair) and an Auto Scaling group across both private subnets,
 * registered in the ALB target group and rolled when the template changes.
 */
export class Compute extends Construct {
  readonly autoScalingGroup: AutoscalingGroup;
  readonly jwtSecretArn: string;
  readonly paramPrefix: string;
  readonly bundleKey: string;

  constructor(scope: Construct, id: string, options: ComputeOptions) {
    super(scope, id);
    const { namePrefix: prefix, compute, socket } = options;
    this.paramPrefix = `/${prefix}`;

    // Gateway bundle, content-addressed so a new build yields a new key and a new launch template.
    const bundle = new TerraformAsset(this, 'gateway-bundle', {
      path: options.bundleDir,
      type: AssetType.ARCHIVE,
    });
    this.bundleKey = `gateway/${bundle.assetHash}/${bundle.fileName}`;
    const bucket = new S3Bucket(this, 'artifacts', {
      bucketPrefix: `${prefix}-artifacts-`,
      forceDestroy: true,
    });
    new S3BucketPublicAccessBlock(this, 'artifacts-public-access', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'artifacts-encryption', {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
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
      sourceHash: bundle.assetHash,
    });

    // The JWT secret is shared with whatever issues the tokens: the stack seeds a random value and
    // then leaves it alone, so operators can put the issuer's secret in place.
    const jwtSeed = new Password(this, 'jwt-secret-seed', { length: 64, special: false });
    const jwtSecret = new SecretsmanagerSecret(this, 'jwt-secret', {
      name: `${prefix}/jwt-secret`,
      description: 'JWT_SECRET of the JobSphere chat gateway (must match the token issuer)',
      kmsKeyId: options.kmsKeyArn,
      recoveryWindowInDays: options.secretRecoveryWindowDays,
    });
    const jwtSecretValue = new SecretsmanagerSecretVersion(this, 'jwt-secret-value', {
      secretId: jwtSecret.id,
      secretString: jwtSeed.result,
      lifecycle: { ignoreChanges: ['secret_string'] },
    });
    this.jwtSecretArn = jwtSecret.arn;

    // One parameter per plain environment variable, plus the wiring the boot script needs.
    const plainEnv: Record<string, string> = {
      CLIENT_URL: options.clientUrl,
      REDIS_HOST: options.redis.host,
      REDIS_PORT: String(options.redis.port),
      REDIS_TLS: 'true',
      REDIS_CLUSTER: String(options.redis.cluster),
      SOCKET_PING_INTERVAL_MS: String(socket.pingIntervalMs),
      SOCKET_PING_TIMEOUT_MS: String(socket.pingTimeoutMs),
    };
    const wiring: Record<string, string> = {
      'bundle-bucket': bucket.bucket,
      'redis-secret-arn': options.redis.secretArn,
      'jwt-secret-arn': jwtSecret.arn,
      'docdb-secret-arn': options.docdb.secretArn,
      'docdb-endpoint': options.docdb.host,
    };
    const parameters = [
      ...Object.entries(plainEnv).map(([name, value]) => [`env/${name}`, value] as const),
      ...Object.entries(wiring).map(([name, value]) => [`config/${name}`, value] as const),
    ].map(
      ([name, value]) =>
        new SsmParameter(this, `param-${name.replace('/', '-')}`, {
          name: `${this.paramPrefix}/${name}`,
          type: 'String',
          value,
        }),
    );

    const identity = new DataAwsCallerIdentity(this, 'identity');
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
    for (const [name, policy] of [
      ['ssm', 'AmazonSSMManagedInstanceCore'],
      ['cloudwatch-agent', 'CloudWatchAgentServerPolicy'],
    ] as const) {
      new IamRolePolicyAttachment(this, `instance-role-${name}`, {
        role: role.name,
        policyArn: `arn:aws:iam::aws:policy/${policy}`,
      });
    }
    const ownAccess = new DataAwsIamPolicyDocument(this, 'instance-access', {
      statement: [
        {
          sid: 'ReadOwnSecrets',
          effect: 'Allow',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [options.redis.secretArn, jwtSecret.arn, options.docdb.secretArn],
        },
        {
          sid: 'DecryptOwnSecrets',
          effect: 'Allow',
          actions: ['kms:Decrypt'],
          resources: [options.kmsKeyArn],
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
            `arn:aws:ssm:${options.region}:${identity.accountId}:parameter${this.paramPrefix}`,
            `arn:aws:ssm:${options.region}:${identity.accountId}:parameter${this.paramPrefix}/*`,
          ],
        },
        {
          sid: 'ReadGatewayBundle',
          effect: 'Allow',
          actions: ['s3:GetObject'],
          resources: [`${bucket.arn}/gateway/*`],
        },
      ],
    });
    new IamRolePolicy(this, 'instance-role-access', {
      name: 'own-secrets-and-bundle',
      role: role.id,
      policy: ownAccess.json,
    });
    const profile = new IamInstanceProfile(this, 'instance-profile', {
      name: `${prefix}-gateway`,
      role: role.name,
    });

    const ami = new DataAwsSsmParameter(this, 'al2023-ami', { name: AL2023_AMI_PARAMETER });
    const userData = renderUserData({
      region: options.region,
      paramPrefix: this.paramPrefix,
      bundleKey: this.bundleKey,
      nodeMajor: compute.nodeMajor,
      port: PORTS.gateway,
      appLogGroupName: options.appLogGroupName,
      drainTimeoutMs: socket.drainTimeoutMs,
    });
    const template = new LaunchTemplate(this, 'launch-template', {
      name: `${prefix}-gateway`,
      // insecure_value: the AMI id is public, and plans stay readable (value is marked sensitive).
      imageId: ami.insecureValue,
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
      tagSpecifications: [
        { resourceType: 'instance', tags: { Name: `${prefix}-gateway` } },
        { resourceType: 'volume', tags: { Name: `${prefix}-gateway` } },
      ],
    });

    const scales = compute.maxInstances > compute.minInstances;
    this.autoScalingGroup = new AutoscalingGroup(this, 'asg', {
      name: `${prefix}-gateway`,
      minSize: compute.minInstances,
      maxSize: compute.maxInstances,
      desiredCapacity: compute.desiredInstances,
      vpcZoneIdentifier: options.privateSubnetIds,
      targetGroupArns: [options.targetGroupArn],
      healthCheckType: 'ELB',
      // Boot installs Node, fetches the bundle and waits for Redis and DocumentDB.
      healthCheckGracePeriod: 420,
      defaultInstanceWarmup: 300,
      launchTemplate: { id: template.id, version: template.latestVersion.toString() },
      instanceRefresh: {
        strategy: 'Rolling',
        preferences: { minHealthyPercentage: 50, instanceWarmup: '300' },
      },
      enabledMetrics: [
        'GroupInServiceInstances',
        'GroupDesiredCapacity',
        'GroupTerminatingInstances',
      ],
      tag: [{ key: 'Name', value: `${prefix}-gateway`, propagateAtLaunch: true }],
      dependsOn: [...options.dependsOn, ...parameters, bundleObject, jwtSecretValue],
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
