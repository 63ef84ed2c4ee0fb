// The only place the load generator speaks Socket.IO. Everything else in the worker talks to a
// ChatDevice, so the client logic can be swapped for the SDK (@jobsphere/chat-client) behind the
// same interface. Fairness: latency is timed at this boundary (just before the send is handed to
// the socket, first thing when a message arrives) and the same adapter drives the gateway and
// the bare relay, so client-side cost weighs on both alike and is never counted as the gateway's.
import { io, type Socket } from 'socket.io-client';

export interface IncomingMessage {
  conversationId: string;
  seq: number;
  body: string;
}

export type SendResult =
  { ok: true; seq: number } | { ok: false; code: string; message: string; timeout?: boolean };

export interface SyncCursor {
  conversationId: string;
  afterVersion: number;
}

export interface SyncEntry {
  conversationId: string;
  seqs: number[];
  hasMore: boolean;
}

export interface ChatDevice {
  readonly connected: boolean;
  send(
    input: { conversationId: string; clientMessageId: string; body: string },
    timeoutMs: number,
  ): Promise<SendResult>;
  /** One sync request; rejects when it is refused or times out. */
  sync(cursors: SyncCursor[], limit: number, timeoutMs: number): Promise<SyncEntry[]>;
  close(): void;
}

export interface DeviceEvents {
  onMessage?: (message: IncomingMessage, receivedAt: number) => void;
  onDisconnect?: () => void;
}

interface AckShape {
  ok: boolean;
  data?: { message: { seq: number } };
  error?: { code: string; message: string };
}

interface SyncShape {
  ok: boolean;
  data?: {
    conversations: { conversationId: string; messages: { seq: number }[]; hasMore: boolean }[];
  };
  error?: { code: string; message: string };
}

/** Current time in epoch milliseconds with sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A connected device, or a rejection with the server's connect_error. */
export function connectDevice(
  url: string,
  token: string,
  events: DeviceEvents = {},
  timeoutMs = 20_000,
): Promise<ChatDevice> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    if (events.onMessage) {
      const onMessage = events.onMessage;
      socket.on('message:new', (m: IncomingMessage) => onMessage(m, nowMs()));
    }
    socket.once('connect', () => {
      if (events.onDisconnect) socket.on('disconnect', events.onDisconnect);
      resolve(new SocketIoDevice(socket));
    });
    socket.once('connect_error', (error: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(new Error(`${error.data?.code ?? 'connect_error'}: ${error.message}`));
    });
  });
}

class SocketIoDevice implements ChatDevice {
  constructor(private readonly socket: Socket) {}

  get connected(): boolean {
    return this.socket.connected;
  }

  async send(
    input: { conversationId: string; clientMessageId: string; body: string },
    timeoutMs: number,
  ): Promise<SendResult> {
    if (!this.socket.connected)
      return { ok: false, code: 'DISCONNECTED', message: 'not connected' };
    try {
      const ack = (await this.socket
        .timeout(timeoutMs)
        .emitWithAck('message:send', input)) as AckShape;
      if (ack.ok && ack.data) return { ok: true, seq: ack.data.message.seq };
      return { ok: false, code: ack.error?.code ?? '?', message: ack.error?.message ?? '' };
    } catch (error) {
      return { ok: false, code: 'TIMEOUT', message: String(error), timeout: true };
    }
  }

  async sync(cursors: SyncCursor[], limit: number, timeoutMs: number): Promise<SyncEntry[]> {
    const reply = (await this.socket
      .timeout(timeoutMs)
      .emitWithAck('sync', { conversations: cursors, limit })) as SyncShape;
    if (!reply.ok || !reply.data) throw new Error(`${reply.error?.code}: ${reply.error?.message}`);
    return reply.data.conversations.map((c) => ({
      conversationId: c.conversationId,
      seqs: c.messages.map((m) => m.seq),
      hasMore: c.hasMore,
    }));
  }

  close(): void {
    this.socket.close();
  }
}
