import { readFileSync } from 'node:fs';
import type { MongoWireServerHandle, RedisCluster, RedisServer } from '@jobsphere/testing';
import { merge, percentiles, type Percentiles } from './hist.js';
import { type Fleet, type IdlePool, mintToken } from './loadgen/fleet.js';
import type { CollectResult, Reply, RunResult, StatusResult } from './loadgen/protocol.js';
import {
  cpuMs,
  readEventLoopLag,
  rssBytes,
  type EventLoopLag,
  type Target,
  type TargetName,
} from './processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = <T>(list: T[], f: (t: T) => number) => list.reduce((n, t) => n + f(t), 0);

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** CPU time per group of processes between two points, in milliseconds. */
export class CpuMeter {
  /** CPU milliseconds per wall-clock millisecond each group spends with no traffic. */
  private idle: Record<string, number> = {};

  constructor(private readonly groups: Record<string, () => (number | undefined)[]>) {}

  /** What the processes cost doing nothing (heartbeats, sweeps, monitors): taken off per step. */
  async measureIdle(ms: number): Promise<void> {
    const before = this.snapshot();
    const started = performance.now();
    await sleep(ms);
    const used = CpuMeter.since(before, this.snapshot());
    const elapsed = performance.now() - started;
    this.idle = Object.fromEntries(Object.entries(used).map(([k, v]) => [k, v / elapsed]));
  }

  /** CPU above idle over `elapsedMs`. */
  aboveIdle(used: Record<string, number>, elapsedMs: number): Record<string, number> {
    return Object.fromEntries(
      Object.entries(used).map(([k, v]) => [k, Math.max(0, v - (this.idle[k] ?? 0) * elapsedMs)]),
    );
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(
      Object.entries(this.groups).map(([name, pids]) => [name, sum(pids(), (p) => cpuMs(p))]),
    );
  }

  static since(before: Record<string, number>, after: Record<string, number>) {
    return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
  }
}

