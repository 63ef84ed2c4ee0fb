import {
  startMongo,
  startRedis,
  startRedisCluster,
  type MongoHandle,
  type RedisCluster,
  type RedisServer,
} from '@jobsphere/testing';
import { closeAllClients, startGatewayProcess, type GatewayProcess } from './gateway.js';

export type Topology = 'standalone' | 'cluster';

export interface Environment {
  topology: Topology;
  redis?: RedisServer;
  cluster?: RedisCluster;
  mongo: MongoHandle;
  gateways: GatewayProcess[];
  /** Env that points one more gateway at the same Redis and store. */
  gatewayEnv: Record<string, string>;
  dispose(): Promise<void>;
}

/**
 * Real processes: Redis (standalone or a three-master cluster with the sharded adapter),
 * the store (a real MongoDB when given, else the wire double) and N gateway instances.
 */
export async function startEnvironment(
  options: { topology?: Topology; gateways?: number; env?: Record<string, string> } = {},
): Promise<Environment> {
  const topology = options.topology ?? 'standalone';
  const disposers: (() => Promise<void>)[] = [];
  const env: Record<string, string> = { ...options.env };
  try {
    const mongo = await startMongo();
    disposers.push(() => mongo.stop());
    env['MONGODB_URI'] = mongo.uri;
    let redis: RedisServer | undefined;
    let cluster: RedisCluster | undefined;
    if (topology === 'standalone') {
      redis = await startRedis();
      disposers.push(() => redis!.dispose());
      env['REDIS_URL'] = redis.url;
    } else {
      cluster = await startRedisCluster({ masters: 3 });
      disposers.push(() => cluster!.dispose());
      const first = cluster.nodes[0]!;
      env['REDIS_HOST'] = first.host;
      env['REDIS_PORT'] = String(first.port);
      env['REDIS_CLUSTER'] = 'true';
    }
    const gateways = await Promise.all(
      Array.from({ length: options.gateways ?? 2 }, () => startGatewayProcess(env)),
    );
    for (const g of gateways) disposers.push(() => g.process.dispose());
    console.log(
      `e2e environment: ${topology} Redis, store = ${mongo.description}, ${gateways.length} gateways`,
    );
    return {
      topology,
      ...(redis && { redis }),
      ...(cluster && { cluster }),
      mongo,
      gateways,
      gatewayEnv: env,
      dispose: async () => {
        closeAllClients();
        for (const dispose of disposers.reverse()) await dispose();
      },
    };
  } catch (error) {
    closeAllClients();
    for (const dispose of disposers.reverse()) await dispose().catch(() => undefined);
    throw error;
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
