import { merge, percentiles, type Percentiles } from './hist.js';
import { type Fleet, mintToken } from './loadgen/fleet.js';
import type { CollectResult, Reply, RunResult, StatusResult } from './loadgen/protocol.js';
import { rssBytes, type RedisServer, type Target } from './processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StepResult {
  target: 'gateway' | 'baseline';
  offeredRate: number;
  durationMs: number;
  sent: number;
  acked: number;
  ackErrors: number;
  ackTimeouts: number;
  firstError?: string;
  achievedRate: number;
  expectedDeliveries: number;
  delivered: number;
  missing: number;
  deliveriesPerSec: number;
  e2e: Percentiles;
  e2eDirect: Percentiles;
  e2eGroup: Percentiles;
  ack: Percentiles;
  sendLagP99Ms: number;
  saturated: boolean;
  reason?: string;
}

let phaseCounter = 0;

interface Sent {
  phase: number;
  runs: RunResult[];
  acked: Record<number, number[]>;
}

async function send(
  fleet: Fleet,
  rate: number,
  durationMs: number,
  bodyBytes: number,
): Promise<Sent> {
  const phase = ++phaseCounter;
  const runs = await fleet.all<RunResult>(
    (i) =>
      fleet.share(i) > 0
        ? {
            type: 'run',
            phase,
            ratePerSec: rate * fleet.share(i),
            durationMs,
            ackTimeoutMs: 10_000,
            bodyBytes,
          }
        : undefined,
    durationMs + 60_000,
  );
  const acked: Record<number, number[]> = {};
  for (const r of runs) for (const [idx, seq] of r.acked) (acked[idx] ??= []).push(seq);
  return { phase, runs, acked };
}

async function collect(fleet: Fleet, sent: Sent): Promise<CollectResult[]> {
  return fleet.all<CollectResult>(() => ({
    type: 'collect',
    phase: sent.phase,
    acked: sent.acked,
  }));
}

/** Collects until every acked message reached every recipient device, or the drain time is up. */
async function drain(fleet: Fleet, sent: Sent, drainMs: number): Promise<CollectResult[]> {
  const deadline = Date.now() + drainMs;
  for (;;) {
    const results = await collect(fleet, sent);
    if (results.every((r) => r.missing === 0) || Date.now() > deadline) return results;
    await sleep(200);
  }
}

const sum = <T>(list: T[], f: (t: T) => number) => list.reduce((n, t) => n + f(t), 0);

export interface SaturationBound {
  p99Ms: number;
}

export async function latencyStep(
  fleet: Fleet,
  rate: number,
  durationMs: number,
  bodyBytes: number,
  bound: SaturationBound,
  drainMs = 3_000,
): Promise<StepResult> {
  const sent = await send(fleet, rate, durationMs, bodyBytes);
  const results = await drain(fleet, sent, drainMs);
  const startedAt = Math.min(...sent.runs.map((r) => r.startedAt));
  const endedAt = Math.max(...sent.runs.map((r) => r.endedAt));
  const lastDelivery = Math.max(endedAt, ...results.map((r) => r.lastDeliveryAt));
  const e2e = percentiles(merge(results.map((r) => r.e2e.all)));
  const totalSent = sum(sent.runs, (r) => r.sent);
  const step: StepResult = {
    target: fleet.target,
    offeredRate: rate,
    durationMs,
    sent: totalSent,
    acked: sum(sent.runs, (r) => r.acked.length),
    ackErrors: sum(sent.runs, (r) => r.ackErrors),
    ackTimeouts: sum(sent.runs, (r) => r.ackTimeouts),
    ...(sent.runs.find((r) => r.firstError) && {
      firstError: sent.runs.find((r) => r.firstError)!.firstError!,
    }),
    achievedRate: Math.round(totalSent / ((endedAt - startedAt) / 1000)),
    expectedDeliveries: sum(results, (r) => r.expected),
    delivered: sum(results, (r) => r.delivered),
    missing: sum(results, (r) => r.missing),
    deliveriesPerSec: Math.round(
      sum(results, (r) => r.delivered) / ((lastDelivery - startedAt) / 1000),
    ),
    e2e,
    e2eDirect: percentiles(merge(results.map((r) => r.e2e.direct))),
    e2eGroup: percentiles(merge(results.map((r) => r.e2e.group))),
    ack: percentiles(merge(sent.runs.map((r) => r.ackHist))),
    sendLagP99Ms: percentiles(merge(sent.runs.map((r) => r.lagHist))).p99,
    saturated: false,
  };
  const reasons: string[] = [];
  if (e2e.p99 > bound.p99Ms) reasons.push(`p99 ${e2e.p99} ms > ${bound.p99Ms} ms`);
  if (step.missing > 0) reasons.push(`${step.missing} deliveries missing after ${drainMs} ms`);
  if (step.ackErrors + step.ackTimeouts > 0)
    reasons.push(`${step.ackErrors + step.ackTimeouts} sends not acked`);
  if (step.achievedRate < rate * 0.9)
    reasons.push(`load generator reached only ${step.achievedRate}/s`);
  if (reasons.length > 0) {
    step.saturated = true;
    step.reason = reasons.join('; ');
  }
  return step;
}

