import {
  type Ack,
  type ClientToServerEvents,
  type MessageDto,
  type SendResult,
  type ServerToClientEvents,
  type SyncResult,
} from '@jobsphere/chat-domain';
import { io, type Socket } from 'socket.io-client';

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const RETRYABLE = new Set<string>(['UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL']);

/**
 * One device of one user, behind the load balancer's single URL, written as a client must be:
 * it reconnects (to whatever instance the balancer picks) when dropped or told
 * `server:draining`, retries a refused handshake (UNAVAILABLE from a draining instance), syncs
 * from its last position after every connect, and resends an unacknowledged message with the
 * same clientMessageId until it is acknowledged.
 */
export class Device {
  /** What this device shows, by message id (a message seen twice counts once). */
  readonly messages = new Map<string, MessageDto>();
  /** Messages this device sent and the server acknowledged as stored. */
  readonly acked = new Map<string, MessageDto>();
  /** `message:new` events per message id, to count duplicates. */
  readonly liveDeliveries = new Map<string, number>();
  /** Why sends were not acknowledged at first (error code, or "timeout"), with counts. */
  readonly sendRefusals = new Map<string, number>();
  drainNotices = 0;
  connects = 0;
  refusedHandshakes = 0;
  recoveredBySync = 0;
  private socket: ChatSocket | undefined;
  /** The conversation version this device holds every change up to (the sync cursor). */
  private version = 0;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private closed = false;
  private readonly pending = new Map<string, string>();

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly token: string,
    private readonly conversationId: string,
  ) {}

  get unacked(): number {
    return this.pending.size;
  }

  /** Connects (retrying for up to `timeoutMs`) and syncs. */
  async start(timeoutMs = 10_000): Promise<void> {
    await this.connect(timeoutMs);
  }

  private async connect(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline)
        throw new Error(`${this.name}: no instance accepted it within ${timeoutMs} ms`);
      const socket: ChatSocket = io(this.url, {
        auth: { token: this.token },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: 2_000,
      });
      const connected = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', () => resolve(false));
      });
      if (!connected || this.closed) {
        socket.close();
        if (!connected) this.refusedHandshakes++;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.connects++;
      this.socket = socket;
      socket.on('message:new', (message) => this.receive(message));
      socket.on('sync:required', () => void this.sync());
      socket.on('server:draining', () => {
        this.drainNotices++;
        socket.disconnect(); // the balancer sends the next connection to an instance in rotation
      });
      socket.on('disconnect', () => {
        if (this.closed || this.socket !== socket) return;
        this.socket = undefined;
        void this.connect().catch(() => undefined);
      });
      await this.sync();
      for (const [clientMessageId, body] of this.pending) void this.trySend(clientMessageId, body);
      return;
    }
  }

  private receive(message: MessageDto): void {
    if (message.conversationId !== this.conversationId) return;
    this.liveDeliveries.set(message.id, (this.liveDeliveries.get(message.id) ?? 0) + 1);
    this.messages.set(message.id, message);
    // A version beyond the next one means a change was missed (or burned): catch up.
    if (message.version > this.version + 1) void this.sync();
    else this.version = Math.max(this.version, message.version);
  }

  /** Catches up from the cursor, page by page; one sync at a time, re-run if asked meanwhile. */
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
    for (let page = 0; page < 100; page++) {
      const result = (await socket
        .timeout(5_000)
        .emitWithAck('sync', {
          conversations: [{ conversationId: this.conversationId, afterVersion: this.version }],
        })
        .catch(() => undefined)) as Ack<SyncResult> | undefined;
      if (!result?.ok) return;
      const conversation = result.data.conversations[0];
      if (!conversation) return;
      for (const message of conversation.messages) {
        if (!this.messages.has(message.id)) this.recoveredBySync++;
        this.messages.set(message.id, message);
      }
      // Everything up to the answer's version is here (holes below it were burned versions).
      this.version = Math.max(this.version, conversation.version);
      if (!conversation.hasMore) return;
    }
  }

  /** Sends until acknowledged, with the same clientMessageId on every attempt. */
  send(clientMessageId: string, body: string): void {
    this.pending.set(clientMessageId, body);
    void this.trySend(clientMessageId, body);
  }

  private async trySend(clientMessageId: string, body: string): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed) return; // resent after the next connect
    const ack = (await socket
      .timeout(3_000)
      .emitWithAck('message:send', { conversationId: this.conversationId, clientMessageId, body })
      .catch(() => undefined)) as Ack<SendResult> | undefined;
    if (ack?.ok) {
      this.pending.delete(clientMessageId);
      this.acked.set(ack.data.message.id, ack.data.message);
      this.messages.set(ack.data.message.id, ack.data.message);
    } else {
      const reason =
        ack && !ack.ok
          ? `${ack.error.code}${ack.error.issues ? ` ${JSON.stringify(ack.error.issues)}` : ''}`
          : 'no answer';
      this.sendRefusals.set(reason, (this.sendRefusals.get(reason) ?? 0) + 1);
    }
    // Retry what may succeed later (no answer, UNAVAILABLE, RATE_LIMITED); anything else is final.
    const retry = !ack || (!ack.ok && RETRYABLE.has(ack.error.code));
    if (!ack?.ok && !retry) this.pending.delete(clientMessageId);
    if (retry && this.pending.has(clientMessageId) && this.socket === socket && !this.closed) {
      setTimeout(() => void this.trySend(clientMessageId, body), 200);
    }
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }
}
