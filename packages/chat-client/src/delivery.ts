import { Timer, type Clock } from './clock.js';
import { isRetryable, toChatError, type ChatError } from './errors.js';

/** One conversation's highest seq this device holds. */
export interface DeliveredPosition {
  conversationId: string;
  seq: number;
}

export interface DeliveryAcksOptions {
  clock: Clock;
  /** How long positions gather before one acknowledgement goes out. */
  debounceMs: number;
  /** Conversations per acknowledgement (the server's `maxDeliveredBatch`). */
  maxBatch: number;
  /** Sends one batch; resolves when the server took it. */
  send(positions: DeliveredPosition[]): Promise<unknown>;
  /** Whether a request can go out now (connected). */
  ready(): boolean;
  onError(error: ChatError): void;
}

/**
 * "Delivered": the highest seq this device holds per conversation, acknowledged at most once per
 * debounce window in one batch, never the same position twice. A batch that fails for a
 * transient reason goes again with the next flush (reconnect); a final refusal drops it.
 */
export class DeliveryAcks {
  private readonly held = new Map<string, number>();
  private readonly acked = new Map<string, number>();
  private readonly timer: Timer;
  private inFlight = false;

  constructor(private readonly options: DeliveryAcksOptions) {
    this.timer = new Timer(options.clock);
  }

  /** This device holds `conversationId` up to `seq` (a message of someone else arrived). */
  note(conversationId: string, seq: number): void {
    if (seq <= Math.max(this.held.get(conversationId) ?? 0, this.acked.get(conversationId) ?? 0))
      return;
    this.held.set(conversationId, seq);
    if (!this.timer.active) this.timer.set(this.options.debounceMs, () => this.flush());
  }

  /** Sends what is waiting now (after a reconnect, or when the window closes). */
  flush(): void {
    if (this.inFlight || this.held.size === 0 || !this.options.ready()) return;
    const batch: DeliveredPosition[] = [];
    for (const [conversationId, seq] of this.held) {
      if (batch.length === this.options.maxBatch) break;
      batch.push({ conversationId, seq });
    }
    for (const p of batch) this.held.delete(p.conversationId);
    this.inFlight = true;
    this.options
      .send(batch)
      .then(
        () => {
          for (const p of batch)
            if (p.seq > (this.acked.get(p.conversationId) ?? 0))
              this.acked.set(p.conversationId, p.seq);
        },
        (error: unknown) => {
          const e = toChatError(error);
          if (isRetryable(e.code))
            for (const p of batch)
              if (p.seq > (this.held.get(p.conversationId) ?? 0))
                this.held.set(p.conversationId, p.seq);
          this.options.onError(e);
        },
      )
      .finally(() => {
        this.inFlight = false;
        // More waited than one batch holds, or arrived meanwhile: the next window takes it.
        if (this.held.size > 0 && !this.timer.active)
          this.timer.set(this.options.debounceMs, () => this.flush());
      })
      .catch(() => undefined);
  }

  /** A conversation this device no longer holds (left, removed). */
  forget(conversationId: string): void {
    this.held.delete(conversationId);
    this.acked.delete(conversationId);
  }

  /** The store started over (new epoch): positions acknowledged before say nothing now. */
  reset(): void {
    this.acked.clear();
  }

  close(): void {
    this.timer.cancel();
  }
}
