import { tokenOf } from '../test/support/fake-gateway.js';
import { shown } from '../test/support/client.js';
import {
  clientOf as client,
  connectedWithErrors as connected,
  gateway,
  useFakeGateway,
} from '../test/support/harness.js';
import { memoryStorage, type ChatError } from './index.js';

// Everything here runs on the gateway model's fake clock: no test waits real time.
useFakeGateway();

describe('sending', () => {
  it('send() returns a pending entry at once; the ack turns it into a shown message, once', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const entry = c.send(conv.id, 'Hello Ravi');
    expect(entry.state).toBe('queued');
    expect(c.conversation(conv.id)!.pending.map((p) => [p.body, p.state])).toEqual([
      ['Hello Ravi', 'sending'],
    ]);
    await gateway.advance(0);
    const view = c.conversation(conv.id)!;
    expect(view.pending).toEqual([]);
    expect(view.messages.map((m) => [m.body, m.clientMessageId])).toEqual([
      ['Hello Ravi', entry.clientMessageId],
    ]);
    expect(conv.messages).toHaveLength(1);
  });

  it('sends in order per conversation: the next goes out only after the one before is acked', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    gateway.stall = true;
    for (let i = 0; i < 5; i++) c.send(conv.id, `n${i}`);
    const sends = () => gateway.requests.filter(([e]) => e === 'message:send').length;
    expect(sends()).toBe(1);
    gateway.stall = false;
    // The stalled first attempt times out and goes again with the same id, then the rest follow.
    await gateway.advance(60_000);
    expect(conv.messages.map((m) => m.body)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    expect(c.conversation(conv.id)!.messages.map((m) => m.body)).toEqual([
      'n0',
      'n1',
      'n2',
      'n3',
      'n4',
    ]);
  });

  it('an ack lost on the way is retried with the same clientMessageId and stored once', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    gateway.loseAcks = 1;
    const entry = c.send(conv.id, 'once');
    await gateway.advance(10_000); // the request deadline
    expect(c.conversation(conv.id)!.pending[0]).toMatchObject({
      state: 'queued',
      error: { code: 'TIMEOUT' },
    });
    await gateway.advance(1_000);
    const attempts = gateway.requests.filter(([e]) => e === 'message:send');
    expect(attempts.map(([, p]) => (p as { clientMessageId: string }).clientMessageId)).toEqual([
      entry.clientMessageId,
      entry.clientMessageId,
    ]);
    expect(conv.messages).toHaveLength(1);
    expect(shown(c, conv.id)).toEqual([conv.messages[0]!.id]);
  });

  it('a message written offline goes out after the connection comes back, with the same id', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    gateway.handshake = () => 'network';
    gateway.socketsOf('ana')[0]!.drop();
    const entry = c.send(conv.id, 'written in a tunnel');
    await gateway.advance(5_000);
    expect(c.status.state).toBe('reconnecting');
    expect(conv.messages).toHaveLength(0);
    gateway.handshake = () => undefined;
    await gateway.advance(30_000);
    expect(c.status.state).toBe('connected');
    expect(conv.messages.map((m) => m.clientMessageId)).toEqual([entry.clientMessageId]);
    expect(c.conversation(conv.id)!.pending).toEqual([]);
  });

  it('UNAVAILABLE and RATE_LIMITED are retried later; the wait follows retryAfterMs', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const answers = [
      { ok: false, error: { code: 'UNAVAILABLE', message: 'store down' } },
      { ok: false, error: { code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 7_000 } },
    ];
    const at: number[] = [];
    gateway.override = (event) => {
      if (event !== 'message:send') return undefined;
      at.push(gateway.clock.now);
      return answers.shift();
    };
    c.send(conv.id, 'eventually');
    await gateway.advance(60_000);
    expect(conv.messages.map((m) => m.body)).toEqual(['eventually']);
    expect(at).toHaveLength(3);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(7_000);
  });

  it('SLOW_MODE holds back that message alone until retryAfterMs, then sends it; another conversation’s goes at once', async () => {
    const slow = gateway.open(['ana', 'ravi']);
    const other = gateway.open(['ana', 'kim']);
    const { c } = await connected('ana');
    const at: Record<string, number[]> = {};
    let refusals = 1;
    gateway.override = (event, payload) => {
      if (event !== 'message:send') return undefined;
      const { body } = payload as { body: string };
      (at[body] ??= []).push(gateway.clock.now);
      if (body === 'slowed' && refusals-- > 0)
        return {
          ok: false,
          error: { code: 'SLOW_MODE', message: 'slow mode', retryAfterMs: 20_000 },
        };
      return undefined;
    };
    c.send(slow.id, 'slowed');
    await gateway.advance(1_000);
    c.send(other.id, 'elsewhere');
    await gateway.advance(1_000);
    expect(other.messages.map((m) => m.body)).toEqual(['elsewhere']);
    expect(slow.messages).toEqual([]);
    await gateway.advance(30_000);
    expect(slow.messages.map((m) => m.body)).toEqual(['slowed']);
    expect(at['slowed']![1]! - at['slowed']![0]!).toBeGreaterThanOrEqual(20_000);
  });

  it('a BANNED handshake stops reconnecting: the status fails with the code the app shows', async () => {
    const c = client('ana');
    gateway.handshake = () => ({ code: 'BANNED', message: 'you are banned: fee scam' });
    const outcome = c.connect().then(
      () => 'connected',
      (e: ChatError) => e,
    );
    await gateway.advance(30_000);
    expect(await outcome).toMatchObject({ code: 'BANNED' });
    expect(c.status.state).toBe('failed');
    expect(gateway.attempts).toHaveLength(1);
  });

  it('a message seen stored before its ack (its write landed after UNAVAILABLE) is sent, once', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const sent: string[] = [];
    c.on('sent', ({ entry, message }) => sent.push(`${entry.clientMessageId}:${message.id}`));
    // First message: UNAVAILABLE, then its write lands while the retry waits out its backoff.
    // Then two whose writes are pushed while their attempts are on the wire: one's ack is lost,
    // the other's comes after the push.
    let sends = 0;
    gateway.override = (event, payload) => {
      if (event !== 'message:send') return undefined;
      const { clientMessageId, body } = payload as { clientMessageId: string; body: string };
      sends++;
      if (body === 'late') {
        gateway.clock.setTimeout(() => gateway.append(conv.id, 'ana', body, clientMessageId), 1);
        return { ok: false, error: { code: 'UNAVAILABLE', message: 'the store did not answer' } };
      }
      gateway.append(conv.id, 'ana', body, clientMessageId);
      if (body === 'lost') gateway.loseAcks = 1;
      return undefined;
    };
    const late = c.send(conv.id, 'late');
    const lateSent = c.whenSent(late.clientMessageId);
    await gateway.advance(0);
    expect(c.conversation(conv.id)!.pending[0]).toMatchObject({
      state: 'queued',
      error: { code: 'UNAVAILABLE' },
    });
    await gateway.advance(5);
    const lost = c.send(conv.id, 'lost');
    const raced = c.send(conv.id, 'raced');
    await gateway.advance(60_000);
    expect(sends).toBe(3);
    expect(c.pending()).toEqual([]);
    expect((await lateSent).body).toBe('late');
    expect(sent).toEqual([
      `${late.clientMessageId}:${conv.messages[0]!.id}`,
      `${lost.clientMessageId}:${conv.messages[1]!.id}`,
      `${raced.clientMessageId}:${conv.messages[2]!.id}`,
    ]);
    expect(shown(c, conv.id)).toEqual(conv.messages.map((m) => m.id));
  });

  it('a refusal for good (NOT_A_MEMBER, INVALID_PAYLOAD) fails the message with the reason, and retry() tries again', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    gateway.override = (event) =>
      event === 'message:send'
        ? { ok: false, error: { code: 'INVALID_PAYLOAD', message: 'body: too long' } }
        : undefined;
    const entry = c.send(conv.id, 'x');
    await gateway.advance(60_000);
    expect(c.conversation(conv.id)!.pending).toEqual([
      expect.objectContaining({
        state: 'failed',
        error: { code: 'INVALID_PAYLOAD', message: 'body: too long' },
      }),
    ]);
    expect(gateway.requests.filter(([e]) => e === 'message:send')).toHaveLength(1);
    gateway.override = () => undefined;
    expect(c.retry(entry.clientMessageId)).toBe(true);
    await gateway.advance(0);
    expect(c.conversation(conv.id)!.pending).toEqual([]);
    expect(conv.messages.map((m) => m.clientMessageId)).toEqual([entry.clientMessageId]);
  });

  it('refuses a blank or too long body and a full outbox at once, queuing nothing', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const c = client('ana', { limits: { maxOutbox: 3 } });
    const refusal = (body: string) => {
      try {
        c.send(conv.id, body);
      } catch (error) {
        return (error as ChatError).code;
      }
      return 'queued';
    };
    expect(refusal('   ')).toBe('INVALID_PAYLOAD');
    expect(refusal('x'.repeat(4001))).toBe('INVALID_PAYLOAD');
    expect([1, 2, 3].map((i) => refusal(`m${i}`))).toEqual(['queued', 'queued', 'queued']);
    expect(refusal('one too many')).toBe('OUTBOX_FULL');
    expect(c.pending()).toHaveLength(3);
  });
});

