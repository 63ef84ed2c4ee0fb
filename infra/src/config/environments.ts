/**
 * Typed per-environment configuration: every size, count, window and switch the stacks use, and
 * nothing that belongs to one AWS account (domain, hosted zone, alarm address, secrets, AMI,
 * state bucket): those are deploy inputs (src/config/inputs.ts), kept outside git. Constructs take
 * their options from these objects and never read the process environment.
 */
export type EnvironmentName = 'dev' | 'prod';
export const ENVIRONMENT_NAMES: readonly EnvironmentName[] = ['dev', 'prod'];

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
  /** Days between rotations of the application user's password (alternating users). */
  readonly appUserRotationDays: number;
}

export type Architecture = 'x86_64' | 'arm64';

export interface ComputeConfig {
  /** t3.* for x86_64; t4g.* (Graviton) for arm64. The AMI input must match the architecture. */
  readonly instanceType: string;
  readonly architecture: Architecture;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly desiredInstances: number;
  /** Node.js major from the Amazon Linux 2023 repositories (nodejs22 / nodejs24 packages). */
  readonly nodeMajor: 22 | 24;
}

export interface SocketConfig {
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  /** Gateway's SIGTERM drain window (SHUTDOWN_DRAIN_MS); systemd waits longer before SIGKILL. */
  readonly drainTimeoutMs: number;
  /** Allow the HTTP long-polling transport; only then does the target group need stickiness. */
  readonly longPolling: boolean;
}

export interface LifecycleConfig {
  /** How often the on-instance watcher reads the IMDS target lifecycle state. */
  readonly pollSeconds: number;
  /** How long a terminating instance may stay in Terminating:Wait before the group goes on. */
  readonly heartbeatTimeoutSeconds: number;
}

export interface LoadBalancerConfig {
  readonly idleTimeoutSeconds: number;
  /** Must cover the watcher's reaction plus the drain: the ALB cuts what is left after it. */
  readonly deregistrationDelaySeconds: number;
  readonly accessLogRetentionDays: number;
  /** AWS WAF rate-based rule: requests per 5 minutes per client IP, or undefined for no WAF. */
  readonly wafRequestsPer5MinPerIp: number | undefined;
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
  /**
   * Interface endpoints (PrivateLink) for the AWS APIs the instances and the rotation function
   * call, so that traffic never leaves the VPC. About $15 per endpoint and month over two AZs.
   */
  readonly privateLinkEndpoints: boolean;
  readonly logRetentionDays: number;
  readonly redis: RedisConfig;
  readonly database: DatabaseConfig;
  readonly compute: ComputeConfig;
  readonly socket: SocketConfig;
  readonly lifecycle: LifecycleConfig;
  readonly loadBalancer: LoadBalancerConfig;
}

const socketDefaults: SocketConfig = {
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  drainTimeoutMs: 10_000,
  longPolling: false,
};

const lifecycleDefaults: LifecycleConfig = { pollSeconds: 5, heartbeatTimeoutSeconds: 300 };

export const environments: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  dev: {
    name: 'dev',
    stackName: 'jobsphere-chat-dev',
    region: 'us-east-1',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    vpcCidr: '10.40.0.0/16',
    natGateways: 1,
    privateLinkEndpoints: false,
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
      appUserRotationDays: 30,
    },
    compute: {
      instanceType: 't3.small',
      architecture: 'x86_64',
      minInstances: 2,
      maxInstances: 2,
      desiredInstances: 2,
      nodeMajor: 22,
    },
    socket: socketDefaults,
    lifecycle: lifecycleDefaults,
    loadBalancer: {
      idleTimeoutSeconds: 60,
      deregistrationDelaySeconds: 60,
      accessLogRetentionDays: 14,
      wafRequestsPer5MinPerIp: undefined,
    },
  },
  prod: {
    name: 'prod',
    stackName: 'jobsphere-chat-prod',
    region: 'us-east-1',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    vpcCidr: '10.41.0.0/16',
    natGateways: 2,
    privateLinkEndpoints: true,
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
      appUserRotationDays: 30,
    },
    compute: {
      instanceType: 't3.medium',
      architecture: 'x86_64',
      minInstances: 2,
      maxInstances: 4,
      desiredInstances: 2,
      nodeMajor: 22,
    },
    socket: socketDefaults,
    lifecycle: lifecycleDefaults,
    loadBalancer: {
      idleTimeoutSeconds: 60,
      deregistrationDelaySeconds: 60,
      accessLogRetentionDays: 90,
      wafRequestsPer5MinPerIp: 3000,
    },
  },
};

