// What the SDK costs the client itself, apart from any server: CPU per incoming message and per
// send through @jobsphere/chat-client, on a fake socket that answers at once and a fake clock
// (time stands still, timers with a delay never fire). The load generator runs this same code in
// front of both targets; this says how much of its CPU column is the SDK's.
import {
  createChatClient,
  type ChatClient,
  type Clock,
  type FetchLike,
  type MessageDto,
  type SocketLike,
} from '@jobsphere/chat-client';

export interface SdkCost {
  /** CPU µs per `message:new` handled, in conversations holding up to this many messages. */
  incomingUs: { held: number; us: number }[];
  /** CPU µs per message from `send()` to its ack handled (send, ack, timeline, events). */
  sendUs: number;
  /** Messages each figure was taken over. */
  messages: number;
  /** Each message was announced once and only once (a sanity check of the fake). */
  shownOnce: boolean;
}

type Ack = (response: unknown) => void;

class FakeSocket implements SocketLike {
  connected = false;
  private readonly listeners = new Map<string, ((...args: never[]) => void)[]>();
  private any: ((event: string, ...args: unknown[]) => void) | undefined;
  private seq = new Map<string, number>();

  constructor(private readonly userId: string) {
    setImmediate(() => {
      this.connected = true;
      for (const l of this.listeners.get('connect') ?? []) l();
    });
  }

  on(event: string, listener: (...args: never[]) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  onAny(listener: (event: string, ...args: unknown[]) => void): void {
    this.any = listener;
  }

  push(event: string, payload: unknown): void {
    this.any?.(event, payload);
  }

  /** The next seq of a conversation, as the server would number it. */
  next(conversationId: string): number {
    const seq = (this.seq.get(conversationId) ?? 0) + 1;
    this.seq.set(conversationId, seq);
    return seq;
  }

  emit(event: string, payload: unknown, ack?: Ack): void {
    const answer = (data: unknown) => queueMicrotask(() => ack?.({ ok: true, data }));
    if (event === 'message:send') {
      const p = payload as { conversationId: string; clientMessageId: string; body: string };
      const seq = this.next(p.conversationId);
      answer({ message: message(p.conversationId, seq, this.userId, p), duplicate: false });
    } else if (event === 'sync') {
      const asked = (
        payload as { conversations: { conversationId: string; afterVersion: number }[] }
      ).conversations;
      answer({
        conversations: asked.map((c) => ({
          conversationId: c.conversationId,
          messages: [],
          version: c.afterVersion,
          hasMore: false,
          lastReadSeq: 0,
        })),
      });
    } else if (event === 'presence:query') answer({ users: [] });
  }

  disconnect(): void {
    this.connected = false;
  }
}

const CREATED_AT = new Date(0).toISOString();

function message(
  conversationId: string,
  seq: number,
  senderId: string,
  p: { clientMessageId: string; body: string },
): MessageDto {
  return {
    id: `${conversationId}-m${seq}`,
    conversationId,
    seq,
    version: seq,
    senderId,
    clientMessageId: p.clientMessageId,
    kind: 'user',
    body: p.body,
    createdAt: CREATED_AT,
  };
}

const frozenClock: Clock = {
  now: () => 1_700_000_000_000,
  // The SDK schedules its connection attempt with a zero delay; nothing with a delay runs.
  setTimeout: (callback, ms) => (ms <= 0 ? setImmediate(callback) : undefined),
  clearTimeout: (handle) => {
    if (handle) clearImmediate(handle as NodeJS.Immediate);
  },
};

const turn = () => new Promise<void>((r) => setImmediate(r));

function conversationDto(id: string, members: string[]) {
  return {
    id,
    kind: 'group',
    members: members.map((userId) => ({ userId, role: 'member', lastReadSeq: 0 })),
    createdBy: members[0],
    createdAt: CREATED_AT,
    lastActivityAt: CREATED_AT,
    lastSeq: 0,
    version: 0,
    lastReadSeq: 0,
    unreadCount: 0,
  };
}

/** A connected client holding `count` empty conversations, with its fake socket. */
async function connectedClient(count: number): Promise<{
  client: ChatClient;
  socket: FakeSocket;
  ids: string[];
}> {
  const ids = Array.from({ length: count }, (_, i) => `c${i}`);
  const list = {
    conversations: ids.map((id) => conversationDto(id, ['me', 'peer'])),
    totalUnread: 0,
  };
  const fetch: FetchLike = () =>
    Promise.resolve({
      ok: true,
      status: 200,
      headers: { get: () => null },
      text: () => Promise.resolve(JSON.stringify(list)),
    });
  let socket: FakeSocket | undefined;
  const client = createChatClient({
    url: 'http://fake',
    userId: 'me',
    token: 'token',
    clock: frozenClock,
    fetch,
    socketFactory: () => (socket = new FakeSocket('me')),
    limits: { maxConversations: Math.max(2_000, count) },
  });
  await client.connect({ failFast: true });
  await client.loadConversations();
  for (let i = 0; i < 3; i++) await turn();
  return { client, socket: socket!, ids };
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Pushes `n` messages round-robin over `ids`; CPU µs per message. */
function incoming(socket: FakeSocket, ids: string[], n: number, onto?: () => void): number {
  const before = cpuUs();
  for (let i = 0; i < n; i++) {
    const id = ids[i % ids.length]!;
    const seq = socket.next(id);
    socket.push(
      'message:new',
      message(id, seq, 'peer', { clientMessageId: `x${id}-${seq}`, body: `body ${seq}` }),
    );
  }
  onto?.();
  return (cpuUs() - before) / n;
}

export async function measureSdkCost(messages = 5_000): Promise<SdkCost> {
  const first = await measureOnce(Math.min(messages, 1_000)); // warm-up: the JIT, not the SDK
  return first.shownOnce ? measureOnce(messages) : first;
}

async function measureOnce(messages: number): Promise<SdkCost> {
  const incomingUs: SdkCost['incomingUs'] = [];
  let announced = 0;
  let expected = 0;
  // Conversations holding about 100 messages: 50 of them, `messages` spread over them.
  {
    const { client, socket, ids } = await connectedClient(50);
    client.on('message', () => announced++);
    const held = Math.round(messages / ids.length);
    incomingUs.push({ held, us: round2(incoming(socket, ids, messages)) });
    expected += messages;
    await client.close();
  }
  // One conversation at the SDK's default cap (5,000 held): every new message drops the oldest.
  {
    const { client, socket, ids } = await connectedClient(1);
    client.on('message', () => announced++);
    const cap = 5_000;
    incoming(socket, ids, cap);
    incomingUs.push({ held: cap, us: round2(incoming(socket, ids, messages)) });
    expected += cap + messages;
    await client.close();
  }
  // Sends: 50 conversations, 50 queued at a time (the outbox holds at most 500).
  let sendUs: number;
  {
    const { client, ids } = await connectedClient(50);
    let acked = 0;
    client.on('sent', () => acked++);
    let cpu = 0;
    for (let sent = 0; sent < messages;) {
      const before = cpuUs();
      for (let k = 0; k < 50 && sent < messages; k++, sent++)
        client.send(ids[sent % ids.length]!, `body ${sent}`);
      while (client.pending().length > 0) await turn();
      cpu += cpuUs() - before;
    }
    sendUs = round2(cpu / messages);
    if (acked !== messages) throw new Error(`sdk cost: ${acked} of ${messages} sends acked`);
    await client.close();
  }
  return { incomingUs, sendUs, messages, shownOnce: announced === expected };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