describe('whenSent', () => {
  it('resolves with the stored message, or rejects with the reason it was refused', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const ok = c.send(conv.id, 'hello');
    await expect(
      Promise.all([c.whenSent(ok.clientMessageId), gateway.advance(0)]).then(([m]) => m.body),
    ).resolves.toBe('hello');
    gateway.override = (event) =>
      event === 'message:send'
        ? { ok: false, error: { code: 'FORBIDDEN', message: 'blocked' } }
        : undefined;
    const refused = c.send(conv.id, 'nope');
    const outcome = c.whenSent(refused.clientMessageId).catch((e: ChatError) => e.code);
    await gateway.advance(0);
    expect(await outcome).toBe('FORBIDDEN');
    const discarded = c.send(conv.id, 'never mind');
    const gone = c.whenSent(discarded.clientMessageId).catch((e: ChatError) => e.code);
    c.discard(discarded.clientMessageId);
    expect(await gone).toBe('NOT_FOUND');
  });
});

describe('surviving a page reload', () => {
  it('a new client on the same storage sends what the old one left, once, and shows it once', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const storage = memoryStorage();
    const first = client('ana', { storage });
    await Promise.all([first.connect(), gateway.advance(0)]);
    gateway.stall = true;
    first.send(conv.id, 'one');
    first.send(conv.id, 'two');
    await gateway.advance(0);
    // The server stored "one" but the page went away before the ack.
    gateway.stall = false;
    gateway.append(conv.id, 'ana', 'one', first.pending()[0]!.clientMessageId);
    await first.close();
    expect(storage.size).toBe(1);

    const second = client('ana', { storage });
    expect(second.pending()).toEqual([]);
    await Promise.all([second.connect(), gateway.advance(0)]);
    await second.open(conv.id);
    await gateway.advance(0);
    expect(conv.messages.map((m) => m.body)).toEqual(['one', 'two']);
    expect(second.conversation(conv.id)!.messages.map((m) => m.body)).toEqual(['one', 'two']);
    expect(second.conversation(conv.id)!.pending).toEqual([]);
    await second.close();
    expect(storage.size).toBe(0);
  });

  it('garbage in storage is ignored, not fatal', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const storage = memoryStorage();
    await storage.setItem(
      'jobsphere-chat:outbox:ana',
      JSON.stringify({
        v: 1,
        entries: [
          {
            clientMessageId: 'ok1',
            conversationId: conv.id,
            body: 'kept',
            createdAt: 'x',
            state: 'queued',
            attempts: 0,
          },
          {
            clientMessageId: 'bad id!',
            conversationId: conv.id,
            body: 'dropped',
            createdAt: 'x',
            state: 'queued',
            attempts: 0,
          },
          {
            clientMessageId: 'ok2',
            conversationId: conv.id,
            body: '',
            createdAt: 'x',
            state: 'queued',
            attempts: 0,
          },
          'nonsense',
        ],
      }),
    );
    const c = client('ana', { storage });
    await Promise.all([c.connect(), gateway.advance(0)]);
    await gateway.advance(0);
    expect(conv.messages.map((m) => m.body)).toEqual(['kept']);
    await storage.setItem('jobsphere-chat:outbox:ravi', '{not json');
    const ravi = client('ravi', { storage });
    await Promise.all([ravi.connect(), gateway.advance(0)]);
    expect(ravi.pending()).toEqual([]);
  });

  it('a storage that throws (quota) is reported and the outbox works on in memory', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const full = {
      getItem: () => null,
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => undefined,
    };
    const { c, errors } = await connected('ana', { storage: full });
    c.send(conv.id, 'still sent');
    await gateway.advance(0);
    expect(conv.messages.map((m) => m.body)).toEqual(['still sent']);
    expect(errors.map((e) => e.code)).toContain('STORAGE');
  });
});

