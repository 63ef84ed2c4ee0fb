import {
  SYSTEM_SENDER,
  createChat,
  createPlatform,
  recordingPlatformEvents,
  type Chat,
  type ChatStore,
  type OfflineCheck,
  type Platform,
  type Principal,
  type ServicePrincipal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

// The server API's rules one use case at a time, on the embedded store with a fake clock:
// what the platform's backend and the people in the conversations notice.

const rita: Principal = { userId: 'rita', role: 'recruiter' };
const sam: Principal = { userId: 'sam', role: 'candidate' };
const backend: ServicePrincipal = { service: 'backend', scopes: ['users:erase'] };
const HOOK = 'http://127.0.0.1:1/hooks';
const DELAY_MS = 60_000;
const WINDOW_MS = 15 * 60_000;

describe('platform use cases (memory store, fake clock)', () => {
  let raw: MemoryChatStore;
  let store: ChatStore;
  let chat: Chat;
  let platform: Platform;
  let fanout: RecordingFanOut;
  let clock: FakeClock;
  const online = new Set<string>();

  beforeEach(() => {
    fanout = new RecordingFanOut();
    clock = new FakeClock();
    raw = new MemoryChatStore();
    online.clear();
    store = recordingPlatformEvents(raw, {
      endpoints: [HOOK],
      offline: { delayMs: DELAY_MS, windowMs: WINDOW_MS },
      clock,
    });
    chat = createChat({ store, fanout, clock, settleMs: 1_000 });
    platform = createPlatform({ store, fanout, clock, settleMs: 1_000 });
  });

  /** Everything due in the outbox now, in order, without delivering anything. */
  async function due() {
    const entries = [];
    for (let i = 0; i < 100; i++) {
      const entry = await raw.outbox.claim(clock.now(), 60_000, `t${i}`);
      if (!entry) break;
      entries.push(entry);
    }
    return entries;
  }
  const events = async () =>
    (await due())
      .filter((e) => e.kind === 'webhook')
      .map(
        (e) => JSON.parse(e.payload) as { id: string; type: string; data: Record<string, unknown> },
      );
  const isOnline = async (userId: string) => online.has(userId);

  const openDirect = (key = 'app-1') =>
    platform.open(backend, {
      idempotencyKey: key,
      kind: 'direct',
      memberIds: ['rita', 'sam'],
      jobId: 'job-7',
      applicationId: 'appl-9',
    });

  it('opens the conversation of an application accepted (no request, contacts), once per pair and job', async () => {
    const first = await openDirect();
    expect(first.created).toBe(true);
    expect(first.conversation).toMatchObject({
      kind: 'direct',
      jobId: 'job-7',
      applicationId: 'appl-9',
    });
    expect(first.conversation.request).toBeUndefined();
    expect(await raw.contacts.accepted('sam', 'rita')).toBe(true);
    const again = await openDirect('another-key');
    expect(again).toMatchObject({ created: false, conversation: { id: first.conversation.id } });
    expect(fanout.of('conversation:created')).toHaveLength(1);
    // Sam may write as much as he likes: it is no request.
    for (let i = 0; i < 5; i++)
      await chat.send(sam, {
        conversationId: first.conversation.id,
        clientMessageId: `s${i}`,
        body: 'hi',
      });
    const sent = await events();
    expect(sent.filter((e) => e.type === 'conversation.created').map((e) => e.id)).toEqual([
      `conv_${first.conversation.id}`,
    ]);
    expect(sent.filter((e) => e.type === 'message.created')).toHaveLength(5);
  });

  it('accepts a request one of them had sent before, for that job', async () => {
    const opened = await chat.openConversation(rita, {
      kind: 'direct',
      userId: 'sam',
      jobId: 'job-7',
      applicationId: 'appl-9',
    });
    expect(opened.conversation.request?.state).toBe('pending');
    const result = await openDirect();
    expect(result).toMatchObject({ created: false, conversation: { id: opened.conversation.id } });
    expect(result.conversation.request).toBeUndefined();
    expect(fanout.of('conversation:updated').at(-1)?.payload).toMatchObject({ request: null });
  });

  it('posts system messages: unread for everyone, idempotent by key, a message.created event once', async () => {
    const { conversation } = await openDirect();
    const input = { idempotencyKey: 'interview-1', body: 'Interview scheduled for Thursday 10:00' };
    const first = await platform.postSystemMessage(conversation.id, input);
    expect(first).toMatchObject({
      duplicate: false,
      message: { kind: 'system', senderId: SYSTEM_SENDER },
    });
    expect(await platform.postSystemMessage(conversation.id, input)).toMatchObject({
      duplicate: true,
      message: { id: first.message.id },
    });
    expect(fanout.of('message:new')).toHaveLength(1);
    expect((await chat.listConversations(sam, { limit: 10 })).totalUnread).toBe(1);
    expect((await chat.listConversations(rita, { limit: 10 })).totalUnread).toBe(1);
    const created = (await events()).filter((e) => e.type === 'message.created');
    expect(created.map((e) => e.id)).toEqual([`msg_${first.message.id}`]);
    await expect(
      platform.postSystemMessage('000000000000000000000000', input),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a send whose event could not be written fails, and its retry writes the event once', async () => {
    const { conversation } = await openDirect();
    const enqueue = raw.outbox.enqueue.bind(raw.outbox);
    let fail = true;
    raw.outbox.enqueue = async (entries) => {
      if (fail) throw new Error('outbox unavailable');
      return enqueue(entries);
    };
    const input = { conversationId: conversation.id, clientMessageId: 'k1', body: 'hello' };
    await expect(chat.send(sam, input)).rejects.toThrow('outbox unavailable');
    fail = false;
    const retried = await chat.send(sam, input);
    expect(retried.duplicate).toBe(true);
    await chat.send(sam, input);
    const created = (await events()).filter((e) => e.type === 'message.created');
    expect(created.map((e) => e.id)).toEqual([`msg_${retried.message.id}`]);
  });

  it('members: added ones appear live, removed ones are told and receive nothing more; sync shows the conversation itself', async () => {
    const { conversation } = await platform.open(backend, {
      idempotencyKey: 'panel-1',
      kind: 'group',
      title: 'Panel',
      memberIds: ['rita', 'sam', 'hana'],
    });
    await platform.addMembers(conversation.id, ['omar']);
    expect(fanout.of('conversation:created').at(-1)).toMatchObject({ users: ['omar'] });
    expect(fanout.of('conversation:updated').at(-1)).toMatchObject({
      users: ['rita', 'sam', 'hana'],
      payload: { memberIds: ['rita', 'sam', 'hana', 'omar'] },
    });
    await platform.removeMember(conversation.id, 'sam');
    expect(fanout.of('conversation:updated').at(-1)).toMatchObject({
      users: ['rita', 'hana', 'omar', 'sam'],
      payload: { memberIds: ['rita', 'hana', 'omar'] },
    });
    await chat.send(rita, {
      conversationId: conversation.id,
      clientMessageId: 'after',
      body: 'welcome omar',
    });
    expect(fanout.of('message:new').at(-1)?.users.sort()).toEqual(['hana', 'omar', 'rita']);
    const syncSam = await chat.sync(sam, {
      conversations: [{ conversationId: conversation.id, afterVersion: 0 }],
    });
    expect(syncSam.conversations[0]?.error?.code).toBe('NOT_A_MEMBER');
    const types = (await events()).map((e) => e.type);
    expect(types.filter((t) => t.startsWith('member.'))).toEqual([
      'member.added',
      'member.removed',
    ]);

    // A device of hana that slept through it: the conversation as it is now, then the cursor
    // passes the change once it settled.
    await platform.change(conversation.id, { title: 'Final panel' });
    clock.advance(5_000);
    const hana: Principal = { userId: 'hana', role: 'candidate' };
    const synced = await chat.sync(hana, {
      conversations: [{ conversationId: conversation.id, afterVersion: 0 }],
    });
    const entry = synced.conversations[0]!;
    expect(entry.conversation).toMatchObject({ title: 'Final panel' });
    expect(entry.conversation?.members.map((m) => m.userId)).toEqual(['rita', 'hana', 'omar']);
    expect(entry.version).toBe(entry.conversation?.version);
    const next = await chat.sync(hana, {
      conversations: [{ conversationId: conversation.id, afterVersion: entry.version }],
    });
    expect(next.conversations[0]?.conversation).toBeUndefined();
  });

  describe('offline notifications', () => {
    async function check(conversationId: string, recipientId: string) {
      clock.advance(DELAY_MS);
      const entries = (await due()).filter(
        (e) =>
          e.kind === 'offline-check' &&
          (JSON.parse(e.payload) as OfflineCheck).recipientId === recipientId &&
          e.payload.includes(conversationId),
      );
      expect(entries).toHaveLength(1); // one check per recipient, conversation and window
      return platform.offlineNotification(
        JSON.parse(entries[0]!.payload) as OfflineCheck,
        isOnline,
      );
    }

    it('tells of unread messages of an offline recipient: sender, preview, unread count', async () => {
      const { conversation } = await openDirect();
      await chat.send(rita, {
        conversationId: conversation.id,
        clientMessageId: 'r1',
        body: 'Are you free on Thursday?',
      });
      await chat.send(rita, {
        conversationId: conversation.id,
        clientMessageId: 'r2',
        body: 'Around 10:00?',
      });
      const event = await check(conversation.id, 'sam');
      expect(event).toMatchObject({
        type: 'notification.offline',
        data: {
          recipientId: 'sam',
          conversation: { id: conversation.id, jobId: 'job-7', applicationId: 'appl-9' },
          sender: { userId: 'rita', system: false },
          preview: 'Around 10:00?',
          unreadCount: 2,
        },
      });
    });

    it('says nothing when the recipient is online, read it, blocked the sender or declined the request', async () => {
      const { conversation } = await openDirect();
      await chat.send(rita, {
        conversationId: conversation.id,
        clientMessageId: 'r1',
        body: 'one',
      });
      online.add('sam');
      expect(await check(conversation.id, 'sam')).toBeNull();

      online.clear();
      await chat.send(rita, {
        conversationId: conversation.id,
        clientMessageId: 'r2',
        body: 'two',
      });
      await chat.markRead(sam, conversation.id, 2);
      expect(await check(conversation.id, 'sam')).toBeNull();

      await chat.send(rita, {
        conversationId: conversation.id,
        clientMessageId: 'r3',
        body: 'three',
      });
      await chat.block(sam, 'rita');
      expect(await check(conversation.id, 'sam')).toBeNull();

      const request = await chat.openConversation(rita, { kind: 'direct', userId: 'pia' });
      await chat.send(rita, {
        conversationId: request.conversation.id,
        clientMessageId: 'q1',
        body: 'hello',
      });
      await chat.answerRequest(
        { userId: 'pia', role: 'candidate' },
        request.conversation.id,
        'decline',
      );
      expect(await check(request.conversation.id, 'pia')).toBeNull();
    });

    it('schedules one check per recipient and conversation per window, however many messages', async () => {
      const { conversation } = await openDirect();
      for (let i = 0; i < 5; i++)
        await chat.send(rita, {
          conversationId: conversation.id,
          clientMessageId: `m${i}`,
          body: `m${i}`,
        });
      const checks = (await due()).filter((e) => e.kind === 'offline-check');
      expect(checks).toHaveLength(0); // not due before the delay
      clock.advance(DELAY_MS);
      expect((await due()).filter((e) => e.kind === 'offline-check')).toHaveLength(1);
    });
  });

  it('a report is a report.created event with what moderation tooling needs, never the note or the words', async () => {
    const { conversation } = await openDirect();
    const sent = await chat.send(rita, {
      conversationId: conversation.id,
      clientMessageId: 'r1',
      body: 'pay a fee first',
    });
    const receipt = await chat.report(sam, {
      conversationId: conversation.id,
      messageId: sent.message.id,
      reason: 'scam',
      note: 'asked for money',
    });
    const event = (await events()).find((e) => e.type === 'report.created');
    expect(event).toEqual({
      id: `rep_${receipt.id}`,
      type: 'report.created',
      timestamp: clock.now().toISOString(),
      data: {
        reportId: receipt.id,
        conversationId: conversation.id,
        messageId: sent.message.id,
        reason: 'scam',
        reporterId: 'sam',
        reportedUserId: 'rita',
        createdAt: receipt.createdAt,
      },
    });
  });

  it('erases a person: tombstones seen through sync, memberships gone, the erasure recorded; exports before', async () => {
    const { conversation } = await openDirect();
    await chat.send(sam, {
      conversationId: conversation.id,
      clientMessageId: 's1',
      body: 'my phone is 555-0100',
    });
    await chat.send(rita, {
      conversationId: conversation.id,
      clientMessageId: 'r1',
      body: 'thanks',
    });
    const exported = await platform.exportUser('sam');
    expect(exported.messages.map((m) => m.body)).toEqual(['my phone is 555-0100']);
    expect(exported.conversations.map((c) => c.id)).toEqual([conversation.id]);

    const before = (await raw.conversations.get(conversation.id))!.version;
    const result = await platform.eraseUser(backend, 'sam');
    expect(result).toEqual({
      userId: 'sam',
      complete: true,
      messagesRedacted: 1,
      conversationsLeft: 1,
    });
    const seen = await chat.sync(rita, {
      conversations: [{ conversationId: conversation.id, afterVersion: before }],
    });
    expect(
      seen.conversations[0]?.messages.map((m) => [m.senderId, m.body, Boolean(m.deletedAt)]),
    ).toEqual([['sam', '', true]]);
    expect(seen.conversations[0]?.conversation?.members.map((m) => m.userId)).toEqual(['rita']);
    expect(raw.platform.erasures).toEqual([
      { userId: 'sam', requestedBy: 'backend', at: clock.now(), messages: 1, conversations: 1 },
    ]);
    // Outbox entries carrying Sam's words are gone with them.
    expect((await due()).filter((e) => e.payload.includes('555-0100'))).toEqual([]);
  });
});