export interface StepResult {
  target: TargetName;
  /** Which run of the ladder (1-based) this step belongs to; absent outside the ladder. */
  run?: number;
  /** What the store was: the wire server with this injected reply delay, or per-instance memory. */
  store: string;
  offeredRate: number;
  durationMs: number;
  sent: number;
  acked: number;
  /** Acked after the SDK's outbox sent them more than once. */
  resent: number;
  ackErrors: number;
  ackTimeouts: number;
  firstError?: string;
  /** Messages per second whose first frame left the SDK while the schedule ran. */
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
  /** From `send()` to the frame on the wire: time in the SDK's outbox, not part of any latency. */
  outboxWait: Percentiles;
  /** Messages an SDK announced as new twice on one device (must be zero). */
  shownTwice: number;
  /**
   * CPU milliseconds above idle per 1,000 messages sent, by process group (the target's two
   * servers, the store, Redis, the load generators).
   */
  cpuMsPer1000: Record<string, number>;
  /** The same CPU per 1,000 deliveries (messages times recipient devices reached). */
  cpuMsPer1000Deliveries: Record<string, number>;
  /** With a delay injected: the mean delay the store server actually added to its replies in this step. */
  measuredReplyDelayMs?: number;
  loadAverage: number;
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

export interface SaturationBound {
  p99Ms: number;
}

/**
 * One step of the ladder. Saturated means any of: e2e p99 over the bound, deliveries still
 * missing after the drain, sends not acked (errors or timeouts), or less than 90 % of the
 * offered rate on the wire (the load generator fell behind its own schedule, or the SDKs'
 * outboxes held messages back: one send in flight per conversation waits for its ack).
 */
export async function latencyStep(
  fleet: Fleet,
  store: string,
  rate: number,
  durationMs: number,
  bodyBytes: number,
  bound: SaturationBound,
  drainMs: number,
  cpu: CpuMeter,
  wire?: MongoWireServerHandle,
): Promise<StepResult> {
  const delaysBefore = wire && (await wire.stats()).measuredDelay;
  const cpuBefore = cpu.snapshot();
  const stepStarted = performance.now();
  const sent = await send(fleet, rate, durationMs, bodyBytes);
  const results = await drain(fleet, sent, drainMs);
  const cpuUsed = cpu.aboveIdle(
    CpuMeter.since(cpuBefore, cpu.snapshot()),
    performance.now() - stepStarted,
  );
  const delaysAfter = wire && (await wire.stats()).measuredDelay;
  const delayed =
    delaysBefore && delaysAfter && delaysAfter.count > delaysBefore.count
      ? Math.round(
          ((delaysAfter.meanMs * delaysAfter.count - delaysBefore.meanMs * delaysBefore.count) /
            (delaysAfter.count - delaysBefore.count)) *
            100,
        ) / 100
      : undefined;
  const startedAt = Math.min(...sent.runs.map((r) => r.startedAt));
  const endedAt = Math.max(...sent.runs.map((r) => r.endedAt));
  const lastDelivery = Math.max(endedAt, ...results.map((r) => r.lastDeliveryAt));
  const e2e = percentiles(merge(results.map((r) => r.e2e.all)));
  const totalSent = sum(sent.runs, (r) => r.sent);
  const step: StepResult = {
    target: fleet.target,
    store,
    offeredRate: rate,
    durationMs,
    sent: totalSent,
    acked: sum(sent.runs, (r) => r.acked.length),
    resent: sum(sent.runs, (r) => r.resent),
    ackErrors: sum(sent.runs, (r) => r.ackErrors),
    ackTimeouts: sum(sent.runs, (r) => r.ackTimeouts),
    ...(sent.runs.find((r) => r.firstError) && {
      firstError: sent.runs.find((r) => r.firstError)!.firstError!,
    }),
    achievedRate: Math.round(sum(sent.runs, (r) => r.onWire) / ((endedAt - startedAt) / 1000)),
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
    outboxWait: percentiles(merge(sent.runs.map((r) => r.outboxHist))),
    shownTwice: Math.max(0, ...results.map((r) => r.shownTwice)),
    cpuMsPer1000: Object.fromEntries(
      Object.entries(cpuUsed).map(([k, v]) => [k, Math.round((v * 1000) / Math.max(1, totalSent))]),
    ),
    cpuMsPer1000Deliveries: Object.fromEntries(
      Object.entries(cpuUsed).map(([k, v]) => [
        k,
        Math.round(
          (v * 10_000) /
            Math.max(
              1,
              sum(results, (r) => r.delivered),
            ),
        ) / 10,
      ]),
    ),
    ...(delayed !== undefined && { measuredReplyDelayMs: delayed }),
    loadAverage: loadAverage(),
    saturated: false,
  };
  const reasons: string[] = [];
  if (e2e.p99 > bound.p99Ms) reasons.push(`p99 ${e2e.p99} ms > ${bound.p99Ms} ms`);
  if (step.missing > 0) reasons.push(`${step.missing} deliveries missing after ${drainMs} ms`);
  if (step.ackErrors + step.ackTimeouts > 0)
    reasons.push(`${step.ackErrors + step.ackTimeouts} sends not acked (${step.firstError})`);
  if (step.achievedRate < rate * 0.9)
    reasons.push(`only ${step.achievedRate}/s left the load generator's SDKs`);
  if (reasons.length > 0) {
    step.saturated = true;
    step.reason = reasons.join('; ');
  }
  return step;
}

// ---------------------------------------------------------------------------------------------

export interface RoundTrips {
  commands: number;
  sequential: number;
  names: string[];
  ackMs: number;
}

/** The longest chain of commands where each one arrived after the one before it was answered. */
export function sequentialDepth(commands: { receivedAt: number; repliedAt: number }[]): number {
  const sorted = [...commands].sort((a, b) => a.receivedAt - b.receivedAt);
  const depth: number[] = [];
  sorted.forEach((c, i) => {
    let d = 1;
    for (let j = 0; j < i; j++)
      if (sorted[j]!.repliedAt <= c.receivedAt) d = Math.max(d, depth[j]! + 1);
    depth[i] = d;
  });
  return Math.max(0, ...depth);
}

const MONITORING = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'endSessions']);