describe('catching up', () => {
  it('a live message that reveals a gap is shown at once and the gap is filled by sync', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const ravi = gateway.socketsOf('ana')[0]!;
    gateway.manualDelivery = true;
    gateway.append(conv.id, 'ravi', 'lost on the way');
    gateway.append(conv.id, 'ravi', 'arrives');
    ravi.wire.shift(); // the first one is dropped
    const [event, payload] = ravi.wire.shift()!;
    ravi.deliver(event, payload);
    expect(c.conversation(conv.id)!.messages.map((m) => m.body)).toEqual(['arrives']);
    expect(c.syncing).toBe(true);
    await gateway.advance(500); // the gap's grace period
    expect(c.conversation(conv.id)!.messages.map((m) => m.body)).toEqual([
      'lost on the way',
      'arrives',
    ]);
    expect(gateway.requests.filter(([e]) => e === 'sync')).toHaveLength(1);
    expect(c.syncing).toBe(false);
  });

  it("the real gateway's cursor lags behind young messages: one gap costs one sync, not one per message", async () => {
    gateway.settleMs = 10_000;
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const socket = gateway.socketsOf('ana')[0]!;
    gateway.manualDelivery = true;
    gateway.append(conv.id, 'ravi', 'lost');
    socket.wire.length = 0;
    for (let i = 0; i < 30; i++) {
      gateway.append(conv.id, 'ravi', `live ${i}`);
      socket.deliver(...socket.wire.shift()!);
      await gateway.advance(300);
    }
    expect(gateway.requests.filter(([e]) => e === 'sync')).toHaveLength(1);
    expect(c.conversation(conv.id)!.messages).toHaveLength(31);
    expect(c.syncing).toBe(false);
  });

  it('a page reload in the middle of a send leaves the message queued for the next page, not failed', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const storage = memoryStorage();
    const first = client('ana', { storage });
    await Promise.all([first.connect(), gateway.advance(0)]);
    gateway.stall = true;
    first.send(conv.id, 'in flight');
    await first.close();
    gateway.stall = false;
    const second = client('ana', { storage });
    expect(second.pending()).toEqual([]);
    await Promise.all([second.connect(), gateway.advance(0)]);
    await gateway.advance(0);
    expect(conv.messages.map((m) => m.body)).toEqual(['in flight']);
    expect(second.pending()).toEqual([]);
  });

  it('events that overtake each other (two instances) close the gap by themselves: no sync', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const socket = gateway.socketsOf('ana')[0]!;
    gateway.manualDelivery = true;
    gateway.append(conv.id, 'ravi', 'one');
    gateway.append(conv.id, 'ravi', 'two');
    const [first, second] = [socket.wire.shift()!, socket.wire.shift()!];
    socket.deliver(...second);
    await gateway.advance(200);
    socket.deliver(...first);
    await gateway.advance(5_000);
    expect(c.conversation(conv.id)!.messages.map((m) => m.body)).toEqual(['one', 'two']);
    expect(gateway.requests.filter(([e]) => e === 'sync')).toHaveLength(0);
  });

  it('after a reconnect it syncs every conversation from its cursor, page by page while hasMore', async () => {
    gateway.syncPageSize = 3;
    const a = gateway.open(['ana', 'ravi']);
    const b = gateway.open(['ana', 'mia']);
    const { c } = await connected('ana');
    gateway.socketsOf('ana')[0]!.drop();
    for (let i = 0; i < 8; i++) gateway.append(a.id, 'ravi', `a${i}`);
    gateway.append(b.id, 'mia', 'b0');
    await gateway.advance(5_000);
    expect(c.status.state).toBe('connected');
    expect(c.conversation(a.id)!.messages.map((m) => m.body)).toEqual(
      Array.from({ length: 8 }, (_, i) => `a${i}`),
    );
    expect(c.conversation(b.id)!.messages.map((m) => m.body)).toEqual(['b0']);
    const syncs = gateway.requests.filter(([e]) => e === 'sync');
    expect(syncs.length).toBe(3);
    expect(c.conversation(a.id)!.unreadCount).toBe(8);
  });

  it('a sync answer that is full leaves conversations for later; they are asked again', async () => {
    gateway.syncAnswerBudget = 4;
    const convs = [0, 1, 2].map((i) => gateway.open(['ana', `p${i}`]));
    const { c, errors } = await connected('ana');
    gateway.socketsOf('ana')[0]!.drop();
    for (const conv of convs)
      for (let i = 0; i < 5; i++) gateway.append(conv.id, conv.members[1]!, `${conv.id}-${i}`);
    await gateway.advance(5_000);
    for (const conv of convs) expect(c.conversation(conv.id)!.messages).toHaveLength(5);
    expect(errors).toEqual([]);
    expect(c.syncing).toBe(false);
  });

  it('sync:required and server:draining make it catch up (draining from another instance)', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana', { url: ['http://a.test', 'http://b.test'] });
    const first = gateway.socketsOf('ana')[0]!;
    expect(first.url).toBe('http://a.test');
    gateway.manualDelivery = true;
    gateway.append(conv.id, 'ravi', 'dropped by the adapter');
    first.wire.length = 0;
    first.deliver('sync:required', { reason: 'redis-reconnected' });
    await gateway.advance(0);
    expect(c.conversation(conv.id)!.messages.map((m) => m.body)).toEqual([
      'dropped by the adapter',
    ]);

    gateway.append(conv.id, 'ravi', 'while it drains');
    first.wire.length = 0;
    first.deliver('server:draining', { reconnectAfterMs: 0 });
    await gateway.advance(1_000);
    const now = gateway.socketsOf('ana')[0]!;
    expect(now.url).toBe('http://b.test');
    expect(c.conversation(conv.id)!.messages.map((m) => m.body)).toEqual([
      'dropped by the adapter',
      'while it drains',
    ]);
  });

  it('an edited message replaces the old one, wherever each copy comes from', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const original = gateway.append(conv.id, 'ravi', 'see you at 10');
    await gateway.advance(0);
    const updates: string[] = [];
    c.on('message:updated', ({ message }) => updates.push(message.body));
    gateway.edit(conv.id, original.id, 'see you at 11');
    // A stale copy from history after the edit changes nothing.
    const view = await c.open(conv.id);
    expect(view.messages.map((m) => m.body)).toEqual(['see you at 11']);
    expect(updates).toEqual(['see you at 11']);
  });

  it('a store restored under a connected device: it starts over and shows the store, each message once', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c, errors } = await connected('ana');
    for (let i = 1; i <= 5; i++) gateway.append(conv.id, 'ravi', `m${i}`);
    await gateway.advance(0);
    expect(c.conversation(conv.id)!.messages.map((m) => m.body)).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    const announced: string[] = [];
    const restarts: string[] = [];
    c.on('message', ({ message }) => announced.push(message.body));
    c.on('restart', ({ epoch }) => restarts.push(epoch));
    gateway.socketsOf('ana')[0]!.drop();
    // Wound back to version 2; what is written next reuses versions the device already holds.
    gateway.restore(conv.id, 2, 'epoch-2');
    gateway.append(conv.id, 'ravi', 'after the restore');
    gateway.append(conv.id, 'ravi', 'and one more');
    await gateway.advance(5_000);
    expect(c.status.state).toBe('connected');
    const view = c.conversation(conv.id)!;
    expect(view.messages.map((m) => m.body)).toEqual([
      'm1',
      'm2',
      'after the restore',
      'and one more',
    ]);
    expect(new Set(view.messages.map((m) => m.id)).size).toBe(view.messages.length);
    expect(view.lastSeq).toBe(4);
    expect(view.unreadCount).toBe(4);
    expect(restarts).toEqual(['epoch-2']);
    // Only what the device had never shown is announced, once each.
    expect(announced).toEqual(['after the restore', 'and one more']);
    // The device named its epoch; the next sync names the new one and is answered as usual.
    const epochs = gateway.requests
      .filter(([e]) => e === 'sync')
      .map(([, p]) => (p as { epoch?: string }).epoch);
    expect(epochs).toContain('epoch-1');
    expect(epochs.at(-1)).toBe('epoch-2');
    gateway.append(conv.id, 'ravi', 'live again');
    await gateway.advance(0);
    expect(
      c
        .conversation(conv.id)!
        .messages.map((m) => m.body)
        .at(-1),
    ).toBe('live again');
    expect(c.conversation(conv.id)!.messages).toHaveLength(5);
    expect(errors).toEqual([]);
  });

  it('a conversation the user left (or a store that was wiped) is dropped and its pending messages fail', async () => {
    const keep = gateway.open(['ana', 'ravi']);
    const gone = gateway.open(['ana', 'mia']);
    const { c } = await connected('ana');
    const removed: string[] = [];
    c.on('conversation:removed', ({ conversationId }) => removed.push(conversationId));
    gateway.socketsOf('ana')[0]!.drop();
    gateway.conversations.delete(gone.id);
    gateway.append(keep.id, 'ravi', 'still here');
    gateway.handshake = () => 'network';
    c.send(gone.id, 'into the void');
    gateway.handshake = () => undefined;
    await gateway.advance(5_000);
    expect(removed).toEqual([gone.id]);
    expect(c.conversation(gone.id)).toBeUndefined();
    expect(c.pending()).toEqual([
      expect.objectContaining({
        state: 'failed',
        error: expect.objectContaining({ code: 'NOT_A_MEMBER' }),
      }),
    ]);
    expect(c.conversation(keep.id)!.messages.map((m) => m.body)).toEqual(['still here']);
  });

  it('a message of a conversation not held yet brings the conversation in, with what came before it', async () => {
    const { c } = await connected('ana');
    const conv = gateway.open(['ravi', 'ana']);
    gateway.append(conv.id, 'ravi', 'first');
    await gateway.advance(0);
    expect(c.conversations().map((v) => v.id)).toEqual([conv.id]);
    expect(shown(c, conv.id)).toEqual([conv.messages[0]!.id]);
    expect(c.conversation(conv.id)!.unreadCount).toBe(1);
  });
});

