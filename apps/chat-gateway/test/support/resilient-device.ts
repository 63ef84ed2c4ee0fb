import {
  type Ack,
  type MessageDto,
  type SendResult,
  type SyncResult,
} from '@jobsphere/chat-domain';
import { io } from 'socket.io-client';
import { type ChatClient } from './gateway.js';

/**
 * A device as a well-behaved client is written: it reconnects to whichever instance
 * answers, syncs from the version it has after every reconnect, on `sync:required` and on
 * a gap, keeps messages by id (so a message seen twice counts once), and retries
 * unacknowledged sends with the same clientMessageId.
 */
export class ResilientDevice {
  readonly messages = new Map<string, MessageDto>();
  readonly acked = new Map<string, MessageDto>();
  socket: ChatClient | undefined;
  /** The conversation version this device holds everything up to. */
  private cursor = 0;
  private readonly seen = new Set<number>();
  private gapTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private closed = false;
  private readonly pending = new Map<string, string>();
  /** An instance that announced it is draining is avoided for a while. */
  private readonly avoid = new Map<string, number>();
  drainNotices = 0;
  reconnects = 0;
  /** Messages this device first learned of through `sync` (missed live). */
  recoveredBySync = 0;
  /** Every send attempt: when it started, how long until the answer (Infinity: none in 3 s), which. */
  readonly attempts: { at: number; ms: number; code: string }[] = [];

  constructor(
    readonly name: string,
    private readonly token: string,
    private readonly conversationId: string,
    private readonly urls: () => string[],
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    while (!this.closed) {
      const now = Date.now();
      const candidates = this.urls().filter((u) => (this.avoid.get(u) ?? 0) < now);
      for (const url of candidates.length > 0 ? candidates : this.urls()) {
        const socket: ChatClient = io(url, {
          auth: { token: this.token },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          timeout: 2_000,
        });
        const ok = await new Promise<boolean>((resolve) => {
          socket.once('connect', () => resolve(true));
          socket.once('connect_error', () => resolve(false));
        });
        if (!ok || this.closed) {
          socket.close();
          if (this.closed) return;
          continue;
        }
        this.socket = socket;
        socket.on('message:new', (m) => this.receive(m));
        socket.on('sync:required', () => void this.sync());
        socket.on('server:draining', () => {
          this.drainNotices++;
          this.avoid.set(url, Date.now() + 30_000);
          socket.disconnect();
        });
        socket.on('disconnect', () => {
          if (this.closed || this.socket !== socket) return;
          this.reconnects++;
          this.socket = undefined;
          void this.connect();
        });
        await this.sync();
        for (const [clientMessageId, body] of this.pending)
          void this.trySend(clientMessageId, body);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private receive(message: MessageDto): void {
    if (message.conversationId !== this.conversationId) return;
    this.messages.set(message.id, message);
    this.see(message.version);
    // A hole may only be a message still on its way: give it a moment before asking.
    if (this.seen.size > 0 && !this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        if (this.seen.size > 0) void this.sync();
      }, 300);
    }
  }

  /** Moves the cursor over contiguous versions; what is left in `seen` lies beyond a hole. */
  private see(version: number): void {
    if (version > this.cursor) this.seen.add(version);
    while (this.seen.delete(this.cursor + 1)) this.cursor++;
  }

  /** One sync at a time; asked again while one runs, it runs once more after. */
  async sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.syncOnce();
      } while (this.syncAgain && !this.closed);
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    for (;;) {
      const result: Ack<SyncResult> | undefined = await socket
        .timeout(5_000)
        .emitWithAck('sync', {
          conversations: [{ conversationId: this.conversationId, afterVersion: this.cursor }],
        })
        .catch(() => undefined);
      if (!result?.ok) return;
      const page = result.data.conversations[0]!;
      for (const m of page.messages) {
        if (!this.messages.has(m.id)) this.recoveredBySync++;
        this.messages.set(m.id, m);
        this.see(m.version);
      }
      // Everything up to the answer's version is here; holes below it were burned versions.
      if (page.version > this.cursor) {
        this.cursor = page.version;
        for (const v of this.seen) if (v <= this.cursor) this.seen.delete(v);
        this.see(this.cursor);
      }
      if (!page.hasMore) return;
    }
  }

  /** Sends until acked; the same clientMessageId on every attempt. */
  send(clientMessageId: string, body: string): void {
    this.pending.set(clientMessageId, body);
    void this.trySend(clientMessageId, body);
  }

  private async trySend(clientMessageId: string, body: string): Promise<void> {
    const socket = this.socket;
    if (!socket) return; // retried after the next connect
    const at = Date.now();
    const ack: Ack<SendResult> | undefined = await socket
      .timeout(3_000)
      .emitWithAck('message:send', { conversationId: this.conversationId, clientMessageId, body })
      .catch(() => undefined);
    this.attempts.push({
      at,
      ms: ack ? Date.now() - at : Infinity,
      code: !ack ? 'NO_ANSWER' : ack.ok ? 'OK' : ack.error.code,
    });
    if (ack?.ok) {
      this.pending.delete(clientMessageId);
      this.acked.set(ack.data.message.id, ack.data.message);
      this.messages.set(ack.data.message.id, ack.data.message);
      this.see(ack.data.message.version);
    } else if (this.pending.has(clientMessageId) && this.socket && !this.closed) {
      // A failed ack (store hiccup, timeout): try again shortly, same clientMessageId.
      setTimeout(() => void this.trySend(clientMessageId, body), 200);
    }
  }

  get unacked(): number {
    return this.pending.size;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.gapTimer);
    this.socket?.close();
  }
}
