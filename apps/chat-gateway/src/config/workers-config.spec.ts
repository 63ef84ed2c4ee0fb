import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from './app-config.js';
import { resolveWorkers } from './workers-config.js';

const shared = {
  MONGODB_URI: 'mongodb://127.0.0.1:27017/chat',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

function issuesOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('GATEWAY_WORKERS', () => {
  it('is one process by default, and auto means one worker per vCPU', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(resolveWorkers('auto', 2)).toBe(2);
    expect(resolveWorkers('auto', 0)).toBe(1);
    expect(loadConfig({ ...shared, GATEWAY_WORKERS: 'auto', METRICS_PORT: '9464' }).workers).toBe(
      availableParallelism(),
    );
    expect(loadConfig({ ...shared, GATEWAY_WORKERS: '3', METRICS_PORT: '0' }).workers).toBe(3);
  });

  it('refuses what is not auto or a count, naming the variable', () => {
    for (const value of ['0', 'two', '-1', '1.5', '1000'])
      expect(issuesOf({ GATEWAY_WORKERS: value })).toEqual([
        {
          variable: 'GATEWAY_WORKERS',
          message: 'must be auto (one per vCPU) or a number of workers from 1 to 999',
        },
      ]);
  });

  it('with several workers: websocket only, a shared store and Redis, metrics on their own port', () => {
    expect(
      issuesOf({ GATEWAY_WORKERS: '2', SOCKET_TRANSPORTS: 'websocket,polling' }).map(
        (i) => `${i.variable}: ${i.message}`,
      ),
    ).toEqual([
      'SOCKET_TRANSPORTS: must be websocket only with GATEWAY_WORKERS=2 (long polling would need sticky sessions across workers)',
      'MONGODB_URI: required with GATEWAY_WORKERS=2 (workers share one store)',
      'REDIS_URL: REDIS_URL or REDIS_HOST is required with GATEWAY_WORKERS=2',
      'METRICS_PORT: required with GATEWAY_WORKERS=2 (the supervisor serves /metrics for every worker on it)',
    ]);
    // One worker needs none of it (the embedded default keeps working).
    expect(loadConfig({ GATEWAY_WORKERS: '1', SOCKET_TRANSPORTS: 'polling' }).workers).toBe(1);
  });
});
