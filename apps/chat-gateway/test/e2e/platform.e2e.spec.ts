import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket as NetSocket } from 'node:net';
import { waitUntil } from '@jobsphere/testing';
import {
  SERVICE_SCOPES,
  type ConversationDto,
  type MessageDto,
  type ServiceConversationResult,
  type ServiceScope,
  type SyncResult,
} from '@jobsphere/chat-domain';
import { SignJWT } from 'jose';
import mongoose from 'mongoose';
import { Webhook } from 'standardwebhooks';
import { collect, connectClient, rest, tokenFor, type ChatClient } from '../support/gateway.js';
import { startEnvironment, type Environment, type Topology } from '../support/environment.js';

// The platform's side over two gateway instances on one Redis and one store: a real HTTP
// receiver on loopback that fails and times out on purpose, service tokens, membership
// changes live and after sync, offline notifications, erasure checked in the store.

const SERVICE_SECRET = 'platform-e2e-service-secret-0123456789abcdef';
const WEBHOOK_SECRET = `whsec_${Buffer.from('platform-e2e-webhook-signing-key!').toString('base64')}`;
const TIMEOUT_MS = 400;
// Long enough for three sends on a loaded machine to land inside one window.
const OFFLINE_DELAY_MS = 1_000;

function serviceToken(scopes: readonly ServiceScope[] = SERVICE_SCOPES, secret = SERVICE_SECRET) {
  return new SignJWT({ scope: scopes.join(' '), token_use: 'service' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('jobsphere-backend')
    .setAudience('jobsphere-chat-service')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

interface Delivery {
  id: string;
  type: string;
  data: Record<string, unknown>;
  attempt: number;
  at: number;
  verified: boolean;
  answered: 'ok' | 'fail' | 'hang';
}

/**
 * The platform's endpoint. Every event's first attempt gets a 500 and its second hangs past
 * the gateway's deadline; the third is taken. Events `refuse` picks always get 500.
 * It checks every signature with the standardwebhooks library, as a receiver would.
 */
class Receiver {
  readonly deliveries: Delivery[] = [];
  refuse: ((event: { type: string; data: Record<string, unknown> }) => boolean) | undefined;
  private readonly attempts = new Map<string, number>();
  private readonly sockets = new Set<NetSocket>();
  private readonly held = new Set<ServerResponse>();
  private readonly verifier = new Webhook(WEBHOOK_SECRET);
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let verified = true;
    let event: { id: string; type: string; data: Record<string, unknown> };
    try {
      event = this.verifier.verify(body, req.headers as Record<string, string>) as typeof event;
    } catch {
      verified = false;
      event = JSON.parse(body) as typeof event;
    }
    const attempt = (this.attempts.get(event.id) ?? 0) + 1;
    this.attempts.set(event.id, attempt);
    const answered = this.refuse?.(event)
      ? 'fail'
      : attempt === 1
        ? 'fail'
        : attempt === 2
          ? 'hang'
          : 'ok';
    this.deliveries.push({ ...event, attempt, at: Date.now(), verified, answered });
    if (answered === 'hang') {
      this.held.add(res); // answered only when the test ends; the gateway gave up long before
      return;
    }
    res.writeHead(answered === 'ok' ? 204 : 500).end();
  }

  /** Deliveries this receiver accepted (answered 2xx), by event id. */
  accepted(): Map<string, Delivery[]> {
    const byId = new Map<string, Delivery[]>();
    for (const d of this.deliveries.filter((x) => x.answered === 'ok'))
      byId.set(d.id, [...(byId.get(d.id) ?? []), d]);
    return byId;
  }

  firstAttempt(predicate: (d: Delivery) => boolean): Delivery | undefined {
    return this.deliveries.find((d) => d.attempt === 1 && predicate(d));
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe.each<Topology>(['standalone', 'cluster'])(
  'the platform: server API, webhooks from the outbox, offline notifications, erasure (%s Redis)',
  (topology) => {
    let env: Environment;
    let receiver: Receiver;
    let service: string;
    const tokens: Record<string, string> = {};

    const api = <T>(method: string, path: string, body?: unknown, token = service) =>
      rest<T>(env.gateways[0]!.url, token, method, path, body);
    const sync = (socket: ChatClient, conversationId: string, afterVersion = 0) =>
      socket
        .timeout(5_000)
        .emitWithAck('sync', { conversations: [{ conversationId, afterVersion }] }) as Promise<{
        ok: boolean;
        data: SyncResult;
      }>;
    const send = (socket: ChatClient, conversationId: string, key: string, body: string) =>
      socket
        .timeout(5_000)
        .emitWithAck('message:send', { conversationId, clientMessageId: key, body }) as Promise<{
        ok: boolean;
        data: { message: MessageDto };
      }>;
    const device = async (
      userId: string,
      gateway: 0 | 1,
      role: 'candidate' | 'recruiter' = 'candidate',
    ) => {
      tokens[userId] ??= await tokenFor(userId, role);
      return connectClient(env.gateways[gateway]!.url, tokens[userId]);
    };

    beforeAll(async () => {
      receiver = new Receiver();
      await receiver.start();
      env = await startEnvironment({
        topology,
        gateways: 2,
        env: {
          SERVICE_TOKEN_SECRET: SERVICE_SECRET,
          WEBHOOK_URLS: receiver.url,
          WEBHOOK_SECRET,
          WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
          WEBHOOK_LEASE_MS: '1500',
          WEBHOOK_BACKOFF_BASE_MS: '50',
          WEBHOOK_BACKOFF_MAX_MS: '400',
          WEBHOOK_MAX_ATTEMPTS: '5',
          WEBHOOK_POLL_MS: '50',
          OFFLINE_NOTIFY_DELAY_MS: String(OFFLINE_DELAY_MS),
          OFFLINE_NOTIFY_WINDOW_MS: '600000',
        },
      });
      service = await serviceToken();
    }, 90_000);

    afterAll(async () => {
      await env?.dispose();
      await receiver?.stop();
    });

    it('refuses service tokens on sockets and user tokens on the server API, saying why', async () => {
      const refused = await connectClient(env.gateways[0]!.url, service).catch((e: unknown) => e);
      expect((refused as { data?: { code?: string } }).data?.code).toBe('UNAUTHORIZED');

      const user = await tokenFor('ulla', 'admin');
      const asUser = await api<{ error: { code: string } }>(
        'GET',
        '/service/v1/users/ulla/export',
        undefined,
        user,
      );
      expect(asUser.status).toBe(401);
      expect(asUser.body.error.code).toBe('UNAUTHORIZED');
      expect(asUser.headers.get('www-authenticate')).toBe(
        'Bearer realm="jobsphere-chat-service", error="invalid_token"',
      );
      const none = await rest(
        env.gateways[0]!.url,
        undefined,
        'GET',
        '/service/v1/users/ulla/export',
      );
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="jobsphere-chat-service"');
      // Signed with the user-token secret, or lacking the route's scope: refused too.
      const forged = await serviceToken(SERVICE_SCOPES, 'test-secret-test-secret-test-secret-1234');
      expect((await api('GET', '/service/v1/users/ulla/export', undefined, forged)).status).toBe(
        401,
      );
      const narrow = await api<{ error: { code: string } }>(
        'POST',
        '/service/v1/users/ulla/erasure',
        undefined,
        await serviceToken(['users:export']),
      );
      expect(narrow.status).toBe(403);
      expect(narrow.body.error.code).toBe('FORBIDDEN');
      expect(narrow.headers.get('www-authenticate')).toContain(
        'error="insufficient_scope", scope="users:erase"',
      );
      // And a service token is no user on the user routes.
      expect((await rest(env.gateways[1]!.url, service, 'GET', '/conversations')).status).toBe(401);
    });

    it('opens the conversation of an application, posts a system message, retitles and archives it: live on both instances and after sync', async () => {
      const candidate = await device('cara', 0);
      const recruiter = await device('rob', 1, 'recruiter');
      const created = [
        collect(candidate, 'conversation:created'),
        collect(recruiter, 'conversation:created'),
      ];
      const pushed = [collect(candidate, 'message:new'), collect(recruiter, 'message:new')];
      const updated = [
        collect(candidate, 'conversation:updated'),
        collect(recruiter, 'conversation:updated'),
      ];
      const body = {
        idempotencyKey: 'application-77',
        kind: 'direct',
        memberIds: ['rob', 'cara'],
        jobId: 'job-12',
        applicationId: 'application-77',
      };
      const opened = await api<ServiceConversationResult>(
        'POST',
        '/service/v1/conversations',
        body,
      );
      expect(opened.status).toBe(201);
      const id = opened.body.conversation.id;
      expect(opened.body.conversation).toMatchObject({
        kind: 'direct',
        jobId: 'job-12',
        createdBy: 'rob',
      });
      expect(opened.body.conversation.request).toBeUndefined();
      const again = await api<ServiceConversationResult>('POST', '/service/v1/conversations', body);
      expect(again.status).toBe(200);
      expect(again.body.conversation.id).toBe(id);
      await waitUntil(
        'both devices see the conversation',
        () => created.every((c) => c.length === 1),
        5_000,
      );

      // Accepted from the start: the candidate writes more than a stranger's allowance.
      for (let i = 0; i < 4; i++)
        expect((await send(candidate, id, `c${i}`, `hello ${i}`)).ok).toBe(true);
      const system = {
        idempotencyKey: 'interview-1',
        body: 'Interview scheduled for Thursday 10:00',
      };
      const posted = await api<{ message: MessageDto }>(
        'POST',
        `/service/v1/conversations/${id}/messages`,
        system,
      );
      expect(posted.status).toBe(201);
      expect((await api('POST', `/service/v1/conversations/${id}/messages`, system)).status).toBe(
        200,
      );
      // The recruiter's marker arrives after the system message: it was delivered once.
      const marker = (await send(recruiter, id, 'marker-1', 'see you then')).data.message;
      await waitUntil(
        'the marker on both devices',
        () => pushed[0]!.some((m) => m.id === marker.id),
        5_000,
      );
      for (const seen of [pushed[0]!, pushed[1]!.concat(marker)])
        expect(seen.filter((m) => m.kind === 'system').map((m) => m.body)).toEqual([system.body]);
      const list = await rest<{ conversations: ConversationDto[] }>(
        env.gateways[1]!.url,
        tokens['cara'],
        'GET',
        '/conversations',
      );
      // The system message and the marker are unread for the candidate.
      expect(list.body.conversations.find((c) => c.id === id)?.unreadCount).toBe(2);

      const patched = await api<ConversationDto>('PATCH', `/service/v1/conversations/${id}`, {
        title: 'Backend engineer — Cara',
        archived: true,
      });
      expect(patched.body).toMatchObject({ title: 'Backend engineer — Cara', archived: true });
      await waitUntil(
        'both devices told',
        () => updated.every((u) => u.some((x) => x.archived)),
        5_000,
      );
      for (const u of updated)
        expect(u.at(-1)).toMatchObject({
          conversationId: id,
          title: 'Backend engineer — Cara',
          archived: true,
          version: patched.body.version,
        });
      // A device that slept through it finds it all through sync, on the other instance.
      const later = await device('cara', 1);
      const synced = (await sync(later, id)).data.conversations[0]!;
      expect(synced.conversation).toMatchObject({
        title: 'Backend engineer — Cara',
        archived: true,
      });
      expect(synced.messages.map((m) => m.kind)).toEqual([
        'user',
        'user',
        'user',
        'user',
        'system',
        'user',
      ]);
    });

    it('adds and removes members: seen live on both instances and after sync; a removed member receives nothing more', async () => {
      const rob = await device('rob', 1, 'recruiter');
      const cara = await device('cara', 0);
      const hana = await device('hana', 1);
      const omar = await device('omar', 0);
      const opened = await api<ServiceConversationResult>('POST', '/service/v1/conversations', {
        idempotencyKey: 'panel-12',
        kind: 'group',
        title: 'Panel for job 12',
        memberIds: ['rob', 'cara', 'hana'],
        jobId: 'job-12',
      });
      const id = opened.body.conversation.id;
      const omarCreated = collect(omar, 'conversation:created');
      const updates = {
        rob: collect(rob, 'conversation:updated'),
        cara: collect(cara, 'conversation:updated'),
        hana: collect(hana, 'conversation:updated'),
      };
      const caraMessages = collect(cara, 'message:new');
      const omarMessages = collect(omar, 'message:new');

      const added = await api<ConversationDto>('POST', `/service/v1/conversations/${id}/members`, {
        userIds: ['omar'],
      });
      expect(added.status).toBe(200);
      await waitUntil(
        'omar sees it; the others are told',
        () => omarCreated.length === 1 && Object.values(updates).every((u) => u.length === 1),
        5_000,
      );
      for (const u of Object.values(updates))
        expect(u[0]!.memberIds).toEqual(['rob', 'cara', 'hana', 'omar']);

      const removed = await api<ConversationDto>(
        'DELETE',
        `/service/v1/conversations/${id}/members/cara`,
      );
      expect(removed.body.members.map((m) => m.userId)).toEqual(['rob', 'hana', 'omar']);
      await waitUntil('cara is told she left', () => updates.cara.length === 2, 5_000);
      expect(updates.cara[1]!.memberIds).not.toContain('cara');

      const after = (await send(rob, id, 'after-removal', 'welcome omar')).data.message;
      // Cara's marker: something for her sent after the group message; she receives in order.
      const direct = await api<ServiceConversationResult>('POST', '/service/v1/conversations', {
        idempotencyKey: 'cara-rob',
        kind: 'direct',
        memberIds: ['rob', 'cara'],
        jobId: 'job-13',
      });
      const marker = (await send(rob, direct.body.conversation.id, 'marker-2', 'for cara')).data
        .message;
      await waitUntil(
        'omar got it, cara her marker',
        () =>
          omarMessages.some((m) => m.id === after.id) &&
          caraMessages.some((m) => m.id === marker.id),
        5_000,
      );
      expect(caraMessages.map((m) => m.id)).not.toContain(after.id);
      const caraSync = (await sync(cara, id)).data.conversations[0]!;
      expect(caraSync.error?.code).toBe('NOT_A_MEMBER');
      expect(caraSync.messages).toEqual([]);
      // Hana's other device, on the other instance, catches up from scratch.
      const hanaLater = await device('hana', 0);
      const hanaSync = (await sync(hanaLater, id)).data.conversations[0]!;
      expect(hanaSync.conversation?.members.map((m) => m.userId)).toEqual(['rob', 'hana', 'omar']);
      expect(hanaSync.messages.map((m) => m.id)).toEqual([after.id]);
    });

    it('notifies an offline recipient once per window, after the delay, and never an online one', async () => {
      const sender = await device('sven', 0, 'recruiter');
      await device('olga', 1); // online: reads nothing, but is connected
      const toOffline = await api<ServiceConversationResult>('POST', '/service/v1/conversations', {
        idempotencyKey: 'n1',
        kind: 'direct',
        memberIds: ['sven', 'otto'],
        jobId: 'job-20',
      });
      const toOnline = await api<ServiceConversationResult>('POST', '/service/v1/conversations', {
        idempotencyKey: 'n2',
        kind: 'direct',
        memberIds: ['sven', 'olga'],
        jobId: 'job-20',
      });
      const onlineMessage = (await send(sender, toOnline.body.conversation.id, 'o1', 'for olga'))
        .data.message;
      const sentAt = Date.now();
      for (let i = 0; i < 3; i++)
        await send(sender, toOffline.body.conversation.id, `x${i}`, `Otto, message ${i}`);
      const isOtto = (d: Delivery) =>
        d.type === 'notification.offline' && d.data['recipientId'] === 'otto';
      await waitUntil(
        'the notification for otto',
        () =>
          receiver.accepted().size > 0 &&
          [...receiver.accepted().values()].some((ds) => isOtto(ds[0]!)),
        15_000,
      );
      const first = receiver.firstAttempt(isOtto)!;
      const firedAfterMs = first.at - sentAt;
      expect(first.data).toMatchObject({
        recipientId: 'otto',
        conversation: { id: toOffline.body.conversation.id, jobId: 'job-20' },
        sender: { userId: 'sven' },
        unreadCount: 3,
      });
      expect(firedAfterMs).toBeGreaterThanOrEqual(OFFLINE_DELAY_MS - 50);
      // The online recipient's check was due before otto's: it came and went without a word.
      const store = mongoose.createConnection(env.mongo.uri);
      try {
        await store.asPromise();
        await waitUntil(
          "olga's check settled",
          async () =>
            (await store.collection('outbox').countDocuments({
              _id: { $regex: `^offline:${onlineMessage.conversationId}:olga` },
            } as never)) === 0,
          5_000,
        );
        // One more message in the same window: no second check, no second notification.
        await send(sender, toOffline.body.conversation.id, 'x3', 'Otto, one more');
        const checks = await store
          .collection('outbox')
          .find({ kind: 'offline-check', payload: { $regex: 'otto' } })
          .toArray();
        expect(checks.map((c) => c['state'] as unknown)).toEqual(['done']);
      } finally {
        await store.close();
      }
      expect(
        receiver.deliveries.filter(
          (d) => d.type === 'notification.offline' && d.data['recipientId'] === 'olga',
        ),
      ).toEqual([]);
      expect(new Set(receiver.deliveries.filter(isOtto).map((d) => d.id)).size).toBe(1);
      console.log(
        `offline notification: first attempt ${firedAfterMs} ms after the first message (delay ${OFFLINE_DELAY_MS} ms)`,
      );
    });

    it('erasure leaves no body of the user in any collection; their export had it; the others see tombstones', async () => {
      const secret = `erase-me-${Date.now()}`;
      const eva = await device('eva', 1);
      const ron = await device('ron', 1, 'recruiter');
      const opened = await api<ServiceConversationResult>('POST', '/service/v1/conversations', {
        idempotencyKey: 'erase-1',
        kind: 'direct',
        memberIds: ['ron', 'eva'],
      });
      const id = opened.body.conversation.id;
      const mine = (await send(eva, id, 'e1', `${secret} my address`)).data.message;
      await send(eva, id, 'e2', `${secret} my phone`);
      await send(ron, id, 'r1', 'noted');
      // A report about her message as moderation keeps it (POST /reports comes with the gw14
      // branch): its snapshot holds her words.
      const seed = mongoose.createConnection(env.mongo.uri);
      try {
        await seed.asPromise();
        await seed.collection('reports').insertOne({
          reporterId: 'ron',
          reportedUserId: 'eva',
          conversationId: id,
          messageId: mine.id,
          reason: 'spam',
          snapshot: { senderId: 'eva', body: mine.body, createdAt: new Date() },
          createdAt: new Date(),
          status: 'open',
        });
      } finally {
        await seed.close();
      }
      const exported = await api<{ messages: MessageDto[] }>('GET', '/service/v1/users/eva/export');
      expect(exported.body.messages.map((m) => m.body)).toEqual([
        `${secret} my address`,
        `${secret} my phone`,
      ]);

      const gone = new Promise<string>((resolve) => eva.once('disconnect', resolve));
      const erased = await api<{ complete: boolean; messagesRedacted: number }>(
        'POST',
        '/service/v1/users/eva/erasure',
      );
      expect(erased.body).toMatchObject({
        complete: true,
        messagesRedacted: 2,
        conversationsLeft: 1,
      });
      // Her device is disconnected by the server (it was on the instance the call did not reach).
      expect(await gone).toBe('io server disconnect');
      const store = mongoose.createConnection(env.mongo.uri);
      try {
        await store.asPromise();
        const collections = (await store.db!.listCollections().toArray()).map((c) => c.name);
        expect(collections).toEqual(
          expect.arrayContaining(['messages', 'conversations', 'reports', 'outbox', 'erasures']),
        );
        const holding: string[] = [];
        for (const name of collections) {
          for (const doc of await store.collection(name).find({}).toArray())
            if (JSON.stringify(doc).includes(secret)) holding.push(name);
        }
        expect(holding).toEqual([]);
        const record = await store.collection('erasures').findOne({ userId: 'eva' });
        expect(record).toMatchObject({
          requestedBy: 'jobsphere-backend',
          messages: 2,
          conversations: 1,
        });
      } finally {
        await store.close();
      }
      const ronSync = (await sync(ron, id)).data.conversations[0]!;
      expect(
        ronSync.messages
          .filter((m) => m.senderId === 'eva')
          .map((m) => [m.body, Boolean(m.deletedAt)]),
      ).toEqual([
        ['', true],
        ['', true],
      ]);
      expect(ronSync.conversation?.members.map((m) => m.userId)).toEqual(['ron']);
    });

    it('delivers every event at least once through 500s, timeouts and a SIGKILL of a delivering instance; dead letters are listed and replayed', async () => {
      const opened = await api<ServiceConversationResult>('POST', '/service/v1/conversations', {
        idempotencyKey: 'faults-1',
        kind: 'group',
        title: 'Faults',
        memberIds: ['rob', 'fay'],
      });
      const id = opened.body.conversation.id;
      // This message's event is refused every time.
      receiver.refuse = (e) =>
        e.type === 'message.created' &&
        (e.data['message'] as { body?: string } | undefined)?.body === 'refuse me';
      await api('POST', `/service/v1/conversations/${id}/messages`, {
        idempotencyKey: 'refused',
        body: 'refuse me',
      });
      const posted: string[] = [];
      for (let i = 0; i < 24; i++) {
        const answer = await api<{ message: MessageDto }>(
          'POST',
          `/service/v1/conversations/${id}/messages`,
          { idempotencyKey: `burst-${i}`, body: `burst ${i}` },
        );
        posted.push(`msg_${answer.body.message.id}`);
      }
      // Mid-way: some delivered, the rest still in the outbox, some of them leased by A (its
      // lease ids carry the instance id it logged at start).
      const instanceA = /leases ([0-9a-f]+):\*/.exec(env.gateways[0]!.logs())?.[1];
      expect(instanceA).toBeDefined();
      const probe = mongoose.createConnection(env.mongo.uri);
      let heldByA: string[] = [];
      try {
        await probe.asPromise();
        await waitUntil(
          'A delivering',
          async () => {
            const leased = await probe
              .collection('outbox')
              .find({
                // Webhook deliveries only: an offline check A holds is settled, never posted.
                kind: 'webhook',
                state: 'pending',
                lease: { $regex: `^${instanceA}:` },
                dueAt: { $gt: new Date() },
              })
              .toArray();
            heldByA = leased.map((e) => String(e['_id']).split('@')[0]!);
            return heldByA.length > 0 && posted.some((p) => receiver.accepted().has(p));
          },
          15_000,
          10,
        );
      } finally {
        await probe.close();
      }
      const acceptedAtKill = posted.filter((p) => receiver.accepted().has(p)).length;
      await env.gateways[0]!.kill();
      await waitUntil(
        'every burst event accepted by the receiver',
        () => posted.every((p) => receiver.accepted().has(p)),
        30_000,
      );

      // The refused event: dead-lettered after 5 attempts, visible, replayable.
      const admin = (method: string, path: string) =>
        rest<{ entries: { id: string; attempts: number; event: { type: string } }[] }>(
          env.gateways[1]!.url,
          service,
          method,
          path,
        );
      await waitUntil(
        'the dead letter',
        async () =>
          (await admin('GET', '/service/v1/webhooks/dead-letters')).body.entries.length > 0,
        15_000,
      );
      const dead = (await admin('GET', '/service/v1/webhooks/dead-letters')).body.entries;
      expect(dead.map((d) => [d.event.type, d.attempts])).toEqual([['message.created', 5]]);
      receiver.refuse = undefined;
      expect(
        (
          await admin(
            'POST',
            `/service/v1/webhooks/dead-letters/${encodeURIComponent(dead[0]!.id)}/replay`,
          )
        ).status,
      ).toBe(204);
      const refusedEvent = dead[0]!.id.split('@')[0]!;
      await waitUntil(
        'the replayed event accepted',
        () => receiver.accepted().has(refusedEvent),
        15_000,
      );
      expect((await admin('GET', '/service/v1/webhooks/dead-letters')).body.entries).toEqual([]);

      // Nothing left in the outbox but settled checks: every event was delivered.
      const store = mongoose.createConnection(env.mongo.uri);
      let left: number;
      try {
        await store.asPromise();
        await waitUntil(
          'the outbox drained',
          async () => (await store.collection('outbox').countDocuments({ kind: 'webhook' })) === 0,
          30_000,
        );
        left = await store.collection('outbox').countDocuments({ kind: 'webhook' });
      } finally {
        await store.close();
      }
      expect(left).toBe(0);
      const accepted = receiver.accepted();
      const duplicates = [...accepted.values()].reduce((sum, ds) => sum + ds.length - 1, 0);
      expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
      for (const p of posted) expect(accepted.has(p)).toBe(true);
      // What A held when it died was delivered by B once A's leases ran out.
      for (const held of heldByA) expect(accepted.has(held)).toBe(true);
      const types = new Set([...accepted.values()].map((ds) => ds[0]!.type));
      expect([...types].sort()).toEqual([
        'conversation.created',
        'member.added',
        'member.removed',
        'message.created',
        'notification.offline',
      ]);
      console.log(
        `webhooks: ${accepted.size} events emitted and delivered (${receiver.deliveries.length} attempts: ` +
          `${receiver.deliveries.filter((d) => d.answered === 'fail').length} answered 500, ` +
          `${receiver.deliveries.filter((d) => d.answered === 'hang').length} timed out), ${duplicates} duplicates, ` +
          `1 dead-lettered then replayed; SIGKILL of gateway A holding ${heldByA.length} leases when ` +
          `${acceptedAtKill}/${posted.length} of the burst were accepted`,
      );
    }, 120_000);
  },
);