export interface CapacityResult {
  target: 'gateway' | 'baseline';
  instance: 'A';
  sockets: number;
  connected: number;
  connectSeconds: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerSocket: number;
  firstError?: string;
}

/** Idle sockets on instance A of a target, and the resident memory they cost. */
export async function capacity(
  fleet: Fleet,
  target: Target,
  secret: string,
  sockets: number,
  settleMs: number,
): Promise<CapacityResult> {
  const pid = target.A.proc.pid!;
  await sleep(settleMs);
  const before = rssBytes(pid);
  const tokens = await Promise.all(
    Array.from({ length: sockets }, (_, i) =>
      mintToken(secret, `${target.name}-idle${i}`, 'candidate'),
    ),
  );
  const started = Date.now();
  const replies = await fleet.all<Extract<Reply, { type: 'idle-opened' }>>(
    (i) => ({
      type: 'idle-open',
      url: target.A.url,
      tokens: tokens.filter((_, k) => k % fleet.size === i),
    }),
    300_000,
  );
  const connectSeconds = (Date.now() - started) / 1000;
  await sleep(settleMs);
  const after = rssBytes(pid);
  await fleet.all(() => ({ type: 'idle-close' }));
  const connected = sum(replies, (r) => r.connected);
  const firstError = replies.find((r) => r.firstError)?.firstError;
  return {
    target: target.name,
    instance: 'A',
    sockets,
    connected,
    connectSeconds,
    rssBeforeBytes: before,
    rssAfterBytes: after,
    bytesPerSocket: Math.round((after - before) / Math.max(1, connected)),
    ...(firstError && { firstError }),
  };
}

export interface FaultResult {
  kind: 'redis-restart' | 'kill-instance-b';
  offeredRate: number;
  durationMs: number;
  sent: number;
  acked: number;
  notAcked: number;
  firstError?: string;
  expectedDeliveries: number;
  deliveredLive: number;
  missingBeforeSync: number;
  recoveredBySync: number;
  /** Acked messages absent from a recipient device after sync. Must be zero. */
  lostAfterSync: number;
  duplicateLiveDeliveries: number;
  syncErrors: number;
  syncFirstError?: string;
  /** From the fault to cross-instance delivery resuming (Redis) / the last device of B reconnected to A (kill). */
  recoveryMs: number;
  /** Longest stretch with no live delivery to a device on B (Redis restart). */
  deliveryGapMs?: number;
  reconnectedDevices?: number;
  reconnectMsMax?: number;
  /** From the kill to the end of the first sync (which waits for the load to finish). */
  syncCompletedMs?: number;
}

