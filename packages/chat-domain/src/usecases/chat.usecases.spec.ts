import { jest } from '@jest/globals';
import {
  LIMITS,
  UnavailableError,
  createChat,
  storeWithDeadline,
  type Chat,
  type ChatStore,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

const alice: Principal = { userId: 'alice', role: 'recruiter' };
const bob: Principal = { userId: 'bob', role: 'candidate' };
const mallory: Principal = { userId: 'mallory', role: 'candidate' };

describe('chat use cases (memory store, fake clock)', () => {
  let chat: Chat;
  let fanout: RecordingFanOut;
  let store: MemoryChatStore;
  let clock: FakeClock;

  beforeEach(() => {
    fanout = new RecordingFanOut();
    store = new MemoryChatStore();
    clock = new FakeClock();
    chat = createChat({ store, fanout, clock, settleMs: 10_000 });
  });

  /** A direct conversation the recipient accepted (a stranger's would be a request). */
  async function accepted(opener: Principal, userId: string, jobId?: string) {
    const { conversation } = await chat.openConversation(opener, {
      kind: 'direct',
      userId,
      ...(jobId && { jobId }),
    });
    if (!conversation.request) return conversation;
    return chat.answerRequest({ userId, role: 'candidate' }, conversation.id, 'accept');
  }
  const direct = (jobId?: string) => accepted(alice, 'bob', jobId);
  const send = (who: Principal, conversationId: string, key: string, body = key) =>
    chat.send(who, { conversationId, clientMessageId: key, body });

  describe('conversations', () => {
    it('opens a direct conversation once per pair and job, telling both members once', async () => {
      const first = await chat.openConversation(alice, {
        kind: 'direct',
        userId: 'bob',
        jobId: 'job-1',
      });
      const again = await chat.openConversation(bob, {
        kind: 'direct',
        userId: 'alice',
        jobId: 'job-1',
      });
      // A stranger's second request, about another job, waits for the first to be answered.
      const second = { kind: 'direct' as const, userId: 'bob', jobId: 'job-2' };
      await expect(chat.openConversation(alice, second)).rejects.toMatchObject({
        code: 'REQUEST_PENDING',
      });
      await chat.answerRequest(bob, first.conversation.id, 'accept');
      const otherJob = await chat.openConversation(alice, second);
      expect(otherJob.conversation.request).toBeUndefined();
      expect(first.created).toBe(true);
      expect(again).toMatchObject({ created: false, conversation: { id: first.conversation.id } });
      expect(otherJob.conversation.id).not.toBe(first.conversation.id);
      expect(first.conversation).toMatchObject({
        kind: 'direct',
        jobId: 'job-1',
        unreadCount: 0,
        lastSeq: 0,
        version: 0,
        createdAt: clock.now().toISOString(),
      });
      const created = fanout.of('conversation:created');
      expect(created).toHaveLength(2);
      expect(created[0]!.users.sort()).toEqual(['alice', 'bob']);
    });

    it('creates groups for recruiters, deduplicating members, and refuses candidates', async () => {
      const { conversation } = await chat.openConversation(alice, {
        kind: 'group',
        title: 'Panel',
        memberIds: ['bob', 'carol', 'bob', 'alice'],
      });
      expect(conversation.members.map((m) => m.userId)).toEqual(['alice', 'bob', 'carol']);
      expect(conversation.members[0]!.role).toBe('owner');
      await expect(
        chat.openConversation(bob, { kind: 'group', title: 'x', memberIds: ['carol'] }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });

    it('lists most recent activity first with cursor pages and unread counts', async () => {
      const ids: string[] = [];
      for (const other of ['u1', 'u2', 'u3']) {
        ids.push((await accepted(alice, other)).id);
        clock.advance(1);
      }
      clock.advance(5);
      await send({ userId: 'u1', role: 'candidate' }, ids[0]!, 'a', 'ping');
      const page1 = await chat.listConversations(alice, { limit: 2 });
      expect(page1.conversations.map((c) => c.id)).toEqual([ids[0], ids[2]]);
      expect(page1.conversations[0]).toMatchObject({
        unreadCount: 1,
        lastMessage: { body: 'ping', senderId: 'u1' },
      });
      expect(page1).toMatchObject({ totalUnread: 1, totalUnreadCapped: false });
      const page2 = await chat.listConversations(alice, { limit: 2, cursor: page1.nextCursor! });
      expect(page2.conversations.map((c) => c.id)).toEqual([ids[1]]);
      expect(page2.nextCursor).toBeUndefined();
    });

    it('counts the total unread over the most recent conversations only, and says so', async () => {
      for (let i = 0; i < LIMITS.unreadScanConversations + 2; i++) {
        const conversation = await accepted({ userId: `w${i}`, role: 'recruiter' }, 'bob');
        clock.advance(1);
        await send({ userId: `w${i}`, role: 'recruiter' }, conversation.id, 'hello');
      }
      expect(await chat.listConversations(bob, { limit: 1 })).toMatchObject({
        totalUnread: LIMITS.unreadScanConversations,
        totalUnreadCapped: true,
      });
    });

    it('rejects a forged cursor', async () => {
      await expect(
        chat.listConversations(alice, { limit: 2, cursor: 'not-a-cursor' }),
      ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    });
  });

  describe('send', () => {
    it('stores with increasing seqs and versions, acks the stored message and fans out except to the sending socket', async () => {
      const c = await direct();
      const one = await chat.send(
        alice,
        { conversationId: c.id, clientMessageId: 'm1', body: 'hello' },
        { socketId: 'sock-a' },
      );
      const two = await send(bob, c.id, 'm1', 'hi');
      expect(one).toMatchObject({
        duplicate: false,
        message: {
          seq: 1,
          version: 1,
          senderId: 'alice',
          body: 'hello',
          createdAt: clock.now().toISOString(),
        },
      });
      expect(two.message).toMatchObject({ seq: 2, version: 2 });
      expect(fanout.of('message:new')[0]).toMatchObject({
        users: ['alice', 'bob'],
        except: 'sock-a',
        payload: one.message,
      });
      expect((await chat.history(bob, c.id, { limit: 10 })).messages.map((m) => m.body)).toEqual([
        'hello',
        'hi',
      ]);
    });

    it('returns the stored message for a repeated clientMessageId, creates nothing and fans out once', async () => {
      const c = await direct();
      const first = await send(alice, c.id, 'same', 'once');
      const repeat = await send(alice, c.id, 'same', 'twice?');
      expect(repeat).toEqual({ duplicate: true, message: first.message });
      expect((await chat.history(alice, c.id, { limit: 10 })).messages).toHaveLength(1);
      expect(fanout.of('message:new')).toHaveLength(1);
    });

    /** UnannouncedSends in memory; the re-checks it was handed wait until the test runs them. */
    function unannouncedMarks() {
      const marks = new Set<string>();
      const rechecks: (() => Promise<void>)[] = [];
      const unannounced = {
        mark: (key: string, recheck?: () => Promise<void>) => {
          marks.add(key);
          if (recheck) rechecks.push(recheck);
          return Promise.resolve();
        },
        take: (key: string) => Promise.resolve(marks.delete(key)),
      };
      return { unannounced, rechecks };
    }

    it('a write that landed after its sender was told UNAVAILABLE is announced by the retry, once', async () => {
      const c = await direct();
      const { unannounced, rechecks } = unannouncedMarks();
      // The store writes the message, then its answer is lost: the sender hears UNAVAILABLE.
      const lateMessages = Object.create(store.messages) as ChatStore['messages'];
      lateMessages.append = async (draft) => {
        await store.messages.append(draft);
        throw new UnavailableError('the store did not answer in time');
      };
      const lateStore = Object.create(store) as ChatStore;
      Object.defineProperty(lateStore, 'messages', { value: lateMessages });
      const late = createChat({ store: lateStore, fanout, clock, unannounced });
      const withMarks = createChat({ store, fanout, clock, unannounced });
      const input = { conversationId: c.id, clientMessageId: 'late', body: 'landed late' };
      await expect(late.send(alice, input)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(fanout.of('message:new')).toHaveLength(0);

      const retry = await withMarks.send(alice, input);
      expect(retry.duplicate).toBe(true);
      expect(fanout.of('message:new').map((e) => e.payload)).toEqual([retry.message]);
      // Announced once: the instance's own check later, and a further retry, find it told.
      for (const recheck of rechecks.splice(0)) await recheck();
      await withMarks.send(alice, input);
      expect(fanout.of('message:new')).toHaveLength(1);
    });

    it('a write that landed after UNAVAILABLE, with no retry coming, is announced by the later check', async () => {
      const c = await direct();
      const { unannounced, rechecks } = unannouncedMarks();
      const lateMessages = Object.create(store.messages) as ChatStore['messages'];
      let lost = true;
      lateMessages.append = async (draft) => {
        const stored = await store.messages.append(draft);
        // A driver's network error (the boundary answers it UNAVAILABLE): the write may have landed.
        if (lost) throw new Error('read ECONNRESET');
        return stored;
      };
      const lateStore = Object.create(store) as ChatStore;
      Object.defineProperty(lateStore, 'messages', { value: lateMessages });
      const late = createChat({ store: lateStore, fanout, clock, unannounced });
      const input = { conversationId: c.id, clientMessageId: 'synced', body: 'seen by sync' };
      await expect(late.send(alice, input)).rejects.toThrow('ECONNRESET');
      expect(fanout.of('message:new')).toHaveLength(0);
      // The sender's device found it in a sync and never retries; the store answers again.
      lost = false;
      for (const recheck of rechecks.splice(0)) await recheck();
      const announced = fanout.of('message:new');
      expect(announced.map((e) => (e.payload as { body: string }).body)).toEqual(['seen by sync']);
      expect(announced[0]!.users.sort()).toEqual(['alice', 'bob']);
      expect((await chat.history(bob, c.id, { limit: 10 })).messages).toHaveLength(1);
    });

    it('a send whose store stops answering right after the write is acked, and announced by the later check', async () => {
      const { unannounced, rechecks } = unannouncedMarks();
      const withMarks = createChat({ store, fanout, clock, unannounced });
      const { conversation: group } = await chat.openConversation(alice, {
        kind: 'group',
        title: 'Panel',
        memberIds: ['bob'],
      });
      await chat.answerRequest(bob, group.id, 'accept');
      // Who is behind a block with the sender is read after the write: that read fails once.
      const blockedAmong = jest
        .spyOn(store.contacts, 'blockedAmong')
        .mockRejectedValueOnce(new UnavailableError('the store did not answer in time'));
      const sent = await withMarks.send(bob, {
        conversationId: group.id,
        clientMessageId: 'after-write',
        body: 'stored, then the store went away',
      });
      expect(sent.duplicate).toBe(false);
      expect(fanout.of('message:new')).toHaveLength(0);
      for (const recheck of rechecks.splice(0)) await recheck();
      const announced = fanout.of('message:new');
      expect(announced.map((e) => e.payload)).toEqual([sent.message]);
      expect(announced[0]!.users.sort()).toEqual(['alice', 'bob']);
      blockedAmong.mockRestore();
    });

    it('a reply that accepts a request is acked when the conversation cannot be read back, and both sides learn of it later', async () => {
      const { unannounced, rechecks } = unannouncedMarks();
      const withMarks = createChat({ store, fanout, clock, unannounced });
      const { conversation } = await chat.openConversation(mallory, {
        kind: 'direct',
        userId: 'bob',
      });
      expect(conversation.request).toBeDefined();
      const get = jest
        .spyOn(store.conversations, 'get')
        .mockRejectedValueOnce(new UnavailableError('the store did not answer in time'));
      const reply = await withMarks.send(bob, {
        conversationId: conversation.id,
        clientMessageId: 'reply',
        body: 'happy to talk',
      });
      expect(reply.duplicate).toBe(false);
      expect(fanout.of('message:new')).toHaveLength(0);
      expect(fanout.of('conversation:updated')).toHaveLength(0);
      for (const recheck of rechecks.splice(0)) await recheck();
      expect(fanout.of('message:new').map((e) => e.payload)).toEqual([reply.message]);
      const updated = fanout.of('conversation:updated');
      expect(updated).toHaveLength(1);
      expect(updated[0]!.users.sort()).toEqual(['bob', 'mallory']);
      get.mockRestore();
    });

    it('refuses non-members and unknown conversations alike, storing nothing', async () => {
      const c = await direct();
      await expect(send(mallory, c.id, 'x', 'spam')).rejects.toMatchObject({
        code: 'NOT_A_MEMBER',
      });
      await expect(send(mallory, 'nope', 'x', 'spam')).rejects.toMatchObject({
        code: 'NOT_A_MEMBER',
      });
      expect((await chat.history(alice, c.id, { limit: 10 })).messages).toHaveLength(0);
      expect(fanout.of('message:new')).toHaveLength(0);
    });

    it('does not ack when the store fails, and fans nothing out', async () => {
      const c = await direct();
      store.messages.append = () => Promise.reject(new Error('disk on fire'));
      await expect(send(alice, c.id, 'x')).rejects.toThrow('disk on fire');
      expect(fanout.of('message:new')).toHaveLength(0);
    });

    it('answers UNAVAILABLE within the deadline when the store stalls, and fans nothing out', async () => {
      const c = await direct();
      const stalled: ChatStore = new MemoryChatStore();
      Object.assign(stalled, { conversations: store.conversations });
      stalled.messages.append = () => new Promise(() => undefined);
      jest.useFakeTimers();
      try {
        const deadlined = createChat({ store: storeWithDeadline(stalled, 1_500), fanout, clock });
        const answer = deadlined.send(alice, {
          conversationId: c.id,
          clientMessageId: 'x',
          body: 'y',
        });
        const outcome = answer.then(
          () => 'acked',
          (error: unknown) => error,
        );
        await jest.advanceTimersByTimeAsync(1_499);
        let settled = false;
        void outcome.then(() => (settled = true));
        await Promise.resolve();
        expect(settled).toBe(false);
        await jest.advanceTimersByTimeAsync(1);
        const error = await outcome;
        expect(error).toBeInstanceOf(UnavailableError);
        expect((error as UnavailableError).message).toMatch(/within 1500 ms/);
      } finally {
        jest.useRealTimers();
      }
      expect(fanout.of('message:new')).toHaveLength(0);
    });

    it('counts sending as reading, and everyone\u2019s position travels with the conversation', async () => {
      const c = await direct();
      await send(bob, c.id, 'b1', 'q');
      await send(alice, c.id, 'a1', 'a');
      expect(await chat.getConversation(alice, c.id)).toMatchObject({
        lastReadSeq: 2,
        unreadCount: 0,
      });
      expect(await chat.getConversation(bob, c.id)).toMatchObject({
        lastReadSeq: 1,
        unreadCount: 1,
      });
      expect((await chat.getConversation(bob, c.id)).members).toMatchObject([
        { userId: 'alice', lastReadSeq: 2 },
        { userId: 'bob', lastReadSeq: 1 },
      ]);
    });
  });

  describe('history', () => {
    it('pages backwards with before and forwards with after, in ascending order', async () => {
      const c = await direct();
      for (let i = 1; i <= 7; i++) await send(alice, c.id, `m${i}`);
      const latest = await chat.history(bob, c.id, { limit: 3 });
      expect(latest.messages.map((m) => m.seq)).toEqual([5, 6, 7]);
      expect(latest.hasMore).toBe(true);
      expect(
        (await chat.history(bob, c.id, { before: 5, limit: 3 })).messages.map((m) => m.seq),
      ).toEqual([2, 3, 4]);
      const oldest = await chat.history(bob, c.id, { before: 2, limit: 3 });
      expect(oldest).toMatchObject({ hasMore: false });
      expect(oldest.messages.map((m) => m.seq)).toEqual([1]);
      const forward = await chat.history(bob, c.id, { after: 4, limit: 2 });
      expect(forward.messages.map((m) => m.seq)).toEqual([5, 6]);
      expect(forward.hasMore).toBe(true);
    });

    it('caps a page in bytes, keeping the newest, and says there is more', async () => {
      const c = await direct();
      const body = '\u6f22'.repeat(LIMITS.maxBodyLength); // 12 KB in UTF-8
      for (let i = 1; i <= 100; i++) await send(alice, c.id, `big${i}`, body);
      const page = await chat.history(bob, c.id, { limit: 100 });
      const bytes = JSON.stringify(page).length * 3;
      expect(page.messages.length).toBeLessThan(100);
      expect(page.messages.at(-1)!.seq).toBe(100);
      expect(page.hasMore).toBe(true);
      expect(bytes).toBeLessThan(LIMITS.maxAnswerBytes * 1.1);
      // Paging on from the oldest one returned gets the rest, nothing twice.
      const older = await chat.history(bob, c.id, { before: page.messages[0]!.seq, limit: 100 });
      expect(older.messages.at(-1)!.seq).toBe(page.messages[0]!.seq - 1);
    });

    it('refuses a non-member the same way whether the conversation exists or not', async () => {
      const c = await direct();
      await send(alice, c.id, 'm');
      for (const id of [c.id, 'nope']) {
        await expect(chat.history(mallory, id, { limit: 10 })).rejects.toMatchObject({
          code: 'NOT_A_MEMBER',
          message: `not a member of conversation ${id}`,
        });
      }
    });
  });

  describe('sync', () => {
    it('returns what a device missed per conversation from its version, bounded, with hasMore', async () => {
      const c1 = await direct('j1');
      const c2 = await direct('j2');
      for (let i = 1; i <= 4; i++) await send(alice, c1.id, `a${i}`);
      await send(alice, c2.id, 'b1');
      clock.advance(60_000);
      const result = await chat.sync(bob, {
        conversations: [
          { conversationId: c1.id, afterVersion: 1 },
          { conversationId: c2.id, afterVersion: 1 },
        ],
        limit: 2,
      });
      expect(result.conversations[0]).toMatchObject({
        conversationId: c1.id,
        hasMore: true,
        version: 3,
      });
      expect(result.conversations[0]!.messages.map((m) => m.version)).toEqual([2, 3]);
      expect(result.conversations[1]).toEqual({
        conversationId: c2.id,
        messages: [],
        version: 1,
        hasMore: false,
        lastReadSeq: 0,
        // Positions move no version: an unchanged entry carries the sender's (own message read).
        receipts: [{ userId: 'alice', lastReadSeq: 1, lastDeliveredSeq: 1 }],
      });
      const rest = await chat.sync(bob, {
        conversations: [{ conversationId: c1.id, afterVersion: 3 }],
      });
      expect(rest.conversations[0]).toMatchObject({ hasMore: false, version: 4 });
    });

    it('answers with the store epoch; a device from another epoch starts over from version 0', async () => {
      const c = await direct();
      for (let i = 1; i <= 3; i++) await send(alice, c.id, `m${i}`);
      clock.advance(60_000);
      const epoch = await store.epoch();
      expect(epoch).toMatch(/^[0-9a-f]{32}$/);
      // A device of this epoch at the newest version: unchanged, as without an epoch (old clients).
      const held = await chat.sync(bob, {
        conversations: [{ conversationId: c.id, afterVersion: 3 }],
        epoch,
      });
      expect(held).toEqual({
        epoch,
        conversations: [
          {
            conversationId: c.id,
            messages: [],
            version: 3,
            hasMore: false,
            lastReadSeq: 0,
            receipts: [{ userId: 'alice', lastReadSeq: 3, lastDeliveredSeq: 3 }],
          },
        ],
      });
      const old = await chat.sync(bob, {
        conversations: [{ conversationId: c.id, afterVersion: 3 }],
      });
      expect(old).toEqual(held);
      // A device whose versions come from before a restore holds more than the store has: with
      // its old epoch it gets every message the store holds, and the conversation itself.
      const before = await chat.sync(bob, {
        conversations: [{ conversationId: c.id, afterVersion: 99 }],
        epoch: 'an-epoch-before-the-restore',
      });
      expect(before.epoch).toBe(epoch);
      expect(before.conversations[0]).toMatchObject({ version: 3, hasMore: false });
      expect(before.conversations[0]!.messages.map((m) => m.body)).toEqual(['m1', 'm2', 'm3']);
      expect(before.conversations[0]!.conversation?.id).toBe(c.id);
      // Another process's memory store (a restart forgets everything) is another epoch.
      expect(await new MemoryChatStore().epoch()).not.toBe(epoch);
    });

    it('never resumes past changes that may still be in flight (the settle window)', async () => {
      const c = await direct();
      await send(alice, c.id, 'old');
      clock.advance(11_000);
      await send(alice, c.id, 'fresh');
      const answer = await chat.sync(bob, {
        conversations: [{ conversationId: c.id, afterVersion: 0 }],
      });
      expect(answer.conversations[0]!.messages.map((m) => m.body)).toEqual(['old', 'fresh']);
      // 'fresh' is returned, but the cursor stops before it until it has settled.
      expect(answer.conversations[0]!.version).toBe(1);
      clock.advance(10_001);
      const later = await chat.sync(bob, {
        conversations: [{ conversationId: c.id, afterVersion: 1 }],
      });
      expect(later.conversations[0]).toMatchObject({ version: 2, hasMore: false });
    });

    it('collapses repeated ids and caps the whole answer in messages and bytes', async () => {
      const c = await direct();
      const body = 'x'.repeat(LIMITS.maxBodyLength);
      for (let i = 1; i <= 150; i++) await send(alice, c.id, `s${i}`, body);
      clock.advance(60_000);
      const repeated = Array.from({ length: 200 }, () => ({
        conversationId: c.id,
        afterVersion: 0,
      }));
      const answer = await chat.sync(bob, { conversations: repeated, limit: 200 });
      expect(answer.conversations).toHaveLength(1);
      const entry = answer.conversations[0]!;
      expect(entry.hasMore).toBe(true);
      expect(JSON.stringify(answer).length).toBeLessThan(LIMITS.maxAnswerBytes * 1.05);
      expect(entry.version).toBe(entry.messages.at(-1)!.version);
    });

    it('refuses more than the distinct-conversation cap', async () => {
      const many = Array.from({ length: LIMITS.maxSyncConversations + 1 }, (_, i) => ({
        conversationId: `c${i}`,
        afterVersion: 0,
      }));
      await expect(chat.sync(bob, { conversations: many })).rejects.toMatchObject({
        code: 'INVALID_PAYLOAD',
      });
    });

    it('marks conversations the caller is not in, without failing the others', async () => {
      const c = await direct();
      await send(alice, c.id, 'm');
      const answer = await chat.sync(mallory, {
        conversations: [
          { conversationId: c.id, afterVersion: 0 },
          { conversationId: 'nope', afterVersion: 0 },
        ],
      });
      expect(answer.conversations.map((e) => [e.messages.length, e.error?.code])).toEqual([
        [0, 'NOT_A_MEMBER'],
        [0, 'NOT_A_MEMBER'],
      ]);
    });
  });

  describe('read state', () => {
    it('moves forward only, tells the others, and refuses a seq beyond the last message', async () => {
      const c = await direct();
      for (let i = 1; i <= 3; i++) await send(alice, c.id, `m${i}`);
      expect(await chat.markRead(bob, c.id, 2, { socketId: 'bob-phone' })).toEqual({
        conversationId: c.id,
        lastReadSeq: 2,
        unreadCount: 1,
      });
      expect(await chat.markRead(bob, c.id, 1)).toEqual({
        conversationId: c.id,
        lastReadSeq: 2,
        unreadCount: 1,
      });
      await expect(chat.markRead(bob, c.id, 4)).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
      await expect(chat.markRead(mallory, c.id, 1)).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
      expect(fanout.of('conversation:read')).toEqual([
        {
          users: ['alice', 'bob'],
          except: 'bob-phone',
          event: 'conversation:read',
          payload: { conversationId: c.id, userId: 'bob', lastReadSeq: 2 },
        },
      ]);
    });
  });

  describe('presence visibility', () => {
    it('only reveals contacts among the users asked about, and the caller', async () => {
      await direct();
      expect(await chat.visibleContacts('alice', ['bob', 'mallory', 'alice', 'bob'])).toEqual([
        'bob',
        'alice',
      ]);
      expect(await chat.visibleContacts('mallory', ['alice'])).toEqual([]);
    });

    it('announces to the user and a bounded number of contacts', async () => {
      for (let i = 0; i < 5; i++) await accepted(alice, `c${i}`);
      expect(await chat.presenceAudience('alice', 3)).toHaveLength(3);
      expect((await chat.presenceAudience('alice', 100)).sort()).toEqual(
        ['alice', 'c0', 'c1', 'c2', 'c3', 'c4'].sort(),
      );
      expect(await chat.presenceAudience('alice', 0)).toEqual([]);
    });
  });
});