describe('read state, typing, presence', () => {
  it('marking read drops the badge at once, tells the server, and the other side sees "seen"', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c: ana } = await connected('ana');
    const { c: ravi } = await connected('ravi');
    ravi.send(conv.id, 'hi');
    ravi.send(conv.id, 'there');
    await gateway.advance(0);
    expect(ana.conversation(conv.id)!.unreadCount).toBe(2);
    expect(ana.totalUnread).toBe(2);
    ana.markRead(conv.id);
    expect(ana.conversation(conv.id)!.unreadCount).toBe(0);
    await gateway.advance(0);
    expect(conv.reads.get('ana')).toBe(2);
    expect(ravi.conversation(conv.id)!.peerReadSeq).toBe(2);
  });

  it('reading on one device clears the badge on the other', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    gateway.append(conv.id, 'ravi', 'hi');
    const { c: phone } = await connected('ana');
    const { c: laptop } = await connected('ana');
    expect(laptop.conversation(conv.id)!.unreadCount).toBe(1);
    phone.markRead(conv.id, 1);
    await gateway.advance(0);
    expect(laptop.conversation(conv.id)!.unreadCount).toBe(0);
  });

  it('typing: one typing:start per refresh interval while composing, typing:stop after a pause', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    for (let i = 0; i < 20; i++) {
      c.typing(conv.id);
      await gateway.advance(200);
    }
    const starts = () => gateway.requests.filter(([e]) => e === 'typing:start').length;
    expect(starts()).toBe(2); // 4 s of keystrokes, one refresh per 3 s
    await gateway.advance(4_000);
    expect(gateway.requests.filter(([e]) => e === 'typing:stop')).toHaveLength(1);
  });

  it("others' typing shows, clears on their message, and expires by itself", async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const { c } = await connected('ana');
    const socket = gateway.socketsOf('ana')[0]!;
    socket.deliver('typing', {
      conversationId: conv.id,
      userId: 'ravi',
      typing: true,
      expiresInMs: 5_000,
    });
    socket.deliver('typing', { conversationId: conv.id, userId: 'stranger', typing: true });
    expect(c.conversation(conv.id)!.typing).toEqual(['ravi']);
    gateway.append(conv.id, 'ravi', 'done typing');
    expect(c.conversation(conv.id)!.typing).toEqual([]);
    socket.deliver('typing', {
      conversationId: conv.id,
      userId: 'ravi',
      typing: true,
      expiresInMs: 5_000,
    });
    await gateway.advance(5_000);
    expect(c.conversation(conv.id)!.typing).toEqual([]);
  });

  it('presence of contacts is queried on connect and follows live events; strangers are ignored', async () => {
    gateway.open(['ana', 'ravi']);
    const { c: ravi } = await connected('ravi');
    const { c: ana } = await connected('ana');
    await gateway.advance(0);
    expect(ana.presence('ravi')).toMatchObject({ online: true });
    await ravi.close();
    const socket = gateway.socketsOf('ana')[0]!;
    socket.deliver('presence', {
      userId: 'ravi',
      online: false,
      lastSeenAt: '2026-01-05T09:00:00.000Z',
    });
    socket.deliver('presence', { userId: 'stranger', online: true });
    expect(ana.presence('ravi')).toEqual({
      userId: 'ravi',
      online: false,
      lastSeenAt: '2026-01-05T09:00:00.000Z',
    });
    expect(ana.presence('stranger')).toBeUndefined();
  });
});

