// The per-step bookkeeping every load generator keeps, whatever client its devices are (the SDK
// in worker.ts, Centrifugo's client in centrifugo-worker.ts): end-to-end latency of each
// delivery's first copy by step and conversation kind, copies received twice, the deliveries
// that crossed Redis, and what `collect` and `run` answer from them.
import { encode, newHistogram, recordMs, type Histogram } from '../hist.js';
import type { CollectResult, ConversationSpec, RunResult } from './protocol.js';

interface Step {
  all: Histogram;
  direct: Histogram;
  group: Histogram;
  lastDeliveryAt: number;
  /** Per conversation idx: 10 ms buckets with a delivery that crossed Redis. */
  cross: Map<number, Set<number>>;
}

export class StepBook {
  private readonly steps = new Map<number, Step>();
  private readonly conversationsById = new Map<string, ConversationSpec>();
  /** Messages a device received more than once (the first copy alone is timed). */
  duplicates = 0;

  /** The conversations of the run, for the kind of each delivery. */
  setConversations(conversations: ConversationSpec[]): void {
    for (const c of conversations) this.conversationsById.set(c.id, c);
  }

  private step(n: number): Step {
    let step = this.steps.get(n);
    if (!step) {
      step = {
        all: newHistogram(),
        direct: newHistogram(),
        group: newHistogram(),
        lastDeliveryAt: 0,
        cross: new Map(),
      };
      this.steps.set(n, step);
    }
    return step;
  }

  /**
   * A message a device received: `seen` holds, per conversation id, the numbers that device
   * received before. The first copy's latency is recorded from its body ("<step>|<sentAtMs>|
   * padding", the time written as it left the sender); a later copy counts as a duplicate.
   * `instance` is where the receiving device is, when a delivery may cross Redis.
   */
  received(
    seen: Map<string, Set<number>>,
    conversationId: string,
    n: number,
    body: string,
    receivedAt: number,
    instance?: string,
  ): void {
    let numbers = seen.get(conversationId);
    if (!numbers) seen.set(conversationId, (numbers = new Set()));
    if (numbers.has(n)) {
      this.duplicates++;
      return;
    }
    numbers.add(n);
    const [stepText, sentText] = body.split('|', 2);
    const step = this.step(Number(stepText));
    const latency = receivedAt - Number(sentText);
    const conversation = this.conversationsById.get(conversationId);
    recordMs(step.all, latency);
    recordMs(conversation?.kind === 'group' ? step.group : step.direct, latency);
    step.lastDeliveryAt = receivedAt;
    if (conversation && instance !== undefined && instance !== conversation.senderInstance) {
      let buckets = step.cross.get(conversation.idx);
      if (!buckets) step.cross.set(conversation.idx, (buckets = new Set()));
      buckets.add(Math.floor(receivedAt / 10));
    }
  }

  /**
   * What `collect` answers for a step: every acked message (per conversation idx, its numbers)
   * expected on every device of its members but the sender's, and where each device got it
   * (`shows`: 'live', 'sync', another source, or undefined when it does not show it).
   */
  collect<D extends { key: string; userId: string }>(
    phase: number,
    acked: Record<number, number[]>,
    conversations: ConversationSpec[],
    devices: Iterable<D>,
    shows: (device: D, conversationId: string, n: number) => string | undefined,
    shownTwice: number,
  ): CollectResult {
    let expected = 0;
    let delivered = 0;
    let deliveredLive = 0;
    let deliveredBySync = 0;
    const all = [...devices];
    for (const [idxText, numbers] of Object.entries(acked)) {
      const conversation = conversations[Number(idxText)]!;
      const members = new Set(conversation.members);
      for (const device of all) {
        if (!members.has(device.userId) || device.key === conversation.senderDevice) continue;
        expected += numbers.length;
        for (const n of numbers) {
          const source = shows(device, conversation.id, n);
          if (source === undefined) continue;
          delivered++;
          if (source === 'live') deliveredLive++;
          else if (source === 'sync') deliveredBySync++;
        }
      }
    }
    const step = this.step(phase);
    return {
      type: 'collected',
      phase,
      expected,
      delivered,
      deliveredLive,
      deliveredBySync,
      missing: expected - delivered,
      duplicates: this.duplicates,
      shownTwice,
      e2e: { all: encode(step.all), direct: encode(step.direct), group: encode(step.group) },
      lastDeliveryAt: step.lastDeliveryAt,
      crossBuckets: Object.fromEntries(
        [...step.cross].map(([idx, set]) => [idx, [...set].sort((a, b) => a - b)]),
      ),
    };
  }
}

/**
 * What `run` answers, `ackTimeouts` being the sends with no outcome `ackTimeoutMs` after the
 * schedule ended (`unanswered` says where they are, for the error when no other was seen).
 */
export function ranReply(
  r: Omit<RunResult, 'type' | 'firstError' | 'ackHist' | 'lagHist' | 'outboxHist'> & {
    firstError: string | undefined;
    ackHist: Histogram;
    lagHist: Histogram;
    outboxHist: Histogram;
    ackTimeoutMs: number;
    unanswered: string;
  },
): RunResult {
  const firstError =
    r.ackTimeouts > 0
      ? (r.firstError ?? `${r.ackTimeouts} ${r.unanswered} ${r.ackTimeoutMs} ms after the end`)
      : r.firstError;
  return {
    type: 'ran',
    phase: r.phase,
    sent: r.sent,
    onWire: r.onWire,
    acked: r.acked,
    resent: r.resent,
    ackErrors: r.ackErrors,
    ackTimeouts: r.ackTimeouts,
    ...(firstError && { firstError }),
    ackHist: encode(r.ackHist),
    lagHist: encode(r.lagHist),
    outboxHist: encode(r.outboxHist),
    startedAt: r.startedAt,
    endedAt: r.endedAt,
  };
}
