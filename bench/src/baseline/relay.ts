// The baseline: a bare Socket.IO server on the Redis adapter, in the gateway's topology and
// with its events, minus auth, validation and the store. What the gateway costs on top of
// this is what the benchmark reports. Conversations are registered in Redis when they are
// opened, so either instance can serve any sender (read once per instance, then held).
// The load generator drives both targets with the SDK, so the relay answers the few things the
// SDK asks of any server, each as cheaply as it honestly can: messages carry `version` (= seq:
// here a conversation only ever changes by a message being appended), the conversation list and
// one conversation over REST (from the registry, read at connect time only), `sync` answered
// per conversation with nothing to catch up (nothing is stored), `presence:query` with nobody.
// With SEED_MONGODB_URI set it is the seed design instead (seed-store.ts): the same app, with a
// Mongoose `create` of each message before its emit, and the ack after both.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { connectSeedStore, type SeedStore } from './seed-store.js';

interface Conversation {
  id: string;
  kind: 'direct' | 'group';
  members: string[];
  seq: number;
  createdAt: string;
}

type Registered = Omit<Conversation, 'seq'>;

const port = Number(process.env['PORT'] ?? 0);
const redisUrl = process.env['REDIS_URL'];
const seedUri = process.env['SEED_MONGODB_URI'];
const seed: SeedStore | undefined = seedUri ? await connectSeedStore(seedUri) : undefined;
const conversations = new Map<string, Conversation>();

/** The user id from a bearer JWT's `sub`, read without verification (no auth here by design). */
function subjectOf(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  const payload = token.replace(/^Bearer /, '').split('.')[1];
  if (!payload) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    sub?: unknown;
  };
  return typeof claims.sub === 'string' ? claims.sub : undefined;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    req.on('end', () => resolve(data ? JSON.parse(data) : {}));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// The gateway's instrument (prom-client's default metrics, 20 ms resolution), reset on every read.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

function probe(res: ServerResponse): void {
  const lines = [
    `nodejs_eventloop_lag_p50_seconds ${loopDelay.percentile(50) / 1e9}`,
    `nodejs_eventloop_lag_p99_seconds ${loopDelay.percentile(99) / 1e9}`,
    `nodejs_eventloop_lag_max_seconds ${loopDelay.max / 1e9}`,
  ];
  loopDelay.reset();
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(lines.join('\n') + '\n');
}

const registryKey = (id: string) => `relay:conversation:${id}`;
const userKey = (userId: string) => `relay:user:${userId}`;

/** The ConversationDto fields the SDK reads, as a fresh conversation of this relay has them. */
function dto(c: Conversation) {
  return {
    id: c.id,
    kind: c.kind,
    members: c.members.map((userId) => ({
      userId,
      role: userId === c.members[0] ? 'owner' : 'member',
      lastReadSeq: 0,
    })),
    createdBy: c.members[0],
    createdAt: c.createdAt,
    lastActivityAt: c.createdAt,
    lastSeq: c.seq,
    version: c.seq,
    lastReadSeq: 0,
    unreadCount: 0,
  };
}

async function open(creator: string, raw: unknown): Promise<Conversation> {
  const body = raw as { kind?: string; userId?: string; memberIds?: string[] };
  const kind = body.kind === 'direct' ? 'direct' : 'group';
  const others = kind === 'direct' ? [body.userId ?? ''] : (body.memberIds ?? []);
  const conversation: Conversation = {
    id: randomUUID(),
    kind,
    members: [creator, ...others],
    seq: 0,
    createdAt: new Date().toISOString(),
  };
  conversations.set(conversation.id, conversation);
  if (pub) {
    const { seq: _seq, ...registered } = conversation;
    await pub.set(registryKey(conversation.id), JSON.stringify(registered));
    await Promise.all(conversation.members.map((m) => pub.sadd(userKey(m), conversation.id)));
  }
  return conversation;
}

async function listOf(userId: string): Promise<Conversation[]> {
  const ids = pub
    ? await pub.smembers(userKey(userId))
    : [...conversations.values()].filter((c) => c.members.includes(userId)).map((c) => c.id);
  const found = await Promise.all(ids.map((id) => lookUp(id)));
  return found.filter((c): c is Conversation => c !== undefined);
}

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return reply(res, 200, { status: 'ok' });
  if (req.method === 'GET' && req.url === '/probe') return probe(res);
  const caller = subjectOf(req.headers.authorization);
  const path = (req.url ?? '').split('?')[0]!;
  const one = /^\/conversations\/([^/]+)$/.exec(path);
  const failed = () => reply(res, 500, {});
  if (req.method === 'GET' && path === '/conversations') {
    if (!caller) return reply(res, 401, {});
    listOf(caller).then(
      (list) => reply(res, 200, { conversations: list.map((c) => dto(c)), totalUnread: 0 }),
      failed,
    );
    return;
  }
  if (req.method === 'GET' && one) {
    if (!caller) return reply(res, 401, {});
    lookUp(decodeURIComponent(one[1]!)).then(
      (c) => (c?.members.includes(caller) ? reply(res, 200, dto(c)) : reply(res, 404, {})),
      failed,
    );
    return;
  }
  if (req.method !== 'POST' || path !== '/conversations') return reply(res, 404, {});
  readBody(req).then(
    (raw) => {
      if (!caller) return reply(res, 401, {});
      return open(caller, raw).then((c) => reply(res, 201, dto(c)), failed);
    },
    () => reply(res, 400, {}),
  );
});

