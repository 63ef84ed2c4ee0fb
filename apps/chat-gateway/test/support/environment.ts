import {
  startChatEnvironment,
  type ChatEnvironment,
  type MongoHandle,
  type Topology,
} from '@jobsphere/testing';
import { MAIN, TEST_JWT_SECRET, closeAllClients } from './gateway.js';

export type { Topology };
export type Environment = ChatEnvironment;

/**
 * Real processes: Redis (standalone or a three-master cluster), the store (a real MongoDB when
 * given, else the emulator, or the server `mongo` starts) and N gateway instances of this build.
 */
export async function startEnvironment(
  options: {
    topology?: Topology;
    gateways?: number;
    replicas?: boolean;
    env?: Record<string, string>;
    /** The store's server (default: the suite's one MongoDB, see startMongo). */
    mongo?: () => Promise<MongoHandle>;
  } = {},
): Promise<Environment> {
  const env = await startChatEnvironment({ script: MAIN, jwtSecret: TEST_JWT_SECRET, ...options });
  return {
    ...env,
    dispose: async () => {
      closeAllClients();
      await env.dispose();
    },
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
