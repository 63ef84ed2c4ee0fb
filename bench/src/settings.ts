import type { Workload } from './loadgen/fleet.js';

export interface Settings {
  mode: 'quick' | 'full';
  workload: Workload;
  workersPerTarget: number;
  /** The ladder: these rates, then `growth` times the last one, until both targets are saturated. */
  rates: number[];
  growth: number;
  maxRate: number;
  /** Steps of at least 10 s in full mode: shorter ones are mostly noise on a shared host. */
  stepMs: number;
  /** How many times the whole ladder runs (figures are the median of the runs, with min–max). */
  runs: number;
  drainMs: number;
  bodyBytes: number;
  p99BoundMs: number;
  /** Ack latency with an injected store round trip, at one moderate rate. */
  rtt: { rate: number; delaysMs: number[]; stepMs: number };
  idleSockets: number;
  idleProcesses: number;
  settleMs: number;
  lagWindowMs: number;
  fault: { rate: number; durationMs: number; redisDownMs: number };
  /** Wait for the 1-minute load average to fall below this before measuring (full mode). */
  quietLoad: number;
  quietWaitS: number;
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
        growth: 1,
        maxRate: 20,
        stepMs: 1_500,
        runs: 1,
        drainMs: 5_000,
        bodyBytes: 100,
        p99BoundMs: 100,
        rtt: { rate: 20, delaysMs: [1], stepMs: 1_000 },
        idleSockets: 60,
        idleProcesses: 2,
        settleMs: 300,
        lagWindowMs: 500,
        fault: { rate: 40, durationMs: 3_000, redisDownMs: 1_000 },
        quietLoad: Infinity,
        quietWaitS: 0,
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
        rates: [50, 100, 200, 400, 800, 1200, 1600, 2400, 3200, 4000, 4800],
        growth: 1.25,
        maxRate: 40_000,
        stepMs: 10_000,
        runs: 3,
        drainMs: 3_000,
        bodyBytes: 100,
        p99BoundMs: 100,
        rtt: { rate: 200, delaysMs: [1, 3], stepMs: 10_000 },
        idleSockets: 15_000,
        idleProcesses: 3,
        settleMs: 3_000,
        lagWindowMs: 10_000,
        fault: { rate: 500, durationMs: 22_000, redisDownMs: 2_000 },
        quietLoad: 1.5,
        quietWaitS: 1_800,
      };
  return {
    ...base,
    rates: env['BENCH_RATES'] ? env['BENCH_RATES'].split(',').map(Number) : base.rates,
    maxRate: num(env, 'BENCH_MAX_RATE', base.maxRate),
    stepMs: num(env, 'BENCH_STEP_MS', base.stepMs),
    runs: num(env, 'BENCH_RUNS', base.runs),
    p99BoundMs: num(env, 'BENCH_P99_BOUND_MS', base.p99BoundMs),
    idleSockets: num(env, 'BENCH_IDLE_SOCKETS', base.idleSockets),
    workersPerTarget: num(env, 'BENCH_WORKERS', base.workersPerTarget),
    quietLoad: num(env, 'BENCH_QUIET_LOAD', base.quietLoad),
    quietWaitS: num(env, 'BENCH_QUIET_WAIT_S', base.quietWaitS),
    skip: new Set((env['BENCH_SKIP'] ?? '').split(',').filter(Boolean)),
  };
}

/** The offered rates of the ladder: the listed ones, then growing until `maxRate`. */
export function* ladder(s: Pick<Settings, 'rates' | 'growth' | 'maxRate'>): Generator<number> {
  let last = 0;
  for (const rate of s.rates) {
    if (rate > s.maxRate) return;
    yield (last = rate);
  }
  if (s.growth <= 1) return;
  for (;;) {
    last = Math.max(last + 100, Math.round((last * s.growth) / 100) * 100);
    if (last > s.maxRate) return;
    yield last;
  }
}