/**
 * The store commands of one send through a real gateway instance on a quiet system, as the wire
 * server saw them between the send and its ack: a first attempt, then the same clientMessageId
 * again. Every reply is delayed by `probeDelayMs` meanwhile, so commands the gateway sends
 * together arrive together and only the ones that wait for an answer count as sequential.
 */
export async function storeRoundTrips(
  fleet: Fleet,
  store: MongoWireServerHandle,
  probeDelayMs = 5,
): Promise<{ first: RoundTrips; retry: RoundTrips; probeDelayMs: number }> {
  const conversation = 0;
  const worker = fleet.workerOf(conversation);
  const once = async (clientMessageId: string): Promise<RoundTrips> => {
    await store.startTrace();
    const probe = await fleet.one<Extract<Reply, { type: 'probed' }>>(worker, {
      type: 'probe-send',
      conversation,
      clientMessageId,
    });
    const trace = await store.takeTrace();
    if (!probe.ok) throw new Error(`round-trip probe send failed: ${probe.error}`);
    const during = trace.filter(
      (t) =>
        !MONITORING.has(t.name) && t.receivedAt >= probe.sentAt && t.repliedAt <= probe.ackedAt,
    );
    return {
      commands: during.length,
      sequential: sequentialDepth(during),
      names: during.sort((a, b) => a.receivedAt - b.receivedAt).map((t) => t.name),
      ackMs: Math.round((probe.ackedAt - probe.sentAt) * 100) / 100,
    };
  };
  await store.setReplyDelay(probeDelayMs);
  try {
    // A warm-up send first: the first use of a pooled connection costs a handshake.
    await once(`rt-warm-${Date.now()}`);
    const key = `rt-${Date.now()}`;
    const first = await once(key);
    const retry = await once(key);
    return { first, retry, probeDelayMs };
  } finally {
    await store.setReplyDelay(0);
  }
}

// ---------------------------------------------------------------------------------------------

export interface CapacityResult {
  target: TargetName;
  instance: 'A';
  sockets: number;
  clientProcesses: number;
  connected: number;
  connectSeconds: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerSocket: number;
  /**
   * Event-loop lag of instance A over `lagWindowMs` with every socket connected (sampling
   * interval taken off); none for Centrifugo (Go).
   */
  eventLoopLag?: EventLoopLag;
  lagWindowMs: number;
  loadAverage: number;
  firstError?: string;
}

/** Idle sockets on instance A of a target, from several client processes; what they cost it. */
export async function capacity(
  target: Target,
  pool: IdlePool,
  secret: string,
  sockets: number,
  settleMs: number,
  lagWindowMs: number,
): Promise<CapacityResult> {
  const pid = target.A.proc.pid!;
  await sleep(settleMs);
  const before = rssBytes(pid);
  const users = await Promise.all(
    Array.from({ length: sockets }, async (_, i) => {
      const userId = `${target.name}-idle${i}`;
      return { userId, token: await mintToken(secret, userId, 'candidate') };
    }),
  );
  const started = Date.now();
  const replies = await pool.open(target.A.url, users);
  const connectSeconds = (Date.now() - started) / 1000;
  await sleep(settleMs);
  await readEventLoopLag(target.A); // resets the histogram: the window starts now
  await sleep(lagWindowMs);
  const eventLoopLag = await readEventLoopLag(target.A);
  const after = rssBytes(pid);
  const load = loadAverage();
  await pool.close();
  const connected = sum(replies, (r) => r.connected);
  const firstError = replies.find((r) => r.firstError)?.firstError;
  return {
    target: target.name,
    instance: 'A',
    sockets,
    clientProcesses: pool.size,
    connected,
    connectSeconds,
    rssBeforeBytes: before,
    rssAfterBytes: after,
    bytesPerSocket: Math.round((after - before) / Math.max(1, connected)),
    ...(eventLoopLag && { eventLoopLag }),
    lagWindowMs,
    loadAverage: load,
    ...(firstError && { firstError }),
  };
}

// ---------------------------------------------------------------------------------------------

export type FaultKind = 'redis-restart' | 'kill-instance-b' | 'cluster-failover';

