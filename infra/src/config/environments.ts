/**
 * Typed per-environment configuration. Every size, count and address the stacks use comes from
 * here; constructs take their options from this object and never read the process environment.
 */
export type EnvironmentName = 'dev' | 'prod';

export interface RedisConfig {
  /** ElastiCache node type, e.g. cache.t3.micro. */
  readonly nodeType: string;
  /** Cluster mode on (sharded, Socket.IO sharded adapter) or off (one primary, optional replicas). */
  readonly clusterMode: boolean;
  /** Shards when cluster mode is on; ignored (1) when off. */
  readonly shards: number;
  /** Replicas per shard (cluster mode on) or replicas of the single primary (cluster mode off). */
  readonly replicasPerShard: number;
  readonly engineVersion: string;
}

export interface DatabaseConfig {
  readonly instanceClass: string;
  readonly instances: number;
  readonly engineVersion: string;
  readonly backupRetentionDays: number;
  /** Deletion protection plus a final snapshot on destroy. */
  readonly protectFromDeletion: boolean;
}

export interface ComputeConfig {
  readonly instanceType: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly desiredInstances: number;
  /** Node.js major from the Amazon Linux 2023 repositories (nodejs22 / nodejs24 packages). */
  readonly nodeMajor: 22 | 24;
}

export interface SocketConfig {
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  /** Gateway's SIGTERM drain bound; systemd waits longer than this before SIGKILL. */
  readonly drainTimeoutMs: number;
  /** Allow the HTTP long-polling transport; only then does the target group need stickiness. */
  readonly longPolling: boolean;
}

export interface LoadBalancerConfig {
  readonly idleTimeoutSeconds: number;
  readonly deregistrationDelaySeconds: number;
}

export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** Terraform stack name: also the prefix of every AWS resource name. */
  readonly stackName: string;
  readonly region: string;
  /** Exactly two AZs: the ALB, the ASG, ElastiCache Multi-AZ and DocumentDB span both. */
  readonly availabilityZones: readonly [string, string];
  readonly vpcCidr: string;
  /** One NAT gateway (cheap, single-AZ egress) or one per AZ. */
  readonly natGateways: 1 | 2;
  /** Public Route 53 hosted zone that holds the gateway's record and the ACM validation records. */
  readonly hostedZoneName: string;
  /** Fully qualified name the ALB answers on (inside the hosted zone). */
  readonly domainName: string;
  /** Browser origin allowed by the gateway's CORS (CLIENT_URL). */
  readonly clientUrl: string;
  readonly alarmEmail: string;
  readonly logRetentionDays: number;
  readonly redis: RedisConfig;
  readonly database: DatabaseConfig;
  readonly compute: ComputeConfig;
  readonly socket: SocketConfig;
  readonly loadBalancer: LoadBalancerConfig;
}

const socketDefaults: SocketConfig = {
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  drainTimeoutMs: 10_000,
  longPolling: false,
};

