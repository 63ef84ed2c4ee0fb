import { availableParallelism } from 'node:os';

/** GATEWAY_WORKERS: `auto` (one per vCPU) or a count; 1 = no supervisor, the gateway in this process. */
export const WORKERS_PATTERN = /^(auto|[1-9]\d{0,2})$/;

export function resolveWorkers(value: string, cpus = availableParallelism()): number {
  return value === 'auto' ? Math.max(1, cpus) : Number(value);
}

/**
 * What several workers behind one port need, as config issues. Each worker is a whole gateway
 * on the same listening socket (the primary hands each TCP connection to one worker), so:
 * - a socket must live on one TCP connection: websocket only. Long polling spreads one session
 *   over many HTTP requests, which would land on different workers (no sticky sessions here);
 * - the workers share state only through the store and Redis, as instances do;
 * - /metrics must add the workers up, which only the supervisor's own listener can do.
 */
export function workersIssues(
  workers: number,
  settings: {
    transports: readonly string[];
    mongodbUri: boolean;
    redis: boolean;
    metricsListener: boolean;
  },
): { variable: string; message: string }[] {
  if (workers <= 1) return [];
  const why = `with GATEWAY_WORKERS=${workers}`;
  return [
    ...(settings.transports.includes('polling')
      ? [
          {
            variable: 'SOCKET_TRANSPORTS',
            message: `must be websocket only ${why} (long polling would need sticky sessions across workers)`,
          },
        ]
      : []),
    ...(settings.mongodbUri
      ? []
      : [{ variable: 'MONGODB_URI', message: `required ${why} (workers share one store)` }]),
    ...(settings.redis
      ? []
      : [{ variable: 'REDIS_URL', message: `REDIS_URL or REDIS_HOST is required ${why}` }]),
    ...(settings.metricsListener
      ? []
      : [
          {
            variable: 'METRICS_PORT',
            message: `required ${why} (the supervisor serves /metrics for every worker on it)`,
          },
        ]),
  ];
}
