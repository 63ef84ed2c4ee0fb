import type { Construct } from 'constructs';
import { S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import type { ResolvedBundle } from './bundle.js';
import {
  redisNodeIds,
  validateEnvironment,
  type EnvironmentConfig,
} from './config/environments.js';
import { placeEnvironment, type DeployInputs } from './config/inputs.js';
import { Attachments } from './constructs/attachments.js';
import { Cache } from './constructs/cache.js';
import { Compute, autoScalingGroupName } from './constructs/compute.js';
import { DOCDB_DATABASE, Database } from './constructs/database.js';
import { DocdbAppUser } from './constructs/docdb-app-user.js';
import { Keys } from './constructs/keys.js';
import { LoadBalancer } from './constructs/load-balancer.js';
import {
  Monitoring,
  appLogGroupName,
  metricsLogGroupName,
  rollbackAlarmNames,
} from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { PlatformSecrets } from './constructs/platform-secrets.js';
import { Security } from './constructs/security.js';

export interface ChatStackOptions {
  readonly config: EnvironmentConfig;
  readonly inputs: DeployInputs;
  readonly gatewayBundle: ResolvedBundle;
  readonly rotationBundle: ResolvedBundle;
}

/** Created by scripts/bootstrap-state.sh; the state is encrypted with it. */
export const STATE_KMS_ALIAS = 'alias/jobsphere-chat-tfstate';
/** Terraform >= 1.10 (or OpenTofu >= 1.10) for S3-native state locking (use_lockfile). */
export const REQUIRED_TERRAFORM = '>= 1.10.0';

export function stateKey(stackName: string): string {
  return `jobsphere-chat/${stackName}.tfstate`;
}

/** The whole chat deployment of one environment: VPC to alarms. */
export class ChatStack extends TerraformStack {
  constructor(scope: Construct, id: string, options: ChatStackOptions) {
    super(scope, id);
    const { inputs } = options;
    const config = placeEnvironment(options.config, inputs);
    validateEnvironment(config);
    const prefix = config.stackName;
    const isProd = config.name === 'prod';
    const tags = { Project: 'jobsphere-chat', Environment: config.name, ManagedBy: 'cdktf' };

    // Remote state: S3 with S3-native locking, encrypted with the state key, one object per stack.
    const backend = new S3Backend(this, {
      bucket: inputs.stateBucket,
      key: stateKey(prefix),
      region: config.region,
      encrypt: true,
      kmsKeyId: STATE_KMS_ALIAS,
    });
    backend.addOverride('use_lockfile', true);
    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM);

    new AwsProvider(this, 'aws', { region: config.region, defaultTags: [{ tags }] });
    new RandomProvider(this, 'random');

    const keys = new Keys(this, 'keys', { namePrefix: prefix, region: config.region });
    const network = new Network(this, 'network', {
      namePrefix: prefix,
      region: config.region,
      cidr: config.vpcCidr,
      availabilityZones: config.availabilityZones,
      natGateways: config.natGateways,
      flowLogRetentionDays: config.logRetentionDays,
      kmsKeyArn: keys.kmsKeyArn,
    });
    const security = new Security(this, 'security', {
      namePrefix: prefix,
      vpcId: network.vpc.id,
      privateLinkEndpoints: config.privateLinkEndpoints,
    });
    if (security.endpointsSecurityGroupId)
      network.addInterfaceEndpoints(security.endpointsSecurityGroupId);
    const secretRecoveryWindowDays = isProd ? 30 : 0;

    const cache = new Cache(this, 'cache', {
      namePrefix: prefix,
      redis: config.redis,
      subnetIds: network.privateSubnetIds,
      securityGroupId: security.redisSecurityGroupId,
      kmsKeyArn: keys.kmsKeyArn,
      logRetentionDays: config.logRetentionDays,
      secretRecoveryWindowDays,
      finalSnapshot: isProd,
    });
    const database = new Database(this, 'database', {
      namePrefix: prefix,
      database: config.database,
      subnetIds: network.privateSubnetIds,
      securityGroupId: security.docdbSecurityGroupId,
      kmsKeyArn: keys.kmsKeyArn,
      logRetentionDays: config.logRetentionDays,
      snapshotIdentifier: inputs.docdbSnapshotIdentifier,
    });
    const appUser = new DocdbAppUser(this, 'docdb-app-user', {
      namePrefix: prefix,
      region: config.region,
      kmsKeyArn: keys.kmsKeyArn,
      logRetentionDays: config.logRetentionDays,
      rotationDays: config.database.appUserRotationDays,
      recoveryWindowDays: secretRecoveryWindowDays,
      bundle: options.rotationBundle,
      subnetIds: network.privateSubnetIds,
      securityGroupId: security.rotationSecurityGroupId,
      docdb: {
        host: database.endpoint,
        port: database.port,
        database: DOCDB_DATABASE,
        masterSecretArn: database.masterSecretArn,
      },
      // The first rotation creates the users: it needs the writer.
      dependsOn: database.instances,
    });
    const loadBalancer = new LoadBalancer(this, 'load-balancer', {
      namePrefix: prefix,
      accountId: keys.accountId,
      vpcId: network.vpc.id,
      publicSubnetIds: network.publicSubnetIds,
      securityGroupId: security.albSecurityGroupId,
      hostedZoneId: inputs.hostedZoneId,
      domainName: inputs.domainName,
      settings: config.loadBalancer,
      stickySessions: config.socket.longPolling,
      deletionProtection: isProd,
      kmsKeyArn: keys.kmsKeyArn,
      logRetentionDays: config.logRetentionDays,
    });
    const attachments = new Attachments(this, 'attachments', {
      namePrefix: prefix,
      kmsKeyArn: keys.kmsKeyArn,
      clientOrigins: inputs.clientUrl.split(',').map((o) => o.trim()),
      forceDestroy: !isProd,
    });
    const platform = new PlatformSecrets(this, 'platform-secrets', {
      namePrefix: prefix,
      kmsKeyArn: keys.kmsKeyArn,
      recoveryWindowDays: secretRecoveryWindowDays,
      serviceTokenSecretArn: inputs.serviceTokenSecretArn,
      webhooks: inputs.webhookUrls ? { secretArn: inputs.webhookSecretArn } : undefined,
    });
    const compute = new Compute(this, 'compute', {
      namePrefix: prefix,
      region: config.region,
      accountId: keys.accountId,
      tags,
      compute: config.compute,
      socket: config.socket,
      lifecycle: config.lifecycle,
      amiId: inputs.amiId,
      privateSubnetIds: network.privateSubnetIds,
      securityGroupId: security.appSecurityGroupId,
      targetGroupArn: loadBalancer.targetGroup.arn,
      kmsKeyArn: keys.kmsKeyArn,
      bundle: options.gatewayBundle,
      appLogGroupName: appLogGroupName(prefix),
      metricsLogGroupName: metricsLogGroupName(prefix),
      clientUrl: inputs.clientUrl,
      attachmentsBucket: attachments.bucketName,
      redis: {
        host: cache.endpoint,
        port: cache.port,
        cluster: config.redis.clusterMode,
        secretArn: cache.authSecretArn,
      },
      docdb: { host: database.endpoint, database: DOCDB_DATABASE, secretArn: appUser.secretArn },
      env: gatewayEnv(inputs),
      secretEnv: {
        ...(inputs.jwtSecretArn && { JWT_SECRET: inputs.jwtSecretArn }),
        ...platform.secretEnv,
      },
      secretKmsKeyArns: inputs.jwtSecretKmsKeyArn ? [inputs.jwtSecretKmsKeyArn] : [],
      rollbackAlarmNames: rollbackAlarmNames(prefix),
      // Instances boot against a Redis primary, a DocumentDB writer with the app user, and a
      // listener that routes to them.
      dependsOn: [
        cache.replicationGroup,
        ...database.instances,
        appUser.rotation,
        loadBalancer.httpsListener,
      ],
    });
    attachments.grantTo(compute.instanceRoleName, config.region);
    const monitoring = new Monitoring(this, 'monitoring', {
      namePrefix: prefix,
      alarmEmail: inputs.alarmEmail,
      kmsKeyArn: keys.kmsKeyArn,
      logRetentionDays: config.logRetentionDays,
      redisNodeIds: redisNodeIds(cache.replicationGroupId, config.redis),
      redisReplicated: config.redis.replicasPerShard > 0,
      docdbInstanceIds: database.instanceIdentifiers,
      albArnSuffix: loadBalancer.alb.arnSuffix,
      targetGroupArnSuffix: loadBalancer.targetGroup.arnSuffix,
      autoScalingGroupName: autoScalingGroupName(prefix),
      minInstances: config.compute.minInstances,
    });

    const output = (id: string, value: string, description: string) =>
      new TerraformOutput(this, id, { value, description });
    output('alb_dns_name', loadBalancer.alb.dnsName, 'ALB DNS name');
    output('gateway_url', `https://${inputs.domainName}`, 'Public URL of the chat gateway');
    output(
      'redis_endpoint',
      cache.endpoint,
      'Redis configuration (cluster mode) or primary endpoint',
    );
    output('redis_replication_group_id', cache.replicationGroupId, 'ElastiCache replication group');
    output(
      'redis_auth_secret_arn',
      cache.authSecretArn,
      'Secrets Manager ARN of the Redis AUTH token',
    );
    output('docdb_endpoint', database.endpoint, 'DocumentDB cluster (writer) endpoint');
    output('docdb_reader_endpoint', database.readerEndpoint, 'DocumentDB reader endpoint');
    output('docdb_cluster_id', database.clusterIdentifier, 'DocumentDB cluster identifier');
    output(
      'docdb_master_secret_arn',
      database.masterSecretArn,
      'DocumentDB master user (rotation function only)',
    );
    output('docdb_app_secret_arn', appUser.secretArn, 'DocumentDB application user of the gateway');
    output(
      'docdb_rotation_function',
      appUser.functionName,
      'Lambda that rotates the application user',
    );
    output(
      'autoscaling_group_name',
      compute.autoScalingGroupName,
      'Auto Scaling group of the gateways',
    );
    output('artifacts_bucket', compute.artifactsBucket, 'Versioned bucket of the gateway bundles');
    output('ssm_parameter_prefix', compute.paramPrefix, 'SSM path of the gateway configuration');
    output('alarm_topic_arn', monitoring.topicArn, 'SNS topic of the CloudWatch alarms');
    output(
      'service_token_secret_arn',
      platform.serviceTokenSecretArn,
      "Secret of the server API's service tokens (JobSphere's backend signs with it)",
    );
    if (platform.webhookSecretArn)
      output(
        'webhook_secret_arn',
        platform.webhookSecretArn,
        "Standard Webhooks secret (JobSphere's backend verifies the events with it)",
      );
    output('app_log_group', monitoring.appLogGroupName, 'CloudWatch log group of the gateways');
  }
}

/** The gateway's plain settings that come from the inputs: the identity provider, the webhooks. */
function gatewayEnv(inputs: DeployInputs): Record<string, string> {
  const fromInputs: [variable: string, value: string | undefined][] = [
    ['JWT_JWKS_URL', inputs.jwtJwksUrl],
    ['JWT_ISSUER', inputs.jwtIssuer],
    ['JWT_AUDIENCE', inputs.jwtAudience],
    ['JWT_AUDIENCE_CLAIM', inputs.jwtAudienceClaim],
    ['JWT_USER_ID_CLAIM', inputs.jwtUserIdClaim],
    ['JWT_ROLE_CLAIM', inputs.jwtRoleClaim],
    ['JWT_ROLE_MAP', inputs.jwtRoleMap],
    ['JWT_DEFAULT_ROLE', inputs.jwtDefaultRole],
    ['JWT_COMPANY_CLAIM', inputs.jwtCompanyClaim],
    ['WEBHOOK_URLS', inputs.webhookUrls],
  ];
  return Object.fromEntries(
    fromInputs.filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
