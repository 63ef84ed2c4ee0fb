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
  | { type: 'failover'; enabled: boolean }
  | { type: 'status' }
  | { type: 'sync' }
  | { type: 'rehome' }
  | { type: 'idle-open'; url: string; tokens: string[] }
  | { type: 'idle-close' }
  | { type: 'shutdown' };

export interface RunResult {
  type: 'ran';
  phase: number;
  sent: number;
  acked: [number, number][];
  ackErrors: number;
  ackTimeouts: number;
  firstError?: string;
  /** Encoded HDR histograms (microseconds). */
  ackHist: string;
  lagHist: string;
  startedAt: number;
  endedAt: number;
}

export interface CollectResult {
  type: 'collected';
  phase: number;
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
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
  | { type: 'synced'; recovered: number; errors: number; firstError?: string }
  | { type: 'idle-opened'; connected: number; failed: number; firstError?: string }
  | { type: 'ack' };
