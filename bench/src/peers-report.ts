// The four-target comparison over several runs of the ladder: per target, the highest sustained
// rate (saturation confirmed on two consecutive steps), p50/p99 per rate, CPU per 1,000
// deliveries, RSS per idle socket, each as the median of the runs with its min–max.
import { formatSpread, relativeRange, spread, sustainedRate, type Spread } from './ladder-stats.js';
import type { TargetName } from './processes.js';
import type { CapacityResult, StepResult } from './scenarios.js';

export const TARGET_ORDER: TargetName[] = [
  'baseline',
  'seed',
  'centrifugo',
  'gateway',
  'gateway-2w',
  'gateway-before',
];

/** The targets the common CPU rate is chosen over: the variant is given its CPU at their rate. */
const PEERS: TargetName[] = ['baseline', 'seed', 'centrifugo', 'gateway'];

export const TARGET_LABEL: Record<TargetName, string> = {
  baseline: 'relay (Socket.IO + Redis adapter, stores nothing)',
  seed: 'seed design (Socket.IO + Redis adapter + Mongoose `create` before the emit)',
  centrifugo: 'Centrifugo v6.9.1 (Redis engine, history + recovery, client-side publish)',
  gateway: 'gateway (idempotency, order, unread, sync)',
  'gateway-2w': 'the same gateway, 2 workers per instance (`GATEWAY_WORKERS=2`; 2 cores)',
  'gateway-before': 'the gateway before these changes (an older build: see the topology)',
};

/** Where a target keeps messages: its CPU group (Centrifugo's history is in Redis). */
export const STORE_GROUP: Record<TargetName, string | undefined> = {
  baseline: undefined,
  seed: 'store',
  centrifugo: 'redis',
  gateway: 'store',
  'gateway-2w': 'store',
  'gateway-before': 'store',
};

export interface TargetSummary {
  target: TargetName;
  runs: number;
  sustained: Spread | undefined;
  /** Per run: the first rate of the confirmed saturation, or undefined. */
  saturatedAt: (number | undefined)[];
  /** Rates that saturated alone in some run (a blip, not a ceiling). */
  blips: number[];
  deliveriesPerSec: Spread | undefined;
  /** The highest rate every run of this target sustained (none: even the first saturated once). */
  steadyRate: number | undefined;
  /** The rate its CPU is given at (the same for every target, see `commonRate`). */
  cpuRate: number | undefined;
  /** Whether some run was saturated at `cpuRate`. */
  cpuRateSaturated: boolean;
  cpuServers: Spread | undefined;
  cpuStore: Spread | undefined;
  cpuRedis: Spread | undefined;
}

export interface RateRow {
  target: TargetName;
  rate: number;
  runs: number;
  sustainedRuns: number;
  e2eP50: Spread | undefined;
  e2eP99: Spread | undefined;
  cpuServers: Spread | undefined;
  cpuStore: Spread | undefined;
  load: Spread | undefined;
}

const runsOf = (steps: StepResult[]) => [...new Set(steps.map((s) => s.run ?? 1))].sort();

/**
 * The rate CPU per delivery is compared at: the same work for every target, at the highest rate
 * every run of every target sustained (the lowest rate of the ladder when none did).
 */
export function commonRate(latency: StepResult[], targets: TargetName[]): number | undefined {
  const steady = targets.map((t) => summarize(latency, t)?.steadyRate ?? 0);
  const lowest = Math.min(...latency.map((s) => s.offeredRate));
  if (!Number.isFinite(lowest)) return undefined;
  return Math.max(lowest, Math.min(...steady));
}

export function summarize(
  latency: StepResult[],
  target: TargetName,
  cpuAt?: number,
): TargetSummary | undefined {
  const steps = latency.filter((s) => s.target === target);
  if (steps.length === 0) return undefined;
  const runs = runsOf(steps);
  const perRun = runs.map((run) => {
    const mine = steps.filter((s) => (s.run ?? 1) === run);
    return { mine, sustained: sustainedRate(mine) };
  });
  const stepAt = (mine: StepResult[], rate: number) => mine.find((s) => s.offeredRate === rate);
  const sustainedRates = perRun.map((r) => r.sustained.rate);
  const steadyRate = Math.min(...sustainedRates) > 0 ? Math.min(...sustainedRates) : undefined;
  const cpuRate = cpuAt ?? steadyRate;
  const atSteady = cpuRate
    ? perRun.map((r) => stepAt(r.mine, cpuRate)).filter((s): s is StepResult => !!s)
    : [];
  const group = STORE_GROUP[target];
  const cpuOf = (key: string | undefined) =>
    key ? spread(atSteady.map((s) => s.cpuMsPer1000Deliveries?.[key] ?? NaN)) : undefined;
  return {
    target,
    runs: runs.length,
    sustained: spread(sustainedRates),
    saturatedAt: perRun.map((r) => r.sustained.saturatedAt),
    blips: [...new Set(perRun.flatMap((r) => r.sustained.blips))].sort((a, b) => a - b),
    deliveriesPerSec: spread(
      perRun.map((r) => stepAt(r.mine, r.sustained.rate)?.deliveriesPerSec ?? NaN),
    ),
    steadyRate,
    cpuRate,
    cpuRateSaturated: atSteady.some((s) => s.saturated),
    cpuServers: cpuOf('servers'),
    cpuStore: cpuOf(group),
    cpuRedis: cpuOf('redis'),
  };
}

