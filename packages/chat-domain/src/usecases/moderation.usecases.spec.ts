import {
  createChat,
  createPlatform,
  recordingPlatformEvents,
  type Chat,
  type ChatStore,
  type ConversationDto,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

// Moderation as the people involved meet it, one use case at a time, on the embedded store
// with a fake clock. Over two gateway instances with Redis: moderation.e2e.spec.ts.

const rita: Principal = { userId: 'rita', role: 'recruiter' };
const sam: Principal = { userId: 'sam', role: 'candidate' };
const pat: Principal = { userId: 'pat', role: 'candidate' };
const judy: Principal = { userId: 'judy', role: 'admin' };

describe('moderation use cases (memory store, fake clock)', () => {
  let chat: Chat;
  let store: ChatStore;
  let fanout: RecordingFanOut;
  let clock: FakeClock;

  beforeEach(() => {
    fanout = new RecordingFanOut();
    clock = new FakeClock();
    // With webhooks and offline checks on: a shadow message must produce neither.
    store = recordingPlatformEvents(new MemoryChatStore(), {
      endpoints: ['http://127.0.0.1:1/hook'],
      offline: { delayMs: 1_000, windowMs: 60_000 },
      clock,
    });
    chat = createChat({ store, fanout, clock });
  });

  const send = (who: Principal, conversationId: string, key: string, body = key) =>
    chat.send(who, { conversationId, clientMessageId: key, body });
  const contacts = async (a: Principal, b: Principal): Promise<ConversationDto> => {
    const c = (await chat.openConversation(a, { kind: 'direct', userId: b.userId })).conversation;
    return c.request ? chat.answerRequest(b, c.id, 'accept') : c;
  };
  const outbox = async () => {
    const entries = [];
    for (let i = 0; i < 100; i++) {
      const next = await store.outbox.claim(new Date(8.64e15), 1, `l${i}`);
      if (!next) break;
      entries.push(next);
    }
    return entries;
  };

  it('only admins moderate: a candidate is refused and nothing is recorded', async () => {
    await expect(chat.restrictUser(sam, 'rita', 'banned', 'x')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(chat.auditLog(sam, { limit: 10 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await chat.auditLog(judy, { limit: 10 })).entries).toEqual([]);
  });

  it('a banned person is refused every path that reaches others with BANNED; reading stays', async () => {
    const c = await contacts(rita, sam);
    const mine = await send(sam, c.id, 's1');
    await chat.restrictUser(judy, 'sam', 'banned', 'fee scam');
    const banned = { code: 'BANNED', message: 'you are banned: fee scam' };
    await expect(send(sam, c.id, 's2')).rejects.toMatchObject(banned);
    await expect(
      chat.edit(sam, { conversationId: c.id, messageId: mine.message.id, body: 'x' }),
    ).rejects.toMatchObject(banned);
    await expect(chat.typingAudience(sam, c.id)).rejects.toMatchObject(banned);
    await expect(
      chat.openConversation(sam, { kind: 'direct', userId: 'pat' }),
    ).rejects.toMatchObject(banned);
    await expect(chat.standing('sam')).rejects.toMatchObject(banned);
    expect((await chat.history(sam, c.id, { limit: 10 })).messages).toHaveLength(1);
    // Lifting a shadow-ban he does not have changes nothing; the unban does.
    expect(await chat.liftRestriction(judy, 'sam', 'shadow-banned')).toMatchObject({
      kind: 'banned',
    });
    await chat.liftRestriction(judy, 'sam', 'banned', 'appeal granted');
    expect((await send(sam, c.id, 's3')).duplicate).toBe(false);
    const log = await chat.auditLog(judy, { userId: 'sam', limit: 10 });
    expect(log.entries.map((e) => [e.action, e.actor, e.reason])).toEqual([
      ['user.unbanned', 'judy', 'appeal granted'],
      ['user.banned', 'judy', 'fee scam'],
    ]);
  });

  it('a shadow-banned sender’s message: acked and on their devices, and nowhere for anyone else (live, sync, history, preview, unread, webhooks, offline checks, typing, edits)', async () => {
    const c = await contacts(rita, sam);
    const seen = await send(rita, c.id, 'r1');
    await chat.markRead(sam, c.id, seen.message.seq);
    await outbox(); // what came before
    await chat.restrictUser(judy, 'sam', 'shadow-banned', 'moves people to telegram');
    const from = fanout.sent.length;

    const hidden = await send(sam, c.id, 's1', 'pay on telegram');
    expect(hidden.message.body).toBe('pay on telegram');
    const delivered = fanout.sent.slice(from).filter((e) => e.event === 'message:new');
    expect(delivered.map((e) => e.users)).toEqual([['sam']]);
    expect((await chat.typingAudience(sam, c.id)).audience).toEqual([]);
    await chat.edit(sam, { conversationId: c.id, messageId: hidden.message.id, body: 'whatsapp' });
    expect(fanout.of('message:updated').map((e) => e.users)).toEqual([['sam']]);
    expect(await outbox()).toEqual([]);

    const ritaSync = await chat.sync(rita, {
      conversations: [{ conversationId: c.id, afterVersion: 0 }],
    });
    expect(ritaSync.conversations[0]!.messages.map((m) => m.body)).toEqual(['r1']);
    const samSync = await chat.sync(sam, {
      conversations: [{ conversationId: c.id, afterVersion: 0 }],
    });
    expect(samSync.conversations[0]!.messages.map((m) => m.body)).toEqual(['r1', 'whatsapp']);
    expect((await chat.history(rita, c.id, { limit: 10 })).messages.map((m) => m.body)).toEqual([
      'r1',
    ]);
    const ritaView = await chat.getConversation(rita, c.id);
    expect(ritaView.lastMessage?.body).toBe('r1');
    expect(ritaView.unreadCount).toBe(0);
    // His client marking his own newest message read is no error he could notice.
    await expect(chat.markRead(sam, c.id, hidden.message.seq)).resolves.toMatchObject({
      unreadCount: 0,
    });

    // Lifted: his next message is one unread for rita, not two, and reaches the platform.
    await chat.liftRestriction(judy, 'sam', 'shadow-banned');
    await send(sam, c.id, 's2', 'hello again');
    expect((await chat.getConversation(rita, c.id)).unreadCount).toBe(1);
    const events = await outbox();
    expect(
      events
        .filter((e) => e.kind === 'webhook')
        .map((e) => (JSON.parse(e.payload) as { type: string }).type),
    ).toEqual(['message.created']);
    expect(events.filter((e) => e.kind === 'offline-check')).toHaveLength(1);
  });

  it('slow mode: one message per member per interval on the fake clock; a retry of the send that passed passes; other members keep their own slot; off frees at once', async () => {
    const c = await contacts(rita, sam);
    const told = await chat.setSlowMode(judy, c.id, 30, 'cool down');
    expect(told).toEqual({ conversationId: c.id, slowModeSeconds: 30 });
    expect(fanout.of('conversation:slow-mode').flatMap((e) => e.users)).toEqual(
      expect.arrayContaining(['rita', 'sam']),
    );
    await send(sam, c.id, 'a');
    await expect(send(sam, c.id, 'b')).rejects.toMatchObject({
      code: 'SLOW_MODE',
      retryAfterMs: 30_000,
    });
    expect((await send(sam, c.id, 'a')).duplicate).toBe(true);
    await send(rita, c.id, 'r');
    clock.advance(29_000);
    await expect(send(sam, c.id, 'b')).rejects.toMatchObject({ retryAfterMs: 1_000 });
    clock.advance(1_000);
    await send(sam, c.id, 'b');
    // A refused send gives its slot back: not a member, so nothing was stored.
    await expect(send(pat, c.id, 'p')).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    await chat.setSlowMode(judy, c.id, 0);
    await send(sam, c.id, 'c');
    await expect(chat.setSlowMode(judy, 'nope', 5)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reports land on the moderation list as flags; resolving and moderator deletions are audited; a person’s export carries what moderators did about them', async () => {
    const c = await contacts(rita, sam);
    const m = await send(rita, c.id, 'r1', 'bank details please');
    const receipt = await chat.report(sam, {
      conversationId: c.id,
      messageId: m.message.id,
      reason: 'scam',
      note: 'asks for bank details',
    });
    // What the content policy or the pre-send hook would raise, beside it.
    await store.moderation.flag({
      id: `policy:${m.message.id}`,
      source: 'policy',
      reason: 'scam.bank-details',
      at: clock.now(),
      userId: 'rita',
      conversationId: c.id,
      messageId: m.message.id,
    });
    const list = await chat.listModeration(judy, { userId: 'rita', limit: 10 });
    expect(list.flags.map((f) => [f.source, f.reason, f.state])).toEqual(
      expect.arrayContaining([
        ['report', 'scam', 'open'],
        ['policy', 'scam.bank-details', 'open'],
      ]),
    );
    await chat.resolveReport(judy, receipt.id, 'dismissed');
    await chat.moderateDelete(judy, { conversationId: c.id, messageId: m.message.id });
    expect(
      (await chat.listModeration(judy, { source: 'report', limit: 10 })).flags.map((f) => f.state),
    ).toEqual(['actioned']);
    await chat.restrictUser(judy, 'rita', 'shadow-banned', 'scam pattern');

    const exported = await createPlatform({ store, fanout, clock }).exportUser('rita');
    expect(exported.moderation?.restriction).toMatchObject({
      kind: 'shadow-banned',
      reason: 'scam pattern',
    });
    expect(exported.moderation?.actions.map((a) => a.action)).toEqual([
      'user.shadow-banned',
      'report.resolved',
      'message.deleted',
      'report.resolved',
    ]);
    // Nothing about rita in sam's export.
    const other = await createPlatform({ store, fanout, clock }).exportUser('sam');
    expect(other.moderation?.actions).toEqual([]);
  });
});
