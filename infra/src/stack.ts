import type { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import {
  redisNodeIds,
  validateEnvironment,
  type EnvironmentConfig,
} from './config/environments.js';
import { Cache } from './constructs/cache.js';
import { Compute } from './constructs/compute.js';
import { Database } from './constructs/database.js';
import { LoadBalancer } from './constructs/load-balancer.js';
import { Monitoring, appLogGroupName } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { Security } from './constructs/security.js';

export interface ChatStackOptions {
  readonly config: EnvironmentConfig;
  /** Directory uploaded as the gateway bundle (see src/bundle.ts). */
  readonly bundleDir: string;
}

/** The whole chat deployment of one environment: VPC to alarms. */
export class ChatStack extends TerraformStack {
  constructor(scope: Construct, id: string, options: ChatStackOptions) {
    super(scope, id);
    const { config } = options;
    validateEnvironment(config);
    const prefix = config.stackName;
    const isProd = config.name === 'prod';

    new AwsProvider(this, 'aws', {
      region: config.region,
      defaultTags: [
        { tags: { Project: 'jobsphere-chat', Environment: config.name, ManagedBy: 'cdktf' } },
      ],
    });
    new RandomProvider(this, 'random');

    const network = new Network(this, 'network', {
      namePrefix: prefix,
      region: config.region,
      cidr: config.vpcCidr,
      availabilityZones: config.availabilityZones,
      natGateways: config.natGateways,
      flowLogRetentionDays: config.logRetentionDays,
    });
    const security = new Security(this, 'security', { namePrefix: prefix, vpcId: network.vpc.id });
    const secretRecoveryWindowDays = isProd ? 30 : 0;

    const cache = new Cache(this, 'cache', {
      namePrefix: prefix,
      redis: config.redis,
      subnetIds: network.privateSubnetIds,
      securityGroupId: security.redisSecurityGroupId,
      kmsKeyArn: security.kmsKeyArn,
      logRetentionDays: config.logRetentionDays,
      secretRecoveryWindowDays,
      finalSnapshot: isProd,
    });
    const database = new Database(this, 'database', {
      namePrefix: prefix,
      database: config.database,
      subnetIds: network.privateSubnetIds,
      securityGroupId: security.docdbSecurityGroupId,
      kmsKeyArn: security.kmsKeyArn,
    });
    const loadBalancer = new LoadBalancer(this, 'load-balancer', {
      namePrefix: prefix,
      vpcId: network.vpc.id,
      publicSubnetIds: network.publicSubnetIds,
      securityGroupId: security.albSecurityGroupId,
      hostedZoneName: config.hostedZoneName,
      domainName: config.domainName,
      settings: config.loadBalancer,
      stickySessions: config.socket.longPolling,
      deletionProtection: isProd,
    });
    const logGroupName = appLogGroupName(prefix);
    const compute = new Compute(this, 'compute', {
      namePrefix: prefix,
      region: config.region,
      compute: config.compute,
      socket: config.socket,
      privateSubnetIds: network.privateSubnetIds,
      securityGroupId: security.appSecurityGroupId,
      targetGroupArn: loadBalancer.targetGroup.arn,
      kmsKeyArn: security.kmsKeyArn,
      bundleDir: options.bundleDir,
      appLogGroupName: logGroupName,
      clientUrl: config.clientUrl,
      redis: {
        host: cache.endpoint,
        port: cache.port,
        cluster: config.redis.clusterMode,
        secretArn: cache.authSecretArn,
      },
      docdb: { host: database.endpoint, secretArn: database.masterSecretArn },
      secretRecoveryWindowDays,
      dependsOn: [cache.replicationGroup, database.cluster],
    });
    const monitoring = new Monitoring(this, 'monitoring', {
      namePrefix: prefix,
      alarmEmail: config.alarmEmail,
      appLogGroupName: logGroupName,
      logRetentionDays: config.logRetentionDays,
      redisNodeIds: redisNodeIds(cache.replicationGroupId, config.redis),
      docdbClusterId: database.cluster.clusterIdentifier,
      albArnSuffix: loadBalancer.alb.arnSuffix,
      targetGroupArnSuffix: loadBalancer.targetGroup.arnSuffix,
    });

    const output = (id: string, value: string, description: string) =>
      new TerraformOutput(this, id, { value, description });
    output('alb_dns_name', loadBalancer.alb.dnsName, 'ALB DNS name');
    output('gateway_url', `https://${config.domainName}`, 'Public URL of the chat gateway');
    output(
      'redis_endpoint',
      cache.endpoint,
      'Redis configuration (cluster mode) or primary endpoint',
    );
    output('docdb_endpoint', database.endpoint, 'DocumentDB cluster (writer) endpoint');
    output('docdb_reader_endpoint', database.readerEndpoint, 'DocumentDB reader endpoint');
    output(
      'redis_auth_secret_arn',
      cache.authSecretArn,
      'Secrets Manager ARN of the Redis AUTH token',
    );
    output(
      'docdb_master_secret_arn',
      database.masterSecretArn,
      'Secrets Manager ARN of the DocumentDB master user',
    );
    output('jwt_secret_arn', compute.jwtSecretArn, 'Secrets Manager ARN of the gateway JWT secret');
    output('ssm_parameter_prefix', compute.paramPrefix, 'SSM path of the gateway configuration');
    output('alarm_topic_arn', monitoring.topicArn, 'SNS topic of the CloudWatch alarms');
  }
}