export const environments: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  dev: {
    name: 'dev',
    stackName: 'jobsphere-chat-dev',
    region: 'us-east-1',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    vpcCidr: '10.40.0.0/16',
    natGateways: 1,
    hostedZoneName: 'jobsphere.com',
    domainName: 'chat.dev.jobsphere.com',
    clientUrl: 'https://dev.jobsphere.com',
    alarmEmail: 'chat-alerts-dev@jobsphere.com',
    logRetentionDays: 14,
    redis: {
      nodeType: 'cache.t3.micro',
      clusterMode: false,
      shards: 1,
      replicasPerShard: 0,
      engineVersion: '7.1',
    },
    database: {
      instanceClass: 'db.t3.medium',
      instances: 1,
      engineVersion: '5.0.0',
      backupRetentionDays: 1,
      protectFromDeletion: false,
    },
    compute: {
      instanceType: 't3.small',
      minInstances: 2,
      maxInstances: 2,
      desiredInstances: 2,
      nodeMajor: 22,
    },
    socket: socketDefaults,
    loadBalancer: { idleTimeoutSeconds: 60, deregistrationDelaySeconds: 20 },
  },
  prod: {
    name: 'prod',
    stackName: 'jobsphere-chat-prod',
    region: 'us-east-1',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    vpcCidr: '10.41.0.0/16',
    natGateways: 2,
    hostedZoneName: 'jobsphere.com',
    domainName: 'chat.jobsphere.com',
    clientUrl: 'https://jobsphere.com',
    alarmEmail: 'chat-alerts@jobsphere.com',
    logRetentionDays: 90,
    redis: {
      nodeType: 'cache.t3.small',
      clusterMode: true,
      shards: 1,
      replicasPerShard: 1,
      engineVersion: '7.1',
    },
    database: {
      instanceClass: 'db.t3.medium',
      instances: 2,
      engineVersion: '5.0.0',
      backupRetentionDays: 7,
      protectFromDeletion: true,
    },
    compute: {
      instanceType: 't3.medium',
      minInstances: 2,
      maxInstances: 4,
      desiredInstances: 2,
      nodeMajor: 22,
    },
    socket: socketDefaults,
    loadBalancer: { idleTimeoutSeconds: 60, deregistrationDelaySeconds: 20 },
  },
};

/** Rejects configurations that would deploy but misbehave; called by the stack constructor. */
export function validateEnvironment(config: EnvironmentConfig): void {
  const problems: string[] = [];
  const { socket, loadBalancer, compute, redis, database } = config;
  const heartbeatSeconds = (socket.pingIntervalMs + socket.pingTimeoutMs) / 1000;
  if (loadBalancer.idleTimeoutSeconds <= heartbeatSeconds) {
    problems.push(
      `ALB idle timeout ${loadBalancer.idleTimeoutSeconds}s must exceed ping interval + timeout (${heartbeatSeconds}s)`,
    );
  }
  if (loadBalancer.deregistrationDelaySeconds * 1000 < socket.drainTimeoutMs) {
    problems.push('deregistration delay must cover the gateway drain timeout');
  }
  if (compute.minInstances < 2) problems.push('at least two gateway instances (one per AZ)');
  if (
    compute.desiredInstances < compute.minInstances ||
    compute.desiredInstances > compute.maxInstances
  ) {
    problems.push('desired instances must lie between min and max');
  }
  if (redis.clusterMode && redis.replicasPerShard < 1) {
    problems.push('cluster mode needs at least one replica per shard (Multi-AZ failover)');
  }
  if (redis.shards < 1) problems.push('Redis needs at least one shard');
  if (!redis.clusterMode && redis.shards !== 1)
    problems.push('cluster mode off means exactly one shard');
  if (database.instances < 1) problems.push('DocumentDB needs at least one instance');
  if (
    !config.domainName.endsWith(`.${config.hostedZoneName}`) &&
    config.domainName !== config.hostedZoneName
  ) {
    problems.push(`domain ${config.domainName} is not inside hosted zone ${config.hostedZoneName}`);
  }
  for (const az of config.availabilityZones) {
    if (!az.startsWith(config.region)) problems.push(`AZ ${az} is not in region ${config.region}`);
  }
  if (problems.length > 0) {
    throw new Error(`Invalid ${config.name} environment: ${problems.join('; ')}`);
  }
}

/** Redis node ids ElastiCache assigns (needed for per-node CloudWatch dimensions). */
export function redisNodeIds(replicationGroupId: string, redis: RedisConfig): string[] {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const perShard = redis.replicasPerShard + 1;
  if (!redis.clusterMode) {
    return Array.from({ length: perShard }, (_, i) => `${replicationGroupId}-${pad(i + 1, 3)}`);
  }
  const ids: string[] = [];
  for (let shard = 1; shard <= redis.shards; shard++) {
    for (let node = 1; node <= perShard; node++) {
      ids.push(`${replicationGroupId}-${pad(shard, 4)}-${pad(node, 3)}`);
    }
  }
  return ids;
}