const io = new Server(http, { transports: ['websocket'], serveClient: false });
const pub = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: null }) : undefined;
if (pub) {
  const sub = pub.duplicate();
  for (const client of [pub, sub]) client.on('error', () => undefined);
  // Its own channel prefix: the relay and the seed app share one Redis in the bench, and neither
  // should decode the other's broadcasts.
  io.adapter(createAdapter(pub, sub, { key: seed ? 'seed-app' : 'socket.io' }));
}

/** A conversation this instance holds, or the one another instance registered in Redis. */
async function lookUp(id: string): Promise<Conversation | undefined> {
  const held = conversations.get(id);
  if (held || !pub || typeof id !== 'string') return held;
  const registered = await pub.get(registryKey(id));
  if (!registered) return undefined;
  const conversation = { ...(JSON.parse(registered) as Registered), seq: 0 };
  if (!conversations.has(id)) conversations.set(id, conversation);
  return conversations.get(id);
}

io.use((socket, next) => {
  const userId = subjectOf((socket.handshake.auth as { token?: unknown }).token);
  if (!userId) return next(new Error('no subject'));
  (socket.data as { userId: string }).userId = userId;
  next();
});

interface SendPayload {
  conversationId: string;
  clientMessageId: string;
  body: string;
}
type Ack = (a: unknown) => void;

function relay(socket: Socket, conversation: Conversation, payload: SendPayload, ack?: Ack): void {
  const { userId } = socket.data as { userId: string };
  const seq = ++conversation.seq;
  const message = {
    id: randomUUID(),
    conversationId: conversation.id,
    seq,
    version: seq,
    senderId: userId,
    clientMessageId: payload.clientMessageId,
    body: payload.body,
    createdAt: new Date().toISOString(),
  };
  // Same order as the gateway: fan out, then ack.
  const emit = () => {
    io.to(conversation.members.map((m) => `user:${m}`))
      .except(socket.id)
      .emit('message:new', message);
    ack?.({ ok: true, data: { message, duplicate: false } });
  };
  if (!seed) return emit();
  // The seed design: the message is stored (Mongoose `create`) before it is emitted.
  seed
    .create({
      conversationId: conversation.id,
      senderId: userId,
      content: payload.body,
      clientMessageId: payload.clientMessageId,
    })
    .then(emit, (error: unknown) =>
      ack?.({ ok: false, error: { code: 'UNAVAILABLE', message: String(error) } }),
    );
}

io.on('connection', (socket) => {
  const { userId } = socket.data as { userId: string };
  void socket.join(`user:${userId}`);
  socket.on('message:send', (payload: SendPayload, ack?: Ack) => {
    const refuse = () =>
      ack?.({ ok: false, error: { code: 'NOT_MEMBER', message: 'unknown conversation' } });
    const held = conversations.get(payload.conversationId);
    if (held) return relay(socket, held, payload, ack);
    lookUp(payload.conversationId).then(
      (found) => (found ? relay(socket, found, payload, ack) : refuse()),
      refuse,
    );
  });
  socket.on('sync', (payload: unknown, ack?: Ack) => {
    const asked = (
      payload as { conversations?: { conversationId: string; afterVersion: number }[] }
    ).conversations;
    ack?.({
      ok: true,
      data: {
        conversations: (Array.isArray(asked) ? asked : []).map((c) => ({
          conversationId: c.conversationId,
          messages: [],
          version: c.afterVersion,
          hasMore: false,
          lastReadSeq: 0,
        })),
      },
    });
  });
  socket.on('presence:query', (_payload: unknown, ack?: Ack) =>
    ack?.({ ok: true, data: { users: [] } }),
  );
});

http.listen(port, '127.0.0.1', () => {
  const address = http.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  console.log(`${seed ? 'seed design app' : 'baseline relay'} listening on :${bound}`);
});

process.on('SIGTERM', () => {
  void io.close(() => void (seed?.close() ?? Promise.resolve()).finally(() => process.exit(0)));
});