/** Seconds systemd waits after SIGTERM: the drain plus time to close Socket.IO, Redis and Mongo. */
export function stopTimeoutSeconds(drainTimeoutMs: number): number {
  return Math.ceil(drainTimeoutMs / 1000) + 15;
}

const GRAVITON = /^(t4g|m[6-8]g|c[6-8]g|r[6-8]g)\./;

/** Rejects configurations that would deploy but misbehave; called by the stack constructor. */
export function validateEnvironment(config: EnvironmentConfig): void {
  const problems: string[] = [];
  const { socket, loadBalancer, lifecycle, compute, redis, database } = config;
  const heartbeatSeconds = (socket.pingIntervalMs + socket.pingTimeoutMs) / 1000;
  if (loadBalancer.idleTimeoutSeconds <= heartbeatSeconds) {
    problems.push(
      `ALB idle timeout ${loadBalancer.idleTimeoutSeconds}s must exceed ping interval + timeout (${heartbeatSeconds}s)`,
    );
  }
  // The watcher notices within one poll, then the gateway drains and closes; the ALB must not cut
  // the sockets before that, or clients lose them without `server:draining`.
  const drainWithMargin =
    lifecycle.pollSeconds + stopTimeoutSeconds(socket.drainTimeoutMs) + DRAIN_MARGIN_SECONDS;
  if (loadBalancer.deregistrationDelaySeconds < drainWithMargin) {
    problems.push(
      `deregistration delay ${loadBalancer.deregistrationDelaySeconds}s must cover the watcher poll, the drain and a margin (${drainWithMargin}s)`,
    );
  }
  if (lifecycle.heartbeatTimeoutSeconds < loadBalancer.deregistrationDelaySeconds + 60) {
    problems.push(
      'lifecycle heartbeat timeout must outlast the deregistration delay plus a minute',
    );
  }
  if (compute.minInstances < 2) problems.push('at least two gateway instances (one per AZ)');
  if (
    compute.desiredInstances < compute.minInstances ||
    compute.desiredInstances > compute.maxInstances
  ) {
    problems.push('desired instances must lie between min and max');
  }
  if ((compute.architecture === 'arm64') !== GRAVITON.test(compute.instanceType)) {
    problems.push(
      `instance type ${compute.instanceType} does not match architecture ${compute.architecture}`,
    );
  }
  if (redis.clusterMode && redis.replicasPerShard < 1) {
    problems.push('cluster mode needs at least one replica per shard (Multi-AZ failover)');
  }
  if (redis.shards < 1) problems.push('Redis needs at least one shard');
  if (!redis.clusterMode && redis.shards !== 1)
    problems.push('cluster mode off means exactly one shard');
  if (database.instances < 1) problems.push('DocumentDB needs at least one instance');
  if (database.appUserRotationDays < 2)
    problems.push('the DocumentDB application user rotates at most every 2 days');
  for (const az of config.availabilityZones) {
    if (!az.startsWith(config.region)) problems.push(`AZ ${az} is not in region ${config.region}`);
  }
  if (problems.length > 0) {
    throw new Error(`Invalid ${config.name} environment: ${problems.join('; ')}`);
  }
}

/** Slack between the end of the drain and the ALB closing what is left. */
export const DRAIN_MARGIN_SECONDS = 10;

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
