import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { ElasticacheParameterGroup } from '@cdktf/provider-aws/lib/elasticache-parameter-group/index.js';
import { ElasticacheReplicationGroup } from '@cdktf/provider-aws/lib/elasticache-replication-group/index.js';
import { ElasticacheSubnetGroup } from '@cdktf/provider-aws/lib/elasticache-subnet-group/index.js';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret/index.js';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js';
import { Password } from '@cdktf/provider-random/lib/password/index.js';
import type { RedisConfig } from '../config/environments.js';
import { SKIP_REASONS, skipCheck } from './checkov-skip.js';
import { PORTS } from './security.js';

export interface CacheOptions {
  readonly namePrefix: string;
  readonly redis: RedisConfig;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** Days Secrets Manager keeps a deleted secret (0 deletes at once; dev only). */
  readonly secretRecoveryWindowDays: number;
  /** Take a final snapshot when the replication group is destroyed. */
  readonly finalSnapshot: boolean;
}

/**
 * ElastiCache for Redis 7: subnet group, parameter group, replication group with TLS, AUTH and
 * KMS encryption at rest, daily snapshots in the guide's 03:00-05:00 window and the slow log in
 * CloudWatch (KMS). The first AUTH token is a random_password: it lives in the encrypted remote
 * state and in Secrets Manager, never as a literal in the synthesized JSON; rotations replace it
 * outside Terraform (scripts/rotate-redis-auth.sh), which makes the state's copy worthless.
 */
export class Cache extends Construct {
  readonly replicationGroup: ElasticacheReplicationGroup;
  readonly authSecretArn: string;
  /** Configuration endpoint (cluster mode on) or primary endpoint (cluster mode off). */
  readonly endpoint: string;
  readonly port = PORTS.redis;
  readonly replicationGroupId: string;

  constructor(scope: Construct, id: string, options: CacheOptions) {
    super(scope, id);
    const { namePrefix: prefix, redis } = options;
    this.replicationGroupId = `${prefix}-redis`;

    const subnetGroup = new ElasticacheSubnetGroup(this, 'subnets', {
      name: `${prefix}-redis`,
      description: 'JobSphere chat Redis: private subnets in both AZs',
      subnetIds: options.subnetIds,
    });
    const parameters = new ElasticacheParameterGroup(this, 'parameters', {
      name: `${prefix}-redis7`,
      family: 'redis7',
      description: `JobSphere chat Redis 7, cluster mode ${redis.clusterMode ? 'on' : 'off'}`,
      parameter: [{ name: 'cluster-enabled', value: redis.clusterMode ? 'yes' : 'no' }],
    });

    // ElastiCache AUTH tokens: 16-128 printable characters, no '/', '"' or '@'.
    const token = new Password(this, 'auth-token', {
      length: 64,
      special: true,
      overrideSpecial: '!&#$^<>-',
      minLower: 4,
      minUpper: 4,
      minNumeric: 4,
    });
    const secret = new SecretsmanagerSecret(this, 'auth-secret', {
      name: `${prefix}/redis-auth-token`,
      description: 'AUTH token of the JobSphere chat Redis replication group (REDIS_PASSWORD)',
      kmsKeyId: options.kmsKeyArn,
      recoveryWindowInDays: options.secretRecoveryWindowDays,
    });
    skipCheck(
      secret,
      'CKV2_AWS_57',
      'rotated by scripts/rotate-redis-auth.sh (ElastiCache AUTH ROTATE then SET, with the gateways reloading in between), which a Secrets Manager rotation function cannot sequence',
    );
    // Terraform sets the first token only; scripts/rotate-redis-auth.sh owns it afterwards
    // (ROTATE, then SET), so neither the secret nor the replication group may be reverted here.
    new SecretsmanagerSecretVersion(this, 'auth-secret-value', {
      secretId: secret.id,
      secretString: token.result,
      lifecycle: { ignoreChanges: ['secret_string'] },
    });
    this.authSecretArn = secret.arn;

    const slowLog = new CloudwatchLogGroup(this, 'slow-log', {
      name: `/jobsphere-chat/${prefix}/redis-slow-log`,
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    const engineLog = new CloudwatchLogGroup(this, 'engine-log', {
      name: `/jobsphere-chat/${prefix}/redis-engine-log`,
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    for (const group of [slowLog, engineLog])
      skipCheck(group, 'CKV_AWS_338', SKIP_REASONS.logRetention);

    const replicated = redis.replicasPerShard > 0;
    this.replicationGroup = new ElasticacheReplicationGroup(this, 'redis', {
      replicationGroupId: this.replicationGroupId,
      description: 'JobSphere chat Socket.IO adapter, presence and rate limits',
      engine: 'redis',
      engineVersion: redis.engineVersion,
      nodeType: redis.nodeType,
      port: PORTS.redis,
      parameterGroupName: parameters.name,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [options.securityGroupId],
      clusterMode: redis.clusterMode ? 'enabled' : 'disabled',
      ...(redis.clusterMode
        ? { numNodeGroups: redis.shards, replicasPerNodeGroup: redis.replicasPerShard }
        : { numCacheClusters: 1 + redis.replicasPerShard }),
      automaticFailoverEnabled: replicated,
      multiAzEnabled: replicated,
      atRestEncryptionEnabled: 'true',
      kmsKeyId: options.kmsKeyArn,
      transitEncryptionEnabled: true,
      authToken: token.result,
      authTokenUpdateStrategy: 'ROTATE',
      lifecycle: { ignoreChanges: ['auth_token', 'auth_token_update_strategy'] },
      snapshotRetentionLimit: 7,
      snapshotWindow: '03:00-05:00',
      maintenanceWindow: 'sun:05:30-sun:06:30',
      autoMinorVersionUpgrade: 'true',
      ...(options.finalSnapshot ? { finalSnapshotIdentifier: `${prefix}-redis-final` } : {}),
      logDeliveryConfiguration: [
        {
          destination: slowLog.name,
          destinationType: 'cloudwatch-logs',
          logFormat: 'json',
          logType: 'slow-log',
        },
        {
          destination: engineLog.name,
          destinationType: 'cloudwatch-logs',
          logFormat: 'json',
          logType: 'engine-log',
        },
      ],
    });
    if (!replicated)
      skipCheck(
        this.replicationGroup,
        'CKV2_AWS_50',
        'this environment runs one node without replicas (redis.replicasPerShard 0, dev): nothing to fail over to; prod has replicas with Multi-AZ failover',
      );

    this.endpoint = redis.clusterMode
      ? this.replicationGroup.configurationEndpointAddress
      : this.replicationGroup.primaryEndpointAddress;
  }
}
