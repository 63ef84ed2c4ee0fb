import { waitUntil } from '@jobsphere/testing';
import {
  type Ack,
  type ConversationDto,
  type PresenceDto,
  type ReadEvent,
  type TypingEvent,
} from '@jobsphere/chat-domain';
import {
  collect,
  connectClient,
  openAccepted,
  rest,
  startGatewayProcess,
  tokenFor,
  acceptInvitations,
} from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// Read receipts, unread counts, typing, presence and rate limits, on two instances
// sharing Redis: what makes the chat feel alive, and holds across instances.
describe('chat experience across two instances', () => {
  let env: Environment;
  let conversation: ConversationDto;
  let t: Record<'rita' | 'sam', string>;

  beforeAll(async () => {
    env = await startEnvironment({
      env: {
        PRESENCE_TTL_MS: '3000',
        // Offline is announced this long after the last device leaves (no flicker on a switch).
        PRESENCE_OFFLINE_GRACE_MS: '200',
        RATE_LIMIT_SEND_PER_10S: '12',
        RATE_LIMIT_REST_PER_MIN: '1000',
        // The presence test polls until the TTL passes.
        RATE_LIMIT_PRESENCE_PER_MIN: '1000',
      },
    });
    t = { rita: await tokenFor('rita', 'recruiter'), sam: await tokenFor('sam', 'candidate') };
    conversation = await openAccepted(env.gateways[0]!.url, t.rita, t.sam, {
      userId: 'sam',
      applicationId: 'app-7',
    });
  }, 60_000);

  afterAll(async () => {
    await env?.dispose();
  });

  it('keeps unread counts and "seen" in step across two devices of one user and the other user', async () => {
    const [A, B] = env.gateways;
    const rita = await connectClient(A!.url, t.rita);
    const samPhone = await connectClient(A!.url, t.sam);
    const samLaptop = await connectClient(B!.url, t.sam);
    const ritaReads = collect(rita, 'conversation:read');
    const laptopReads = collect(samLaptop, 'conversation:read');
    const phoneReads = collect(samPhone, 'conversation:read');

    for (let i = 1; i <= 3; i++) {
      const ack = await rita.emitWithAck('message:send', {
        conversationId: conversation.id,
        clientMessageId: `u${i}`,
        body: `question ${i}`,
      });
      expect(ack.ok).toBe(true);
    }
    const unread = async (token: string) =>
      (
        await rest<{ conversations: ConversationDto[]; totalUnread: number }>(
          B!.url,
          token,
          'GET',
          '/conversations',
        )
      ).body;
    expect(await unread(t.sam)).toMatchObject({
      totalUnread: 3,
      conversations: [{ unreadCount: 3, lastReadSeq: 0 }],
    });
    expect(await unread(t.rita)).toMatchObject({ totalUnread: 0 });

    const read = await samPhone.emitWithAck('conversation:read', {
      conversationId: conversation.id,
      seq: 2,
    });
    expect(read).toEqual({
      ok: true,
      data: { conversationId: conversation.id, lastReadSeq: 2, unreadCount: 1 },
    });
    const expected: ReadEvent = { conversationId: conversation.id, userId: 'sam', lastReadSeq: 2 };
    await waitUntil(
      'read events on both instances',
      () => ritaReads.length === 1 && laptopReads.length === 1,
      10_000,
    );
    expect(ritaReads).toEqual([expected]); // "seen" for the sender
    expect(laptopReads).toEqual([expected]); // the reader's other device clears its badge
    expect(phoneReads).toEqual([]); // not echoed to the device that read
    expect(await unread(t.sam)).toMatchObject({ totalUnread: 1 });

    // Going backwards changes nothing and tells nobody.
    expect(
      await samLaptop.emitWithAck('conversation:read', { conversationId: conversation.id, seq: 1 }),
    ).toMatchObject({ ok: true, data: { lastReadSeq: 2 } });
    // The REST equivalent, from the laptop's instance.
    const viaRest = await rest(B!.url, t.sam, 'POST', `/conversations/${conversation.id}/read`, {
      seq: 3,
    });
    expect(viaRest).toMatchObject({ status: 200, body: { lastReadSeq: 3, unreadCount: 0 } });
    await waitUntil('second read event', () => ritaReads.length === 2, 10_000);
    expect(ritaReads[1]).toMatchObject({ lastReadSeq: 3 });
    expect(await unread(t.sam)).toMatchObject({ totalUnread: 0 });
    for (const s of [rita, samPhone, samLaptop]) s.close();
  });

  it('shows typing to the other member only, throttled, and lets it expire by itself', async () => {
    const [A, B] = env.gateways;
    const rita = await connectClient(A!.url, t.rita);
    const ritaOther = await connectClient(B!.url, t.rita);
    const sam = await connectClient(B!.url, t.sam);
    const samSees = collect(sam, 'typing');
    const ritaOtherSees = collect(ritaOther, 'typing');
    for (let i = 0; i < 5; i++) rita.emit('typing:start', { conversationId: conversation.id });
    await waitUntil('typing on the other instance', () => samSees.length >= 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(samSees).toEqual<TypingEvent[]>([
      { conversationId: conversation.id, userId: 'rita', typing: true, expiresInMs: 5000 },
    ]);
    expect(ritaOtherSees).toEqual([]);
    const started = Date.now();
    await waitUntil('typing to expire', () => samSees.length === 2, 8_000);
    expect(samSees[1]).toEqual({ conversationId: conversation.id, userId: 'rita', typing: false });
    expect(Date.now() - started).toBeGreaterThan(4_000);

    // A stranger's typing goes nowhere and is refused.
    const mallory = await connectClient(A!.url, await tokenFor('mallory'));
    expect(
      await mallory.emitWithAck('typing:start', { conversationId: conversation.id }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_A_MEMBER' } });
    for (const s of [rita, ritaOther, sam, mallory]) s.close();
  }, 20_000);

  it('tracks presence over several devices, and drops a killed instance\u2019s users within the TTL', async () => {
    const [A] = env.gateways;
    const watcher = await connectClient(A!.url, t.rita);
    const events = collect(watcher, 'presence');
    const query = async () => {
      const ack = await watcher.emitWithAck('presence:query', { userIds: ['sam', 'mallory'] });
      if (!ack.ok) throw new Error(ack.error.code);
      return ack.data.users;
    };
    // A third instance that will die with sam connected to it.
    const C = await startGatewayProcess(env.gatewayEnv);

    const phone = await connectClient(A!.url, t.sam);
    await waitUntil('sam online', () => events.some((e) => e.userId === 'sam' && e.online), 10_000);
    // From here on: what this test's devices cause (earlier tests' sam left before).
    const since = events.findIndex((e) => e.userId === 'sam' && e.online);
    expect((await query())[0]).toMatchObject({ userId: 'sam', online: true });
    // mallory shares no conversation with rita: not revealed.
    expect((await query()).map((p) => p.userId)).toEqual(['sam']);

    const laptop = await connectClient(C.url, t.sam);
    phone.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await query())[0]).toMatchObject({ online: true }); // still on the laptop
    expect(events.slice(since).filter((e) => e.userId === 'sam' && !e.online)).toEqual([]);

    const killedAt = Date.now();
    await C.kill();
    await waitUntil(
      'sam offline after the instance died',
      async () => !(await query())[0]!.online,
      10_000,
    );
    const offlineAfter = Date.now() - killedAt;
    await waitUntil(
      'offline pushed',
      () => events.some((e) => e.userId === 'sam' && !e.online),
      10_000,
    );
    const offline = events.find((e): e is PresenceDto => e.userId === 'sam' && !e.online)!;
    expect(offline.lastSeenAt).toEqual(expect.any(String));
    console.log(`presence: offline ${offlineAfter} ms after SIGKILL of its instance (TTL 3000 ms)`);
    expect(laptop.connected).toBe(false);
    watcher.close();
    await C.process.dispose();
  }, 30_000);

  it('holds a user\u2019s send budget across both instances, answering RATE_LIMITED with a retry time', async () => {
    const [A, B] = env.gateways;
    const onA = await connectClient(A!.url, t.sam);
    const onB = await connectClient(B!.url, t.sam);
    const results: { ok: boolean; code?: string; retryAfterMs?: number }[] = [];
    for (let i = 0; i < 14; i++) {
      const socket = i % 2 === 0 ? onA : onB;
      const ack = await socket.emitWithAck('message:send', {
        conversationId: conversation.id,
        clientMessageId: `rl-${i}`,
        body: 'hi',
      });
      results.push(
        ack.ok
          ? { ok: true }
          : {
              ok: false,
              code: ack.error.code,
              ...(ack.error.retryAfterMs !== undefined && { retryAfterMs: ack.error.retryAfterMs }),
            },
      );
    }
    // Earlier tests used none of sam's budget of 12 per 10 s. Each instance answers from its own
    // count and learns the other's spending from Redis after each send, so one send at a time
    // across two instances can pass the budget by at most one.
    const accepted = results.filter((r) => r.ok).length;
    expect(accepted).toBeGreaterThanOrEqual(12);
    expect(accepted).toBeLessThanOrEqual(13);
    expect(results.slice(0, accepted).every((r) => r.ok)).toBe(true);
    for (const refused of results.slice(accepted)) {
      expect(refused).toEqual({
        ok: false,
        code: 'RATE_LIMITED',
        retryAfterMs: expect.any(Number),
      });
      expect(refused.retryAfterMs).toBeGreaterThan(0);
    }
    console.log(`send budget across two instances: ${accepted} of 14 accepted, budget 12`);
    // The refusals were counted where they happened, on one instance or both.
    const refusedOn = await Promise.all(
      [A!, B!].map(async (g) => {
        const metrics = await rest<string>(g.url, undefined, 'GET', '/metrics');
        return Number(/chat_rate_limited_total\{scope="send"\} (\d+)/.exec(metrics.body)?.[1] ?? 0);
      }),
    );
    expect(refusedOn[0]! + refusedOn[1]!).toBe(14 - accepted);
    onA.close();
    onB.close();
  });

  it('answers a typing flood with RATE_LIMITED and keeps serving', async () => {
    const cora = await tokenFor('cora', 'candidate');
    const group = (
      await rest<ConversationDto>(env.gateways[0]!.url, t.rita, 'POST', '/conversations', {
        kind: 'group',
        title: 'Flood',
        memberIds: ['cora'],
      })
    ).body;
    await acceptInvitations(env.gateways[1]!.url, group.id, [cora]);
    const socket = await connectClient(env.gateways[1]!.url, cora);
    const acks: Ack<null>[] = await Promise.all(
      Array.from(
        { length: 30 },
        () =>
          socket.emitWithAck('typing:start', { conversationId: group.id }) as Promise<Ack<null>>,
      ),
    );
    const codes = acks.map((a) => (a.ok ? 'ok' : a.error.code));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(20);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(10);
    expect((await rest(env.gateways[1]!.url, undefined, 'GET', '/health')).status).toBe(200);
    socket.close();
  });

  it('reports the traffic it served in /metrics', async () => {
    const metrics = (await rest<string>(env.gateways[0]!.url, undefined, 'GET', '/metrics')).body;
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]);
    expect(value('chat_messages_stored_total')).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(
      /chat_ack_latency_seconds_count\{event="message:send",outcome="ok"\} \d+/,
    );
    expect(metrics).toMatch(
      /chat_ack_latency_seconds_count\{event="conversation:read",outcome="ok"\} \d+/,
    );
    expect(metrics).toMatch(/nodejs_eventloop_lag_seconds \d/);
    expect(metrics).toMatch(/^chat_connected_sockets \d+/m);
  });
});