export async function fault(
  kind: FaultResult['kind'],
  fleet: Fleet,
  target: Target,
  redis: RedisServer,
  opts: {
    rate: number;
    durationMs: number;
    bodyBytes: number;
    redisDownMs: number;
    sharedStore: boolean;
  },
): Promise<FaultResult> {
  if (kind === 'kill-instance-b') await fleet.all(() => ({ type: 'failover', enabled: true }));
  const sending = send(fleet, opts.rate, opts.durationMs, opts.bodyBytes);
  await sleep(opts.durationMs / 4);
  const faultAt = performance.timeOrigin + performance.now();
  if (kind === 'redis-restart') {
    await redis.kill();
    await sleep(opts.redisDownMs);
    await redis.restart();
  } else {
    await target.B.proc.kill();
  }
  const sent = await sending;
  let reconnectedAt = faultAt;
  let reconnects: StatusResult['reconnects'] = [];
  if (kind === 'kill-instance-b') {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await fleet.all<StatusResult>(() => ({ type: 'status' }));
      reconnects = status.flatMap((s) => s.reconnects);
      if (status.every((s) => s.connected === s.total) || Date.now() > deadline) break;
      await sleep(200);
    }
    reconnectedAt = Math.max(faultAt, ...reconnects.map((r) => r.upAt));
  }
  // Live delivery first (what the adapter managed), then what sync brings back.
  // A killed instance's devices sync as soon as they are back, so that is not delayed by a drain wait.
  const live =
    kind === 'kill-instance-b'
      ? (await sleep(500), await collect(fleet, sent))
      : await drain(fleet, sent, 3_000);
  let recoveredBySync = 0;
  let syncErrors = 0;
  let syncFirstError: string | undefined;
  let after = live;
  let syncedAt = reconnectedAt;
  for (let round = 0; round < 3; round++) {
    const synced = await fleet.all<Extract<Reply, { type: 'synced' }>>(
      () => ({ type: 'sync', moveBToA: !opts.sharedStore }),
      60_000,
    );
    if (round === 0) syncedAt = performance.timeOrigin + performance.now();
    recoveredBySync += sum(synced, (s) => s.recovered);
    syncErrors += sum(synced, (s) => s.errors);
    syncFirstError ??= synced.find((s) => s.firstError)?.firstError;
    after = await collect(fleet, sent);
    if (after.every((r) => r.missing === 0)) break;
    await sleep(1_000);
  }
  const acked = sum(sent.runs, (r) => r.acked.length);
  const result: FaultResult = {
    kind,
    offeredRate: opts.rate,
    durationMs: opts.durationMs,
    sent: sum(sent.runs, (r) => r.sent),
    acked,
    notAcked: sum(sent.runs, (r) => r.ackErrors + r.ackTimeouts),
    ...(sent.runs.find((r) => r.firstError) && {
      firstError: sent.runs.find((r) => r.firstError)!.firstError!,
    }),
    expectedDeliveries: sum(after, (r) => r.expected),
    deliveredLive: sum(live, (r) => r.delivered),
    missingBeforeSync: sum(live, (r) => r.missing),
    recoveredBySync,
    lostAfterSync: sum(after, (r) => r.missing),
    duplicateLiveDeliveries: Math.max(...after.map((r) => r.duplicates)),
    syncErrors,
    ...(syncFirstError && { syncFirstError }),
    recoveryMs: 0,
  };
  if (kind === 'redis-restart') await fleet.all(() => ({ type: 'rehome' }), 60_000);
  if (kind === 'redis-restart') {
    const buckets = [...new Set(live.flatMap((r) => r.bDeliveryBuckets))]
      .sort((a, b) => a - b)
      .map((b) => b * 10);
    let gap = 0;
    let gapEnd = faultAt;
    let previous = faultAt;
    for (const t of buckets) {
      if (t < faultAt) continue;
      if (t - previous > gap) {
        gap = t - previous;
        gapEnd = t;
      }
      previous = t;
    }
    result.deliveryGapMs = Math.round(gap);
    result.recoveryMs = Math.round(gapEnd - faultAt);
  } else {
    result.reconnectedDevices = reconnects.length;
    result.reconnectMsMax = Math.round(Math.max(0, ...reconnects.map((r) => r.upAt - r.downAt)));
    result.recoveryMs = Math.round(reconnectedAt - faultAt);
    result.syncCompletedMs = Math.round(syncedAt - faultAt);
  }
  return result;
}
