// The baseline: a bare Socket.IO server on the Redis adapter, in the gateway's topology and
// with its events, minus auth, validation and the store. What the gateway costs on top of
// this is what the benchmark reports.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

interface Conversation {
  id: string;
  members: string[];
  seq: number;
}

const port = Number(process.env['PORT'] ?? 0);
const redisUrl = process.env['REDIS_URL'];
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

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return reply(res, 200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/conversations') return reply(res, 404, {});
  const creator = subjectOf(req.headers.authorization);
  readBody(req).then(
    (raw) => {
      const body = raw as { kind?: string; userId?: string; memberIds?: string[] };
      if (!creator) return reply(res, 401, {});
      const others = body.kind === 'direct' ? [body.userId ?? ''] : (body.memberIds ?? []);
      const conversation = { id: randomUUID(), members: [creator, ...others], seq: 0 };
      conversations.set(conversation.id, conversation);
      reply(res, 201, {
        id: conversation.id,
        members: conversation.members.map((userId) => ({ userId })),
      });
    },
    () => reply(res, 400, {}),
  );
});

const io = new Server(http, { transports: ['websocket'], serveClient: false });
if (redisUrl) {
  const pub = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) client.on('error', () => undefined);
  io.adapter(createAdapter(pub, sub));
}

io.use((socket, next) => {
  const userId = subjectOf((socket.handshake.auth as { token?: unknown }).token);
  if (!userId) return next(new Error('no subject'));
  (socket.data as { userId: string }).userId = userId;
  next();
});

io.on('connection', (socket) => {
  const { userId } = socket.data as { userId: string };
  void socket.join(`user:${userId}`);
  socket.on(
    'message:send',
    (
      payload: { conversationId: string; clientMessageId: string; body: string },
      ack?: (a: unknown) => void,
    ) => {
      const conversation = conversations.get(payload.conversationId);
      if (!conversation) {
        ack?.({ ok: false, error: { code: 'NOT_MEMBER', message: 'unknown conversation' } });
        return;
      }
      const message = {
        id: randomUUID(),
        conversationId: conversation.id,
        seq: ++conversation.seq,
        senderId: userId,
        clientMessageId: payload.clientMessageId,
        body: payload.body,
        createdAt: new Date().toISOString(),
      };
      // Same order as the gateway: fan out, then ack.
      io.to(conversation.members.map((m) => `user:${m}`))
        .except(socket.id)
        .emit('message:new', message);
      ack?.({ ok: true, data: { message, duplicate: false } });
    },
  );
  socket.on('sync', (_payload: unknown, ack?: (a: unknown) => void) =>
    ack?.({ ok: true, data: { conversations: [] } }),
  );
});

http.listen(port, '127.0.0.1', () => {
  const address = http.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  console.log(`baseline relay listening on :${bound}`);
});

process.on('SIGTERM', () => {
  void io.close(() => process.exit(0));
});