export interface FaultResult {
  kind: FaultKind;
  offeredRate: number;
  durationMs: number;
  sent: number;
  acked: number;
  /** Acked after the SDK's outbox sent them again (a timeout, a reconnect). */
  resent: number;
  notAcked: number;
  firstError?: string;
  expectedDeliveries: number;
  /** Deliveries the SDKs show from a live `message:new`. */
  deliveredLive: number;
  /** Expected deliveries live delivery never brought. */
  missingBeforeSync: number;
  /** Deliveries the SDKs show from a `sync` answer (their own gap, reconnect and list logic). */
  recoveredBySync: number;
  /** Acked messages a recipient device's SDK does not show after catching up. Must be zero. */
  lostAfterSync: number;
  /** `message:new` frames a device received twice (the SDK shows each message once). */
  duplicateLiveDeliveries: number;
  /** Messages an SDK announced as new twice: must be zero. */
  shownTwice: number;
  /** Longest a message waited in an SDK's outbox before its frame left (e.g. while reconnecting). */
  outboxWaitMaxMs: number;
  /** Devices still reconnecting or syncing when the catch-up wait ended. */
  syncErrors: number;
  syncFirstError?: string;
  /**
   * Redis faults: from the fault until live delivery across instances resumed in every
   * conversation it interrupted. Instance kill: until the last device of B reconnected to A.
   */
  recoveryMs: number;
  /** Longest stretch without a cross-instance live delivery in one conversation (Redis faults). */
  deliveryGapMs?: number;
  /** Conversations whose cross-instance deliveries stopped (Redis faults). */
  interruptedConversations?: number;
  /** Cluster: from the master's death until every running node reports cluster_state:ok. */
  failoverMs?: number;
  reconnectedDevices?: number;
  reconnectMsMax?: number;
  /** From the fault to the end of the first sync (which waits for the load to finish). */
  syncCompletedMs?: number;
  loadAverage: number;
}

export interface FaultTargets {
  target: Target;
  redis?: RedisServer;
  cluster?: RedisCluster;
}

/** Per conversation, the longest gap in cross-instance deliveries around the fault. */
function deliveryGaps(live: CollectResult[], faultAt: number, thresholdMs: number) {
  const buckets = new Map<number, Set<number>>();
  for (const r of live)
    for (const [idx, list] of Object.entries(r.crossBuckets)) {
      let set = buckets.get(Number(idx));
      if (!set) buckets.set(Number(idx), (set = new Set()));
      for (const b of list) set.add(b * 10);
    }
  let longest = 0;
  let recoveredAt = faultAt;
  let interrupted = 0;
  for (const set of buckets.values()) {
    const times = [...set].sort((a, b) => a - b);
    let previous = Math.max(...times.filter((t) => t < faultAt), faultAt - thresholdMs);
    let gap = 0;
    let gapEnd = faultAt;
    for (const t of times) {
      if (t < faultAt) continue;
      if (t - previous > gap) {
        gap = t - previous;
        gapEnd = t;
      }
      previous = t;
    }
    longest = Math.max(longest, gap);
    if (gap > thresholdMs) {
      interrupted++;
      recoveredAt = Math.max(recoveredAt, gapEnd);
    }
  }
  return { longest, recoveredAt, interrupted };
}

