// Messages between the coordinator and its load generator processes (child_process IPC).

export type Instance = 'A' | 'B';

export interface DeviceSpec {
  key: string;
  userId: string;
  token: string;
  instance: Instance;
}

export interface ConversationSpec {
  idx: number;
  id: string;
  kind: 'direct' | 'group';
  members: string[];
  /** The device every message of this conversation is sent from. */
  senderDevice: string;
  /** Where that device is connected at the start: deliveries to the other instance cross Redis. */
  senderInstance: Instance;
}

export type Command =
  | {
      type: 'connect';
      urls: Record<Instance, string>;
      devices: DeviceSpec[];
      conversations: ConversationSpec[];
      senders: number[];
      /** Devices may move to the other instance when theirs is unreachable (one shared store). */
      failover: boolean;
    }
  | {
      type: 'run';
      phase: number;
      ratePerSec: number;
      durationMs: number;
      ackTimeoutMs: number;
      bodyBytes: number;
    }
  | { type: 'probe-send'; conversation: number; clientMessageId: string }
  | { type: 'collect'; phase: number; acked: Record<number, number[]> }
  | { type: 'status' }
  | { type: 'sync' }
  | { type: 'idle-open'; url: string; users: { userId: string; token: string }[] }
  | { type: 'idle-close' }
  | { type: 'shutdown' };

export interface RunResult {
  type: 'ran';
  phase: number;
  /** Messages handed to the SDK (`send()`). */
  sent: number;
  /** Of those, the ones whose first frame left the SDK before the schedule ended. */
  onWire: number;
  acked: [number, number][];
  /** Acked after more than one attempt: the outbox sent them again (timeout, reconnect). */
  resent: number;
  /** Refused for good, or not taken (OUTBOX_FULL). */
  ackErrors: number;
  /** Still in the outbox `ackTimeoutMs` after the schedule ended. */
  ackTimeouts: number;
  firstError?: string;
  /** Encoded HDR histograms (microseconds). */
  ackHist: string;
  lagHist: string;
  /** From `send()` to the first frame on the wire: time in the SDK's outbox. */
  outboxHist: string;
  startedAt: number;
  endedAt: number;
}

export interface CollectResult {
  type: 'collected';
  phase: number;
  expected: number;
  /** Expected deliveries the SDK shows, by where it first got them. */
  delivered: number;
  deliveredLive: number;
  deliveredBySync: number;
  missing: number;
  /** `message:new` frames a device received twice (the SDK shows them once). */
  duplicates: number;
  /** Messages the SDK announced as new twice on one device: must be zero. */
  shownTwice: number;
  e2e: { all: string; direct: string; group: string };
  lastDeliveryAt: number;
  /**
   * Per conversation: 10 ms buckets (epoch ms / 10) with a live delivery to a device on the
   * other instance than the sender's, i.e. one that crossed Redis.
   */
  crossBuckets: Record<number, number[]>;
}

export interface StatusResult {
  type: 'status';
  connected: number;
  total: number;
  reconnects: { key: string; downAt: number; upAt: number }[];
}

export type Reply =
  | { type: 'connected'; connected: number; failed: number; firstError?: string }
  | RunResult
  | { type: 'probed'; ok: boolean; seq?: number; error?: string; sentAt: number; ackedAt: number }
  | CollectResult
  | StatusResult
  | { type: 'synced'; devices: number; behind: number; firstError?: string }
  | { type: 'idle-opened'; connected: number; failed: number; firstError?: string }
  | { type: 'ack' };