describe('connecting', () => {
  it('auth:expiring gets a fresh token from the provider and sends auth:refresh', async () => {
    const asked: boolean[] = [];
    const { c } = await connected('ana', {
      token: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return tokenOf('ana');
      },
    });
    gateway.socketsOf('ana')[0]!.deliver('auth:expiring', { expiresAt: 'x', graceMs: 30_000 });
    await gateway.advance(0);
    expect(asked.at(-1)).toBe(true);
    expect(gateway.requests.filter(([e]) => e === 'auth:refresh')).toEqual([
      ['auth:refresh', { token: tokenOf('ana') }],
    ]);
    expect(c.status.state).toBe('connected');
  });

  it('every connection refusal is a typed error; UNAUTHORIZED twice in a row stops with "failed"', async () => {
    const c = client('ana');
    gateway.handshake = () => ({ code: 'UNAUTHORIZED', message: 'token expired' });
    const done = c.connect();
    const outcome = done.then(
      () => 'connected',
      (e: ChatError) => e,
    );
    await gateway.advance(1_000);
    const error = await outcome;
    expect(error).toMatchObject({
      name: 'ChatConnectError',
      code: 'UNAUTHORIZED',
      url: 'http://gateway-a.test',
    });
    expect(c.status.state).toBe('failed');
    expect(gateway.attempts).toHaveLength(2);
  });

  it.each([
    [{ code: 'RATE_LIMITED', message: 'too many handshakes', retryAfterMs: 9_000 }, 9_000],
    [{ code: 'TOO_MANY_CONNECTIONS', message: 'more than 20 sockets' }, 250],
    [{ code: 'UNAVAILABLE', message: 'draining' }, 250],
  ])(
    '%o is retried (not before retryAfterMs) and the connection comes up afterwards',
    async (refusal, minWait) => {
      const c = client('ana');
      const statuses: string[] = [];
      c.on('connection', (s) => statuses.push(`${s.state}${s.error ? `:${s.error.code}` : ''}`));
      let refusals = 1;
      gateway.handshake = () => (refusals-- > 0 ? refusal : undefined);
      const done = c.connect();
      await gateway.advance(0);
      const refusedAt = gateway.clock.now;
      await gateway.advance(60_000);
      await done;
      const second = gateway.attempts[1]!;
      expect(second).toBeDefined();
      expect(statuses).toContain(`connecting:${refusal.code}`);
      expect(statuses.at(-1)).toBe('connected');
      expect(gateway.clock.now - refusedAt).toBeGreaterThanOrEqual(minWait);
    },
  );

  it('failFast rejects on the first failure with a clear message and leaves nothing running', async () => {
    const c = client('ana');
    gateway.handshake = () => 'network';
    const outcome = c.connect({ failFast: true }).then(
      () => undefined,
      (e: ChatError) => e,
    );
    await gateway.advance(0);
    const error = await outcome;
    expect(error).toMatchObject({ code: 'NETWORK' });
    expect(error!.message).toMatch(/could not reach http:\/\/gateway-a\.test/);
    expect(c.status.state).toBe('closed');
    expect(gateway.clock.countTimers()).toBe(0);
  });

  it('a handshake that never answers times out and is retried with capped, jittered backoff', async () => {
    const c = client('ana', { random: Math.random });
    gateway.handshake = () => 'hang';
    void c.connect().catch(() => undefined);
    await gateway.advance(10 * 60_000);
    const starts = gateway.attempts.map((_, i) => i);
    expect(starts.length).toBeGreaterThan(10);
    expect(starts.length).toBeLessThan(40); // 10 s deadline + at most 30 s between attempts
    expect(c.status).toMatchObject({ state: 'connecting', error: { code: 'TIMEOUT' } });
  });

  it('after a drop, the connection comes back on its own and the backoff resets once it held', async () => {
    const { c } = await connected('ana');
    for (let i = 0; i < 5; i++) {
      await gateway.advance(20_000);
      gateway.socketsOf('ana')[0]!.drop('io server disconnect');
      await gateway.advance(1_000);
      expect(c.status.state).toBe('connected');
    }
  });
});