export async function fault(
  kind: FaultKind,
  fleet: Fleet,
  on: FaultTargets,
  opts: { rate: number; durationMs: number; bodyBytes: number; redisDownMs: number },
): Promise<FaultResult> {
  const sending = send(fleet, opts.rate, opts.durationMs, opts.bodyBytes);
  await sleep(opts.durationMs / 4);
  const faultAt = performance.timeOrigin + performance.now();
  let failoverDone: Promise<number> | undefined;
  if (kind === 'redis-restart') {
    await on.redis!.kill();
    await sleep(opts.redisDownMs);
    await on.redis!.restart();
  } else if (kind === 'kill-instance-b') {
    await on.target.B.proc.kill();
  } else {
    const cluster = on.cluster!;
    const startup = cluster.startupNodes[0]!.port;
    const victim = (await cluster.masters()).find((m) => m.port !== startup)!;
    await cluster.killNode(victim.port);
    failoverDone = (async () => {
      // cluster_state turns fail once the nodes notice, then ok once the replica took over.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const masters = await cluster.masters().catch(() => []);
        if (masters.length === 3 && !masters.some((m) => m.port === victim.port)) {
          await cluster.waitForState('ok', 30_000);
          return performance.timeOrigin + performance.now();
        }
        await sleep(50);
      }
      throw new Error('the cluster did not fail over within 30 s');
    })();
  }
  const sent = await sending;
  const failoverAt = await failoverDone;
  let reconnectedAt = faultAt;
  let reconnects: StatusResult['reconnects'] = [];
  if (kind === 'kill-instance-b') {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await fleet.all<StatusResult>(() => ({ type: 'status' }));
      reconnects = status.flatMap((s) => s.reconnects).filter((r) => r.downAt >= faultAt);
      if (status.every((s) => s.connected === s.total) || Date.now() > deadline) break;
      await sleep(200);
    }
    reconnectedAt = Math.max(faultAt, ...reconnects.map((r) => r.upAt));
  }
  // Live delivery first (what the adapter managed; the SDKs may already be syncing what they
  // see missing), then each device catches up as an app coming back does, by the SDK's logic.
  const live =
    kind === 'kill-instance-b'
      ? (await sleep(500), await collect(fleet, sent))
      : await drain(fleet, sent, 3_000);
  let syncErrors = 0;
  let syncFirstError: string | undefined;
  let after = live;
  let syncedAt = reconnectedAt;
  for (let round = 0; round < 3; round++) {
    const synced = await fleet.all<Extract<Reply, { type: 'synced' }>>(
      () => ({ type: 'sync' }),
      120_000,
    );
    if (round === 0) syncedAt = performance.timeOrigin + performance.now();
    syncErrors = sum(synced, (s) => s.behind);
    syncFirstError = synced.find((s) => s.firstError)?.firstError;
    after = await collect(fleet, sent);
    if (after.every((r) => r.missing === 0)) break;
    await sleep(1_000);
  }
  const acked = sum(sent.runs, (r) => r.acked.length);
  const expectedDeliveries = sum(after, (r) => r.expected);
  const deliveredLive = sum(after, (r) => r.deliveredLive);
  const result: FaultResult = {
    kind,
    offeredRate: opts.rate,
    durationMs: opts.durationMs,
    sent: sum(sent.runs, (r) => r.sent),
    acked,
    resent: sum(sent.runs, (r) => r.resent),
    notAcked: sum(sent.runs, (r) => r.ackErrors + r.ackTimeouts),
    ...(sent.runs.find((r) => r.firstError) && {
      firstError: sent.runs.find((r) => r.firstError)!.firstError!,
    }),
    expectedDeliveries,
    deliveredLive,
    missingBeforeSync: expectedDeliveries - deliveredLive,
    recoveredBySync: sum(after, (r) => r.deliveredBySync),
    lostAfterSync: sum(after, (r) => r.missing),
    duplicateLiveDeliveries: Math.max(...after.map((r) => r.duplicates)),
    shownTwice: Math.max(...after.map((r) => r.shownTwice)),
    outboxWaitMaxMs: Math.round(percentiles(merge(sent.runs.map((r) => r.outboxHist))).max),
    syncErrors,
    ...(syncFirstError && { syncFirstError }),
    recoveryMs: 0,
    loadAverage: loadAverage(),
  };
  if (kind === 'kill-instance-b') {
    result.reconnectedDevices = reconnects.length;
    result.reconnectMsMax = Math.round(Math.max(0, ...reconnects.map((r) => r.upAt - r.downAt)));
    result.recoveryMs = Math.round(reconnectedAt - faultAt);
    result.syncCompletedMs = Math.round(syncedAt - faultAt);
  } else {
    // A gap counts as an interruption when it is well beyond a conversation's usual spacing.
    const spacingMs = (1000 * fleet.conversations.length) / opts.rate;
    const gaps = deliveryGaps(live, faultAt, Math.max(500, 4 * spacingMs));
    result.deliveryGapMs = Math.round(gaps.longest);
    result.interruptedConversations = gaps.interrupted;
    result.recoveryMs = Math.round(gaps.recoveredAt - faultAt);
    if (failoverAt !== undefined) result.failoverMs = Math.round(failoverAt - faultAt);
  }
  return result;
}
