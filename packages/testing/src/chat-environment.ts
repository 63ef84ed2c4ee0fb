import { existsSync } from 'node:fs';
import { startMongo, type MongoHandle } from './mongo/index.js';
import { startNodeService } from './node-service.js';
import { type ManagedProcess } from './process.js';
import {
  startRedis,
  startRedisCluster,
  type RedisCluster,
  type RedisServer,
} from './redis/index.js';

export type Topology = 'standalone' | 'cluster';

export interface GatewayProcess {
  name: string;
  url: string;
  port: number;
  process: ManagedProcess;
  /** Kills -9: the instance vanishes without a goodbye. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  terminate(): Promise<number | null>;
  logs(): string;
}

export interface ChatEnvironment {
  topology: Topology;
  redis?: RedisServer;
  cluster?: RedisCluster;
  mongo: MongoHandle;
  gateways: GatewayProcess[];
  /** Env that points one more gateway at the same Redis and store. */
  gatewayEnv: Record<string, string>;
  /** Starts one more gateway on the same Redis and store. */
  start(name?: string, env?: Record<string, string>): Promise<GatewayProcess>;
  dispose(): Promise<void>;
}

export interface ChatEnvironmentOptions {
  /** The built gateway, e.g. apps/chat-gateway/dist/main.js. */
  script: string;
  /** The JWT secret the gateways verify tokens with. */
  jwtSecret: string;
  topology?: Topology;
  /** Cluster only: one replica per master, so a master can fail over. */
  replicas?: boolean;
  /** How many gateways to start, or their names. */
  gateways?: number | string[];
  env?: Record<string, string>;
  /**
   * The store's server (default `startMongo()`): e.g. one of `mongoServers()`, or
   * `() => useExistingMongo(uri)` for a store the test runs itself (the wire server in-process, to
   * switch its faults); the gateways get a fresh database on it, dropped at dispose.
   */
  mongo?: () => Promise<MongoHandle>;
}

/** Starts the built gateway as a real process on a free port. */
export async function startGatewayProcess(
  script: string,
  env: Record<string, string | undefined>,
  name = 'gateway',
): Promise<GatewayProcess> {
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`pnpm build\` first`);
  const service = await startNodeService({ script, env });
  const proc = service.process;
  return {
    name,
    ...service,
    kill: () => proc.kill(),
    terminate: async () => {
      await proc.stop(30_000);
      return proc.exitCode;
    },
    logs: () => proc.recentOutput(500),
  };
}

/**
 * Real processes shaped like a deployment: Redis (standalone, or a three-master cluster with
 * the sharded channels), the store (MONGODB_URI when given, else the emulator, or
 * the server `options.mongo` starts) and N
 * gateway instances. The gateway's e2e tests and the client's integration tests both run here.
 */
export async function startChatEnvironment(
  options: ChatEnvironmentOptions,
): Promise<ChatEnvironment> {
  const topology = options.topology ?? 'standalone';
  const disposers: (() => Promise<void>)[] = [];
  const base: Record<string, string> = {
    NODE_ENV: 'test',
    JWT_SECRET: options.jwtSecret,
    LOG_LEVEL: 'info',
    // Every test client comes from 127.0.0.1: the per-IP budgets are tested on their own.
    RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN: '100000',
    RATE_LIMIT_AUTH_FAILURES_PER_IP_PER_MIN: '100000',
    RATE_LIMIT_REST_PER_IP_PER_MIN: '100000',
  };
  const env: Record<string, string> = { ...base, ...options.env };
  try {
    const mongo = await (options.mongo ?? startMongo)();
    disposers.push(() => mongo.stop());
    env['MONGODB_URI'] = mongo.uri;
    let redis: RedisServer | undefined;
    let cluster: RedisCluster | undefined;
    if (topology === 'standalone') {
      redis = await startRedis();
      disposers.push(() => redis!.dispose());
      env['REDIS_URL'] = redis.url;
    } else {
      cluster = await startRedisCluster({
        masters: 3,
        replicasPerMaster: options.replicas ? 1 : 0,
      });
      disposers.push(() => cluster!.dispose());
      const first = cluster.startupNodes[0]!;
      env['REDIS_HOST'] = first.host;
      env['REDIS_PORT'] = String(first.port);
      env['REDIS_CLUSTER'] = 'true';
    }
    const gateways: GatewayProcess[] = [];
    const start = async (
      name = `gateway-${gateways.length + 1}`,
      extra: Record<string, string> = {},
    ) => {
      const gateway = await startGatewayProcess(
        options.script,
        { PATH: process.env['PATH'], ...env, ...extra },
        name,
      );
      disposers.push(() => gateway.process.dispose());
      gateways.push(gateway);
      return gateway;
    };
    const names =
      typeof options.gateways === 'number' || options.gateways === undefined
        ? Array.from({ length: options.gateways ?? 2 }, (_, i) => String.fromCharCode(65 + i))
        : options.gateways;
    await Promise.all(names.map((name) => start(name)));
    gateways.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
    console.log(
      `environment: ${topology} Redis${options.replicas ? ' with replicas' : ''}, store = ${mongo.description}, gateways ${names.join(', ')}`,
    );
    return {
      topology,
      ...(redis && { redis }),
      ...(cluster && { cluster }),
      mongo,
      gateways,
      gatewayEnv: env,
      start,
      dispose: async () => {
        for (const dispose of disposers.reverse()) await dispose().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const dispose of disposers.reverse()) await dispose().catch(() => undefined);
    throw error;
  }
}
