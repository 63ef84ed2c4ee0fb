import type { Workload } from './loadgen/fleet.js';

export interface Settings {
  mode: 'quick' | 'full';
  workload: Workload;
  workersPerTarget: number;
  rates: number[];
  stepMs: number;
  drainMs: number;
  bodyBytes: number;
  p99BoundMs: number;
  idleSockets: number;
  settleMs: number;
  fault: { rate: number; durationMs: number; redisDownMs: number };
  skip: Set<string>;
}

const num = (env: NodeJS.ProcessEnv, name: string, fallback: number) =>
  env[name] ? Number(env[name]) : fallback;

export function settingsFrom(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const quick = argv.includes('--quick') || env['BENCH_QUICK'] === '1';
  const base: Omit<Settings, 'skip'> = quick
    ? {
        mode: 'quick',
        workload: {
          users: 20,
          devicesPerUser: 2,
          directConversations: 10,
          groups: 1,
          groupSize: 10,
        },
        workersPerTarget: 1,
        rates: [20],
        stepMs: 2_000,
        drainMs: 5_000,
        bodyBytes: 100,
        p99BoundMs: 100,
        idleSockets: 50,
        settleMs: 500,
        fault: { rate: 20, durationMs: 4_000, redisDownMs: 1_000 },
      }
    : {
        mode: 'full',
        workload: {
          users: 60,
          devicesPerUser: 3,
          directConversations: 30,
          groups: 6,
          groupSize: 10,
        },
        workersPerTarget: 2,
        rates: [100, 200, 400, 800, 1200, 1600, 2400, 3200, 4000, 4800],
        stepMs: 5_000,
        drainMs: 3_000,
        bodyBytes: 100,
        p99BoundMs: 100,
        idleSockets: 3_000,
        settleMs: 2_000,
        fault: { rate: 200, durationMs: 10_000, redisDownMs: 2_000 },
      };
  return {
    ...base,
    rates: env['BENCH_RATES'] ? env['BENCH_RATES'].split(',').map(Number) : base.rates,
    stepMs: num(env, 'BENCH_STEP_MS', base.stepMs),
    p99BoundMs: num(env, 'BENCH_P99_BOUND_MS', base.p99BoundMs),
    idleSockets: num(env, 'BENCH_IDLE_SOCKETS', base.idleSockets),
    workersPerTarget: num(env, 'BENCH_WORKERS', base.workersPerTarget),
    skip: new Set((env['BENCH_SKIP'] ?? '').split(',').filter(Boolean)),
  };
}
