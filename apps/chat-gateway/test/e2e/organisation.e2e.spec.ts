import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { waitUntil } from '@jobsphere/testing';
import {
  LIMITS,
  type ConversationDto,
  type ConversationList,
  type OrganisedDto,
  type SyncResult,
} from '@jobsphere/chat-domain';
import mongoose from 'mongoose';
import { startEnvironment, type Environment } from '../support/environment.js';
import {
  closeAllClients,
  collect,
  connectClient,
  openAccepted,
  restAs,
  tokenFor,
} from '../support/gateway.js';

type ChatClient = Awaited<ReturnType<typeof connectClient>>;
type Answer<T> = { ok: true; data: T } | { ok: false; error: { code: string } };

// Mute, pin, archive and mark unread over two gateway instances sharing Redis and the store:
// REST on one, sockets on the other, the webhook receiver a real HTTP server.
describe('per-person organisation across two instances', () => {
  let env: Environment;
  let A: string;
  let B: string;
  let hooks: Server;
  const notified: string[] = [];
  const tokens: Record<string, string> = {};

  const api = restAs(tokens);
  const device = (user: string, url: string) => connectClient(url, tokens[user]!);
  const emit = <T>(socket: ChatClient, event: string, payload: unknown) =>
    (
      socket.timeout(5_000) as unknown as {
        emitWithAck(e: string, p: unknown): Promise<Answer<T>>;
      }
    ).emitWithAck(event, payload);
  const send = (socket: ChatClient, conversationId: string, key: string) =>
    emit(socket, 'message:send', { conversationId, clientMessageId: key, body: key });
  const list = async (url: string, user: string, box = 'inbox') =>
    (await api<ConversationList>(url, user, 'GET', `/conversations?limit=50&box=${box}`)).body;

  beforeAll(async () => {
    hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          type: string;
          data: { recipientId?: string };
        };
        if (event.type === 'notification.offline') notified.push(event.data.recipientId ?? '');
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    env = await startEnvironment({
      gateways: 2,
      env: {
        WEBHOOK_URLS: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`,
        WEBHOOK_SECRET: `whsec_${Buffer.from('organisation-e2e-webhook-key!!').toString('base64')}`,
        WEBHOOK_POLL_MS: '50',
        OFFLINE_NOTIFY_DELAY_MS: '300',
        OFFLINE_NOTIFY_WINDOW_MS: '600000',
      },
    });
    [A, B] = env.gateways.map((g) => g.url) as [string, string];
    for (const user of ['rita', 'sam', 'pia', 'omar']) tokens[user] = await tokenFor(user);
  }, 90_000);

  afterAll(async () => {
    closeAllClients();
    await env?.dispose();
    await new Promise<void>((resolve) => hooks?.close(() => resolve()));
  });

  it('a muted conversation gets no offline webhook and leaves the unread total, still listed', async () => {
    const toSam = await openAccepted(A, tokens.rita!, tokens.sam!, { userId: 'sam' });
    const toPia = await openAccepted(A, tokens.rita!, tokens.pia!, { userId: 'pia' });
    const muted = await api<OrganisedDto>(B, 'sam', 'PATCH', `/conversations/${toSam.id}/me`, {
      muted: true,
    });
    expect(muted).toMatchObject({ status: 200, body: { conversationId: toSam.id, muted: true } });

    const rita = await device('rita', A);
    expect(await send(rita, toSam.id, 'to-sam')).toMatchObject({ ok: true });
    expect(await send(rita, toPia.id, 'to-pia')).toMatchObject({ ok: true });
    // Pia (offline, not muted) is told; sam's check is settled without a word.
    await waitUntil('pia notified', () => notified.includes('pia'), 15_000);
    const store = mongoose.createConnection(env.mongo.uri);
    try {
      await store.asPromise();
      await waitUntil(
        "sam's offline check settled",
        async () =>
          (await store.collection('outbox').countDocuments({
            _id: { $regex: `^offline:${toSam.id}:sam` },
            state: { $ne: 'done' },
          } as never)) === 0,
        15_000,
      );
    } finally {
      await store.close();
    }
    expect(notified).not.toContain('sam');

    const sams = await list(A, 'sam');
    expect(sams.totalUnread).toBe(0);
    expect(sams.conversations.find((c) => c.id === toSam.id)).toMatchObject({
      unreadCount: 1,
      organisation: { muted: true, pinned: false, archived: false, unread: false },
    });
    // Rita's view carries nothing of sam's choice.
    const ritas = await api<ConversationDto>(B, 'rita', 'GET', `/conversations/${toSam.id}`);
    expect(ritas.body.organisation).toBeUndefined();
  });

  it(`pins list first; past ${LIMITS.maxPinned} is refused with CONFLICT, also when two instances race`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < LIMITS.maxPinned + 2; i++) {
      const peer = `peer${i}`;
      tokens[peer] ??= await tokenFor(peer);
      ids.push((await openAccepted(A, tokens.omar!, tokens[peer], { userId: peer })).id);
    }
    const pin = (url: string, id: string) =>
      api<{ error?: { code: string } }>(url, 'omar', 'PATCH', `/conversations/${id}/me`, {
        pinned: true,
      });
    for (const [i, id] of ids.slice(0, LIMITS.maxPinned - 1).entries())
      expect((await pin(i % 2 ? A : B, id)).status).toBe(200);
    // One slot left, two pins at once on two instances: at most one stays.
    const raced = await Promise.all([
      pin(A, ids[LIMITS.maxPinned - 1]!),
      pin(B, ids[LIMITS.maxPinned]!),
    ]);
    expect(raced.map((r) => r.status).every((s) => s === 200 || s === 409)).toBe(true);
    const pinnedNow = async () =>
      (await list(B, 'omar')).conversations.filter((c) => c.organisation?.pinned).map((c) => c.id);
    const afterRace = await pinnedNow();
    expect(afterRace.length).toBe(
      LIMITS.maxPinned - 1 + raced.filter((r) => r.status === 200).length,
    );
    expect(afterRace.length).toBeLessThanOrEqual(LIMITS.maxPinned);
    // Fill the cap, then one more: refused, said why, nothing changed.
    for (const id of ids.slice(0, LIMITS.maxPinned + 1))
      if (!afterRace.includes(id) && (await pinnedNow()).length < LIMITS.maxPinned)
        expect((await pin(A, id)).status).toBe(200);
    const full = await pinnedNow();
    expect(full).toHaveLength(LIMITS.maxPinned);
    const extra = ids.find((id) => !full.includes(id))!;
    const refused = await pin(B, extra);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('CONFLICT');
    const listed = (await list(A, 'omar')).conversations.map((c) => c.id);
    expect(new Set(listed.slice(0, LIMITS.maxPinned))).toEqual(new Set(full));
    expect(listed.slice(LIMITS.maxPinned)).toContain(extra);
  });

  it('an archived conversation leaves the inbox, is told to the other device live, and comes back on a new message', async () => {
    const c = await openAccepted(A, tokens.rita!, tokens.pia!, { userId: 'pia' });
    const phone = await device('pia', A);
    const laptop = await device('pia', B);
    const seen = collect(laptop, 'conversation:organised');
    const onPhone = collect(phone, 'conversation:organised');
    expect(
      await emit(phone, 'conversation:organise', { conversationId: c.id, archived: true }),
    ).toEqual({
      ok: true,
      data: { conversationId: c.id, muted: false, pinned: false, archived: true, unread: false },
    });
    await waitUntil('laptop told', () => seen.length === 1, 10_000);
    expect(seen[0]).toMatchObject({ conversationId: c.id, archived: true });
    expect(onPhone).toEqual([]);
    expect((await list(B, 'pia')).conversations.map((x) => x.id)).not.toContain(c.id);
    expect((await list(A, 'pia', 'archived')).conversations.map((x) => x.id)).toEqual([c.id]);

    const rita = await device('rita', B);
    expect(await send(rita, c.id, 'are-you-there')).toMatchObject({ ok: true });
    const back = await list(A, 'pia');
    expect(back.conversations[0]).toMatchObject({ id: c.id });
    expect(back.conversations[0]!.organisation).toBeUndefined();
    expect((await list(B, 'pia', 'archived')).conversations).toEqual([]);
  });

  it('mark as unread reaches the other device live and a device away by sync; reading clears it everywhere', async () => {
    const c = await openAccepted(B, tokens.omar!, tokens.sam!, { userId: 'sam' });
    const omar = await device('omar', A);
    await send(omar, c.id, 'hello');
    await api(A, 'sam', 'POST', `/conversations/${c.id}/read`, { seq: 1 });
    const phone = await device('sam', A);
    const laptop = await device('sam', B);
    const seen = collect(laptop, 'conversation:organised');
    const marked = await emit<OrganisedDto>(phone, 'conversation:organise', {
      conversationId: c.id,
      unread: true,
    });
    expect(marked).toMatchObject({ ok: true, data: { unread: true } });
    await waitUntil('laptop told', () => seen.length === 1, 10_000);
    expect(seen[0]).toMatchObject({ conversationId: c.id, unread: true });

    // A device that was away learns it by sync.
    const away = await device('sam', B);
    const synced = await emit<SyncResult>(away, 'sync', {
      conversations: [{ conversationId: c.id, afterVersion: 0 }],
    });
    expect(synced.ok && synced.data.conversations[0]!.organisation).toMatchObject({ unread: true });
    expect((await list(A, 'sam')).totalUnread).toBeGreaterThanOrEqual(1);

    // Reading it on the phone clears the mark on the laptop.
    await emit(phone, 'conversation:read', { conversationId: c.id, seq: 1 });
    await waitUntil('cleared on the laptop', () => seen.length === 2, 10_000);
    expect(seen[1]).toMatchObject({ conversationId: c.id, unread: false });
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const c = await openAccepted(A, tokens.rita!, tokens.omar!, { userId: 'omar' });
    const both = await api<{ error: { code: string } }>(
      A,
      'omar',
      'PATCH',
      `/conversations/${c.id}/me`,
      {
        pinned: true,
        archived: true,
      },
    );
    expect(both.status).toBe(400);
    const empty = await api<{ error: { code: string } }>(
      A,
      'omar',
      'PATCH',
      `/conversations/${c.id}/me`,
      {},
    );
    expect(empty.status).toBe(400);
    const stranger = await api<{ error: { code: string } }>(
      B,
      'pia',
      'PATCH',
      `/conversations/${c.id}/me`,
      {
        muted: true,
      },
    );
    expect(stranger.status).toBe(404);
    expect(
      (await api<ConversationDto>(B, 'omar', 'GET', `/conversations/${c.id}`)).body.organisation,
    ).toBeUndefined();
  });
});
