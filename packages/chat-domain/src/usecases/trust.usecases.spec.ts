import {
  TRUST_DEFAULTS,
  createChat,
  type Chat,
  type ConversationDto,
  type MessageDto,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

// The trust rules as a signed-in user meets them, one use case at a time, on the embedded
// store with a fake clock. The same rules on MongoDB are the store contract's; over two
// gateway instances, the e2e tests'.

const rita: Principal = { userId: 'rita', role: 'recruiter' };
const sam: Principal = { userId: 'sam', role: 'candidate' };
const pat: Principal = { userId: 'pat', role: 'candidate' };
const admin: Principal = { userId: 'mod', role: 'admin' };
const EDIT_WINDOW_MS = 60_000;

describe('trust and safety use cases (memory store, fake clock)', () => {
  let chat: Chat;
  let fanout: RecordingFanOut;
  let clock: FakeClock;

  beforeEach(() => {
    fanout = new RecordingFanOut();
    clock = new FakeClock();
    chat = createChat({
      store: new MemoryChatStore(),
      fanout,
      clock,
      trust: { editWindowMs: EDIT_WINDOW_MS },
    });
  });

  const send = (who: Principal, conversationId: string, key: string, body = key) =>
    chat.send(who, { conversationId, clientMessageId: key, body });
  const request = async (from: Principal, to: Principal, jobId?: string) =>
    (
      await chat.openConversation(from, {
        kind: 'direct',
        userId: to.userId,
        ...(jobId && { jobId }),
      })
    ).conversation;
  const contacts = async (a: Principal, b: Principal): Promise<ConversationDto> => {
    const c = await request(a, b);
    return c.request ? chat.answerRequest(b, c.id, 'accept') : c;
  };
  /** Who was sent `event`, over everything fanned out since `from`. */
  const audienceOf = (event: string, from = 0) =>
    fanout.sent
      .slice(from)
      .filter((e) => e.event === event)
      .flatMap((e) => e.users);

  describe('message requests', () => {
    it('a stranger opens a request: limited sends, the recipient sees it apart and shares nothing until accepting', async () => {
      const c = await request(rita, sam);
      expect(c.request).toEqual({ from: 'rita', to: 'sam', state: 'pending' });
      expect((await chat.listConversations(sam, { limit: 10 })).conversations).toEqual([]);
      const box = await chat.listConversations(sam, { limit: 10, box: 'requests' });
      expect(box.conversations.map((x) => x.id)).toEqual([c.id]);

      for (let i = 1; i <= TRUST_DEFAULTS.requestAllowance; i++) await send(rita, c.id, `r${i}`);
      await expect(send(rita, c.id, 'one-too-many')).rejects.toMatchObject({
        code: 'REQUEST_PENDING',
      });
      const history = await chat.history(sam, c.id, { limit: 50 });
      expect(history.messages.map((m) => m.clientMessageId)).toEqual(['r1', 'r2', 'r3']);

      // The recipient reads, types and is present without the opener learning of it.
      const mark = fanout.sent.length;
      await chat.markRead(sam, c.id, 3);
      expect(audienceOf('conversation:read', mark)).toEqual(['sam']);
      expect((await chat.typingAudience(sam, c.id)).audience).toEqual([]);
      expect(await chat.visibleContacts('rita', ['sam'])).toEqual([]);
      expect(await chat.presenceAudience('sam', 10)).toEqual(['sam']);
      const seenByRita = await chat.getConversation(rita, c.id);
      expect(seenByRita.members.find((m) => m.userId === 'sam')?.lastReadSeq).toBe(0);

      const accepted = await chat.answerRequest(sam, c.id, 'accept');
      expect(accepted.request).toBeUndefined();
      expect(fanout.of('conversation:updated').at(-1)).toMatchObject({
        users: ['rita', 'sam'],
        payload: { conversationId: c.id, request: null, blocked: false },
      });
      // What Sam read before accepting reaches Rita now: "Seen" without a new message.
      expect(fanout.of('conversation:read').at(-1)).toMatchObject({
        users: ['rita'],
        payload: { conversationId: c.id, userId: 'sam', lastReadSeq: 3 },
      });
      expect(await chat.visibleContacts('rita', ['sam'])).toEqual(['sam']);
      expect((await chat.getConversation(rita, c.id)).members[1]?.lastReadSeq).toBe(3);
      await send(rita, c.id, 'r4');
    });

    it('varying the job opens no second request: one at a time per stranger, and none after a decline', async () => {
      const first = await request(pat, rita, 'job-1');
      for (const jobId of ['job-2', 'job-3']) {
        await expect(request(pat, rita, jobId)).rejects.toMatchObject({ code: 'REQUEST_PENDING' });
      }
      // Opening the same one again is the same conversation, not a new event.
      expect((await request(pat, rita, 'job-1')).id).toBe(first.id);
      expect(fanout.of('conversation:created')).toHaveLength(1);
      await chat.answerRequest(rita, first.id, 'decline');
      await expect(send(pat, first.id, 'please')).rejects.toMatchObject({
        code: 'REQUEST_DECLINED',
      });
      await expect(request(pat, rita, 'job-4')).rejects.toMatchObject({
        code: 'REQUEST_DECLINED',
      });
      await expect(chat.answerRequest(pat, first.id, 'accept')).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      expect(
        (await chat.listConversations(rita, { limit: 10, box: 'requests' })).conversations,
      ).toEqual([]);
    });

    it('the recipient replying accepts, and both sides are told', async () => {
      const c = await request(rita, sam);
      await send(rita, c.id, 'hello');
      await send(sam, c.id, 'hi!');
      expect(fanout.of('conversation:updated').at(-1)?.payload).toMatchObject({ request: null });
      expect((await chat.listConversations(sam, { limit: 10 })).conversations[0]?.id).toBe(c.id);
      for (let i = 0; i < 5; i++) await send(rita, c.id, `more-${i}`);
    });
  });

  describe('blocks', () => {
    it('stops everything between the two, either way, at once; unblocking restores it', async () => {
      const c = await contacts(rita, sam);
      await send(sam, c.id, 'before');
      const mark = fanout.sent.length;
      expect(await chat.block(sam, 'rita')).toEqual({ blocked: true });
      expect(fanout.of('conversation:updated').at(-1)).toMatchObject({
        users: ['rita', 'sam'],
        payload: { conversationId: c.id, blocked: true },
      });
      // Each is shown the other offline, at once.
      expect(fanout.sent.slice(mark).filter((e) => e.event === 'presence')).toEqual([
        { users: ['rita'], event: 'presence', payload: { userId: 'sam', online: false } },
        { users: ['sam'], event: 'presence', payload: { userId: 'rita', online: false } },
      ]);

      for (const who of [rita, sam]) {
        await expect(send(who, c.id, `after-${who.userId}`)).rejects.toMatchObject({
          code: 'BLOCKED',
        });
        await expect(chat.typingAudience(who, c.id)).rejects.toMatchObject({ code: 'BLOCKED' });
      }
      const [own] = (await chat.history(sam, c.id, { limit: 5 })).messages;
      await expect(
        chat.edit(sam, { conversationId: c.id, messageId: own!.id, body: 'changed' }),
      ).rejects.toMatchObject({ code: 'BLOCKED' });
      await expect(request(rita, sam, 'job-9')).rejects.toMatchObject({ code: 'BLOCKED' });
      await expect(
        chat.openConversation(rita, { kind: 'group', title: 'Panel', memberIds: ['sam', 'pat'] }),
      ).rejects.toMatchObject({ code: 'BLOCKED' });
      expect(await chat.visibleContacts('rita', ['sam'])).toEqual([]);
      expect(await chat.presenceAudience('sam', 10)).toEqual(['sam']);
      const readMark = fanout.sent.length;
      await chat.markRead(rita, c.id, 1);
      expect(audienceOf('conversation:read', readMark)).toEqual(['rita']);
      expect((await chat.blockedUsers(sam, { limit: 10 })).users.map((u) => u.userId)).toEqual([
        'rita',
      ]);
      expect((await chat.blockedUsers(rita, { limit: 10 })).users).toEqual([]);
      await expect(chat.block(sam, 'sam')).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });

      // The blocked one cannot lift it; the blocker can.
      await chat.unblock(rita, 'sam');
      await expect(send(rita, c.id, 'still')).rejects.toMatchObject({ code: 'BLOCKED' });
      await chat.unblock(sam, 'rita');
      expect(fanout.of('conversation:updated').at(-1)?.payload).toMatchObject({ blocked: false });
      await send(rita, c.id, 'again');
      expect(await chat.visibleContacts('rita', ['sam'])).toEqual(['sam']);
    });

    it('a block both ways needs both lifted', async () => {
      const c = await contacts(rita, sam);
      await chat.block(sam, 'rita');
      await chat.block(rita, 'sam');
      await chat.unblock(sam, 'rita');
      await expect(send(sam, c.id, 'x')).rejects.toMatchObject({ code: 'BLOCKED' });
      await chat.unblock(rita, 'sam');
      await send(sam, c.id, 'x');
    });
  });

  describe('edit and delete', () => {
    let c: ConversationDto;
    let mine: MessageDto;
    beforeEach(async () => {
      c = await contacts(rita, sam);
      mine = (await send(sam, c.id, 'k1', 'I am available Monday')).message;
    });

    it('edits an own message within the window: members are told, sync returns the current state', async () => {
      const before = (await chat.getConversation(rita, c.id)).version;
      clock.advance(EDIT_WINDOW_MS - 1);
      const edited = await chat.edit(
        sam,
        { conversationId: c.id, messageId: mine.id, body: 'I am available Tuesday' },
        { socketId: 'sam-phone' },
      );
      expect(edited).toMatchObject({
        id: mine.id,
        seq: mine.seq,
        body: 'I am available Tuesday',
        editedAt: clock.now().toISOString(),
      });
      expect(fanout.of('message:updated').at(-1)).toMatchObject({
        users: ['rita', 'sam'],
        except: 'sam-phone',
        payload: { id: mine.id, version: edited.version },
      });
      const synced = await chat.sync(rita, {
        conversations: [{ conversationId: c.id, afterVersion: before }],
      });
      expect(synced.conversations[0]!.messages.map((m) => m.body)).toEqual([
        'I am available Tuesday',
      ]);
    });

    it('refuses edits past the window, of someone else, of a deleted one, and changes nothing', async () => {
      clock.advance(EDIT_WINDOW_MS + 1);
      await expect(
        chat.edit(sam, { conversationId: c.id, messageId: mine.id, body: 'late' }),
      ).rejects.toMatchObject({ code: 'EDIT_WINDOW_PASSED' });
      await expect(
        chat.edit(rita, { conversationId: c.id, messageId: mine.id, body: 'forged' }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        chat.edit(pat, { conversationId: c.id, messageId: mine.id, body: 'outsider' }),
      ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
      await expect(
        chat.edit(sam, { conversationId: c.id, messageId: '000000000000000000000000', body: 'x' }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await chat.delete(sam, { conversationId: c.id, messageId: mine.id });
      clock.ms -= EDIT_WINDOW_MS;
      await expect(
        chat.edit(sam, { conversationId: c.id, messageId: mine.id, body: 'back' }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      const [stored] = (await chat.history(rita, c.id, { limit: 5 })).messages;
      expect(stored).toMatchObject({ body: '', deletedAt: expect.any(String) });
      expect(fanout.of('message:updated')).toHaveLength(1);
    });

    it('deletes an own message at any time: a tombstone for every member, in history and sync', async () => {
      const before = (await chat.getConversation(sam, c.id)).version;
      clock.advance(30 * 24 * 3600_000);
      const tombstone = await chat.delete(sam, { conversationId: c.id, messageId: mine.id });
      expect(tombstone).toMatchObject({
        id: mine.id,
        body: '',
        deletedAt: clock.now().toISOString(),
      });
      expect(tombstone).not.toHaveProperty('deletedBy');
      // Again: the same tombstone, nothing new sent.
      expect(await chat.delete(sam, { conversationId: c.id, messageId: mine.id })).toEqual(
        tombstone,
      );
      expect(fanout.of('message:updated')).toHaveLength(1);
      const synced = await chat.sync(rita, {
        conversations: [{ conversationId: c.id, afterVersion: before }],
      });
      expect(synced.conversations[0]!.messages).toEqual([tombstone]);
      const list = await chat.listConversations(rita, { limit: 5 });
      expect(list.conversations[0]!.lastMessage).toMatchObject({ body: '', deleted: true });
    });

    it('only admins delete the messages of others', async () => {
      await expect(
        chat.delete(rita, { conversationId: c.id, messageId: mine.id }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        chat.moderateDelete(rita, { conversationId: c.id, messageId: mine.id }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      const removed = await chat.moderateDelete(admin, {
        conversationId: c.id,
        messageId: mine.id,
      });
      expect(removed.body).toBe('');
      expect(fanout.of('message:updated').at(-1)?.users).toEqual(['rita', 'sam']);
    });
  });

  describe('reports', () => {
    it('stores a report with a snapshot, tells the reported user nothing, and lets only admins see and resolve it', async () => {
      const c = await contacts(rita, sam);
      const offending = (await send(rita, c.id, 'k', 'Send me your bank details')).message;
      const mark = fanout.sent.length;
      const receipt = await chat.report(sam, {
        conversationId: c.id,
        messageId: offending.id,
        reason: 'scam',
        note: 'asks for bank details',
      });
      expect(receipt).toEqual({
        id: expect.any(String),
        status: 'open',
        createdAt: expect.any(String),
      });
      expect(fanout.sent.slice(mark)).toEqual([]);

      // The sender edits the message away: the moderator still sees what was reported.
      await chat.edit(rita, { conversationId: c.id, messageId: offending.id, body: 'Hello' });
      await expect(chat.listReports(sam, { limit: 10 })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(chat.resolveReport(rita, receipt.id, 'dismissed')).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      const page = await chat.listReports(admin, { status: 'open', limit: 10 });
      expect(page.reports).toEqual([
        expect.objectContaining({
          id: receipt.id,
          reason: 'scam',
          reporterId: 'sam',
          reportedUserId: 'rita',
          snapshot: expect.objectContaining({ body: 'Send me your bank details' }),
        }),
      ]);
      const resolved = await chat.resolveReport(admin, receipt.id, 'message_deleted');
      expect(resolved).toMatchObject({
        status: 'actioned',
        resolution: 'message_deleted',
        history: [{ from: 'open', to: 'actioned', resolution: 'message_deleted', by: 'mod' }],
      });
      const [gone] = (await chat.history(sam, c.id, { limit: 5 })).messages;
      expect(gone).toMatchObject({ id: offending.id, body: '' });
      expect((await chat.listReports(admin, { status: 'open', limit: 10 })).reports).toEqual([]);
    });

    it('refuses reports of own messages, by outsiders, and of a group without a message', async () => {
      const c = await contacts(rita, sam);
      const own = (await send(sam, c.id, 'k')).message;
      await expect(
        chat.report(sam, { conversationId: c.id, messageId: own.id, reason: 'spam' }),
      ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
      await expect(
        chat.report(pat, { conversationId: c.id, messageId: own.id, reason: 'spam' }),
      ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
      const group = (
        await chat.openConversation(rita, { kind: 'group', title: 'Panel', memberIds: ['sam'] })
      ).conversation;
      await expect(
        chat.report(sam, { conversationId: group.id, reason: 'spam' }),
      ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
      expect((await chat.listReports(admin, { limit: 10 })).reports).toEqual([]);
    });
  });
});
