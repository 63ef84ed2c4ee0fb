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
 * answers, syncs from the last seq it has after every reconnect, on `sync:required` and on
 * a gap, keeps messages by id (so a message seen twice counts once), and retries
 * unacknowledged sends with the same clientMessageId.
 */
export class ResilientDevice {
  readonly messages = new Map<string, MessageDto>();
  readonly acked = new Map<string, MessageDto>();
  socket: ChatClient | undefined;
  private lastSeq = 0;
  private closed = false;
  private readonly pending = new Map<string, string>();
  /** An instance that announced it is draining is avoided for a while. */
  private readonly avoid = new Map<string, number>();
  drainNotices = 0;
  reconnects = 0;
  /** Messages this device first learned of through `sync` (missed live). */
  recoveredBySync = 0;

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
    const gap = message.seq > this.lastSeq + 1;
    this.messages.set(message.id, message);
    if (gap) void this.sync();
    else this.lastSeq = Math.max(this.lastSeq, message.seq);
  }

  async sync(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    for (;;) {
      const after = this.lastSeq;
      const result: Ack<SyncResult> | undefined = await socket
        .timeout(5_000)
        .emitWithAck('sync', {
          conversations: [{ conversationId: this.conversationId, afterSeq: after }],
        })
        .catch(() => undefined);
      if (!result?.ok) return;
      const page = result.data.conversations[0]!;
      for (const m of page.messages) {
        if (!this.messages.has(m.id)) this.recoveredBySync++;
        this.messages.set(m.id, m);
        this.lastSeq = Math.max(this.lastSeq, m.seq);
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
    const ack: Ack<SendResult> | undefined = await socket
      .timeout(3_000)
      .emitWithAck('message:send', { conversationId: this.conversationId, clientMessageId, body })
      .catch(() => undefined);
    if (ack?.ok) {
      this.pending.delete(clientMessageId);
      this.acked.set(ack.data.message.id, ack.data.message);
      this.messages.set(ack.data.message.id, ack.data.message);
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
    this.socket?.close();
  }
}