export function rateRows(latency: StepResult[], target: TargetName): RateRow[] {
  const steps = latency.filter((s) => s.target === target);
  const rates = [...new Set(steps.map((s) => s.offeredRate))].sort((a, b) => a - b);
  const group = STORE_GROUP[target];
  return rates.map((rate) => {
    const at = steps.filter((s) => s.offeredRate === rate);
    return {
      target,
      rate,
      runs: at.length,
      sustainedRuns: at.filter((s) => !s.saturated).length,
      e2eP50: spread(at.map((s) => s.e2e.p50)),
      e2eP99: spread(at.map((s) => s.e2e.p99)),
      cpuServers: spread(at.map((s) => s.cpuMsPer1000Deliveries?.['servers'] ?? NaN)),
      cpuStore: group ? spread(at.map((s) => s.cpuMsPer1000Deliveries?.[group] ?? NaN)) : undefined,
      load: spread(at.map((s) => s.loadAverage)),
    };
  });
}

const steadiness = (s: Spread | undefined) => {
  const r = relativeRange(s);
  return r === undefined ? 'n/a' : `±${Math.round((r * 100) / 2)} %`;
};

/** The section RESULTS.md opens with. */
export function renderPeersSection(
  latency: StepResult[],
  capacity: CapacityResult[],
  loadAtStart: number,
): string[] {
  const lines: string[] = [];
  const rate = commonRate(
    latency,
    PEERS.filter((t) => latency.some((s) => s.target === t)),
  );
  const summaries = TARGET_ORDER.map((t) => summarize(latency, t, rate)).filter(
    (s): s is TargetSummary => s !== undefined,
  );
  if (summaries.length === 0) return lines;
  const runs = Math.max(...summaries.map((s) => s.runs));
  const load = spread(latency.map((s) => s.loadAverage));
  lines.push('## Four targets, same workload, same run', '');
  lines.push(
    `**1-minute load average: ${loadAtStart} at the start, ${formatSpread(load, 1)} over the ladder's steps** (median (min–max); the machine has 2 cores and is shared). ` +
      `${runs} run${runs > 1 ? 's' : ''} of the ladder; every figure is the median of the runs with the min–max in brackets. ` +
      'A rate is **sustained** when its step is not saturated; a target is saturated only when two consecutive steps are; its highest sustained rate is the last sustained rate below those two.',
    '',
  );
  lines.push(
    `| target | highest sustained msg/s | deliveries/s there | saturated at (per run) | CPU-ms per 1,000 deliveries at ${rate ?? 'n/a'} msg/s: servers | its store | Redis | RSS per idle socket |`,
    '|---|---|---|---|---|---|---|---|',
  );
  for (const s of summaries) {
    const c = capacity.find((x) => x.target === s.target);
    const storeName = STORE_GROUP[s.target];
    lines.push(
      `| ${TARGET_LABEL[s.target]} | ${formatSpread(s.sustained)} | ${formatSpread(s.deliveriesPerSec)} | ${s.saturatedAt.map((r) => r ?? 'not reached').join(', ')} | ` +
        `${formatSpread(s.cpuServers)}${s.cpuRateSaturated ? ' (saturated there)' : ''} | ${storeName === 'redis' ? '(= Redis)' : storeName ? formatSpread(s.cpuStore) : 'none'} | ${formatSpread(s.cpuRedis)} | ` +
        `${c ? `${(c.bytesPerSocket / 1024).toFixed(1)} KiB` : 'n/a'} |`,
    );
  }
  const one = summaries.find((s) => s.target === 'gateway');
  const two = summaries.find((s) => s.target === 'gateway-2w');
  if (one && two) lines.push('', workersLine(one, two));
  const before = summaries.find((s) => s.target === 'gateway-before');
  if (one && before) {
    const b = capacity.find((x) => x.target === 'gateway-before');
    const a = capacity.find((x) => x.target === 'gateway');
    lines.push('', beforeLine(before, one, b, a));
  }
  lines.push(
    '',
    '**How steady each figure was** (half the min–max range, relative to the median):',
    '',
  );
  lines.push(
    '| target | highest sustained rate | CPU per delivery, servers | CPU per delivery, store | lone saturated steps (blips) |',
    '|---|---|---|---|---|',
  );
  for (const s of summaries)
    lines.push(
      `| ${s.target} | ${steadiness(s.sustained)} | ${steadiness(s.cpuServers)} | ${STORE_GROUP[s.target] ? steadiness(s.cpuStore) : 'n/a'} | ${s.blips.join(', ') || 'none'} |`,
    );
  lines.push(
    '',
    'CPU is user + system time above idle per 1,000 deliveries (a message reaching one recipient device), at one rate for all targets (the highest every run of every target sustained, so the same work everywhere): the steady figure, since a rate ceiling moves with whatever else the host runs while CPU per unit of work moves much less. ' +
      '"Servers" is the target\u2019s two server processes (two gateway, relay or seed-app Node processes; two Centrifugo nodes); "its store" is the MongoDB wire server for the gateway and the seed design and Redis for Centrifugo (its history stream); Redis serves every target\u2019s fan-out. RSS per idle socket is from one run.',
    '',
  );
  lines.push('### p50 / p99 per rate (ms), median (min–max) over the runs', '');
  lines.push(
    '| target | offered msg/s | sustained in | e2e p50 | e2e p99 | CPU-ms / 1,000 deliveries, servers | store | load |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const t of TARGET_ORDER)
    for (const row of rateRows(latency, t))
      lines.push(
        `| ${t} | ${row.rate} | ${row.sustainedRuns}/${row.runs} | ${formatSpread(row.e2eP50, 2)} | ${formatSpread(row.e2eP99, 1)} | ${formatSpread(row.cpuServers)} | ${row.cpuStore ? formatSpread(row.cpuStore) : ''} | ${formatSpread(row.load, 1)} |`,
      );
  lines.push('');
  return lines;
}

/** One gateway worker per instance against two, from the same run: what the second vCPU buys. */
export function workersLine(one: TargetSummary, two: TargetSummary): string {
  const ratio = (a: number | undefined, b: number | undefined) =>
    a && b ? `${(b / a).toFixed(2)}x` : 'n/a';
  return (
    `**One worker against two per instance** (\`GATEWAY_WORKERS=1\` against \`2\`, same run, same store and Redis; both instances on this machine's cores): ` +
    `highest sustained ${formatSpread(one.sustained)} against ${formatSpread(two.sustained)} msg/s (${ratio(one.sustained?.median, two.sustained?.median)}), ` +
    `CPU of the servers per 1,000 deliveries at ${one.cpuRate ?? 'n/a'} msg/s ${formatSpread(one.cpuServers)} against ${formatSpread(two.cpuServers)} ` +
    `(${ratio(one.cpuServers?.median, two.cpuServers?.median)}).`
  );
}

/** The gateway before and after a change, measured back to back in one run (interleaved steps). */
export function beforeLine(
  before: TargetSummary,
  after: TargetSummary,
  beforeIdle: CapacityResult | undefined,
  afterIdle: CapacityResult | undefined,
): string {
  const kib = (c: CapacityResult | undefined) =>
    c ? `${(c.bytesPerSocket / 1024).toFixed(1)} KiB` : 'n/a';
  const lag = (c: CapacityResult | undefined) =>
    c?.eventLoopLag ? `${c.eventLoopLag.p99Ms} ms` : 'n/a';
  return (
    `**Before and after, back to back** (\`gateway-before\` against \`gateway\`, same run, interleaved steps, same store server and Redis): ` +
    `highest sustained ${formatSpread(before.sustained)} against ${formatSpread(after.sustained)} msg/s, ` +
    `CPU of the servers per 1,000 deliveries at ${after.cpuRate ?? 'n/a'} msg/s ${formatSpread(before.cpuServers)}${before.cpuRateSaturated ? ' (saturated there)' : ''} against ${formatSpread(after.cpuServers)}, ` +
    `of the store ${formatSpread(before.cpuStore)} against ${formatSpread(after.cpuStore)}; ` +
    `${afterIdle?.sockets ?? beforeIdle?.sockets ?? 'n/a'} idle sockets: RSS per socket ${kib(beforeIdle)} against ${kib(afterIdle)}, event-loop lag p99 ${lag(beforeIdle)} against ${lag(afterIdle)}.`
  );
}
