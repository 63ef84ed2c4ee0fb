import { Timer, type Clock } from './clock.js';

export interface TypingOptions {
  clock: Clock;
  /** While composing, `typing:start` goes out at most once per this interval. */
  refreshMs: number;
  /** No keystroke for this long sends `typing:stop`. */
  idleMs: number;
  /** Someone else's indicator without a refresh disappears after the server's `expiresInMs`, or this. */
  defaultExpiryMs: number;
  /** At most this many people shown typing per conversation. */
  maxTypers: number;
  emit(event: 'typing:start' | 'typing:stop', conversationId: string): void;
  onChange(conversationId: string): void;
}

/**
 * Typing both ways: our own indicator throttled (one `typing:start` per refresh interval, a
 * `typing:stop` after an idle pause), others' indicators expiring by themselves. Every
 * indicator is one timer; nothing outlives `clear()`.
 */
export class Typing {
  private composing: { conversationId: string; sentAt: number } | undefined;
  private readonly idle: Timer;
  private readonly others = new Map<string, Map<string, Timer>>();

  constructor(private readonly options: TypingOptions) {
    this.idle = new Timer(options.clock);
  }

  /** Call on every keystroke in `conversationId`'s composer. */
  keystroke(conversationId: string): void {
    const now = this.options.clock.now();
    const current = this.composing;
    if (current && current.conversationId !== conversationId) this.stop(current.conversationId);
    if (!this.composing || now - this.composing.sentAt >= this.options.refreshMs) {
      this.composing = { conversationId, sentAt: now };
      this.options.emit('typing:start', conversationId);
    }
    this.idle.set(this.options.idleMs, () => this.stop(conversationId));
  }

  /** The composer was emptied or left. */
  stop(conversationId: string): void {
    if (this.composing?.conversationId !== conversationId) return;
    this.composing = undefined;
    this.idle.cancel();
    this.options.emit('typing:stop', conversationId);
  }

  /** A message went out: the server clears our indicator itself. */
  sent(conversationId: string): void {
    if (this.composing?.conversationId !== conversationId) return;
    this.composing = undefined;
    this.idle.cancel();
  }

  /** Who else types in `conversationId`, in the order they started. */
  typers(conversationId: string): string[] {
    return [...(this.others.get(conversationId)?.keys() ?? [])];
  }

  /** A `typing` event from the server (already checked: a member, not us). */
  received(conversationId: string, userId: string, typing: boolean, expiresInMs?: number): void {
    let users = this.others.get(conversationId);
    const timer = users?.get(userId);
    if (!typing) {
      if (timer) this.forget(conversationId, userId);
      return;
    }
    if (!users) this.others.set(conversationId, (users = new Map<string, Timer>()));
    if (!timer && users.size >= this.options.maxTypers) return;
    const expiry = Math.min(Math.max(expiresInMs ?? this.options.defaultExpiryMs, 0), 60_000);
    const next = timer ?? new Timer(this.options.clock);
    next.set(expiry, () => this.forget(conversationId, userId));
    if (!timer) {
      users.set(userId, next);
      this.options.onChange(conversationId);
    }
  }

  /** `userId`'s message arrived: their indicator goes. */
  messageFrom(conversationId: string, userId: string): void {
    if (this.others.get(conversationId)?.has(userId)) this.forget(conversationId, userId);
  }

  /** Disconnected or closed: nobody is shown typing, no timer stays. */
  clear(): void {
    this.idle.cancel();
    this.composing = undefined;
    for (const [conversationId, users] of this.others) {
      for (const timer of users.values()) timer.cancel();
      if (users.size > 0) this.options.onChange(conversationId);
    }
    this.others.clear();
  }

  private forget(conversationId: string, userId: string): void {
    const users = this.others.get(conversationId);
    users?.get(userId)?.cancel();
    users?.delete(userId);
    if (users?.size === 0) this.others.delete(conversationId);
    this.options.onChange(conversationId);
  }
}
