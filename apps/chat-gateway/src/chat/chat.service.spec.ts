import { Test } from '@nestjs/testing';
import { type Principal } from '@jobsphere/chat-domain';
import { MetricsService } from '../metrics/metrics.service.js';
import { MemoryChatStore } from '../persistence/memory/memory.store.js';
import { CHAT_STORE } from '../persistence/persistence.tokens.js';
import { RealtimeBus } from '../realtime/realtime-bus.js';
import { ChatService } from './chat.service.js';

/** Records what would have been fanned out, instead of a Socket.IO server. */
class RecordingBus {
  readonly sent: { users: string[]; except?: string; event: string; payload: unknown }[] = [];
  toUsers(users: string[], event: string, payload: unknown) {
    this.sent.push({ users, event, payload });
  }
  toUsersExcept(users: string[], except: string | undefined, event: string, payload: unknown) {
    this.sent.push({ users, ...(except && { except }), event, payload });
  }
  volatileToUsers(users: string[], except: string | undefined, event: string, payload: unknown) {
    this.toUsersExcept(users, except, event, payload);
  }
}

const alice: Principal = { userId: 'alice', role: 'recruiter' };
const bob: Principal = { userId: 'bob', role: 'candidate' };
const mallory: Principal = { userId: 'mallory', role: 'candidate' };

describe('ChatService', () => {
  let chat: ChatService;
  let bus: RecordingBus;
  let store: MemoryChatStore;

  beforeEach(async () => {
    bus = new RecordingBus();
    store = new MemoryChatStore();
    const module = await Test.createTestingModule({
      providers: [
        ChatService,
        MetricsService,
        { provide: CHAT_STORE, useValue: store },
        { provide: RealtimeBus, useValue: bus },
      ],
    }).compile();
    chat = module.get(ChatService);
  });

  async function direct(jobId?: string) {
    return (
      await chat.createConversation(alice, {
        kind: 'direct',
        userId: 'bob',
        ...(jobId && { jobId }),
      })
    ).conversation;
  }

  describe('conversations', () => {
    it('opens a direct conversation once per pair and job, telling both members once', async () => {
      const first = await chat.createConversation(alice, {
        kind: 'direct',
        userId: 'bob',
        jobId: 'job-1',
      });
      const again = await chat.createConversation(bob, {
        kind: 'direct',
        userId: 'alice',
        jobId: 'job-1',
      });
      const otherJob = await chat.createConversation(alice, {
        kind: 'direct',
        userId: 'bob',
        jobId: 'job-2',
      });
      expect(first.created).toBe(true);
      expect(again).toMatchObject({ created: false, conversation: { id: first.conversation.id } });
      expect(otherJob.conversation.id).not.toBe(first.conversation.id);
      expect(first.conversation).toMatchObject({
        kind: 'direct',
        jobId: 'job-1',
        unreadCount: 0,
        lastSeq: 0,
      });
      const created = bus.sent.filter((e) => e.event === 'conversation:created');
      expect(created).toHaveLength(2);
      expect(created[0]!.users.sort()).toEqual(['alice', 'bob']);
    });

    it('creates groups for recruiters, deduplicating members, and refuses candidates', async () => {
      const { conversation } = await chat.createConversation(alice, {
        kind: 'group',
        title: 'Panel',
        memberIds: ['bob', 'carol', 'bob', 'alice'],
      });
      expect(conversation.members.map((m) => m.userId)).toEqual(['alice', 'bob', 'carol']);
      expect(conversation.members[0]!.role).toBe('owner');
      await expect(
        chat.createConversation(bob, { kind: 'group', title: 'x', memberIds: ['carol'] }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });

    it('lists most recent activity first with cursor pages and unread counts', async () => {
      const ids: string[] = [];
      for (const other of ['u1', 'u2', 'u3']) {
        ids.push(
          (await chat.createConversation(alice, { kind: 'direct', userId: other })).conversation.id,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5)); // a later millisecond than the creations
      await chat.send(
        { userId: 'u1', role: 'candidate' },
        { conversationId: ids[0]!, clientMessageId: 'a', body: 'ping' },
      );
      const page1 = await chat.listConversations(alice, { limit: 2 });
      expect(page1.conversations.map((c) => c.id)).toEqual([ids[0], ids[2]]);
      expect(page1.conversations[0]).toMatchObject({
        unreadCount: 1,
        lastMessage: { body: 'ping', senderId: 'u1' },
      });
      expect(page1.totalUnread).toBe(1);
      const page2 = await chat.listConversations(alice, { limit: 2, cursor: page1.nextCursor! });
      expect(page2.conversations.map((c) => c.id)).toEqual([ids[1]]);
      expect(page2.nextCursor).toBeUndefined();
    });

    it('rejects a forged cursor', async () => {
      await expect(
        chat.listConversations(alice, { limit: 2, cursor: 'not-a-cursor' }),
      ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    });
  });

  describe('send', () => {
    it('stores with increasing seqs, acks the stored message and fans out to the members except the sending socket', async () => {
      const c = await direct();
      const one = await chat.send(
        alice,
        { conversationId: c.id, clientMessageId: 'm1', body: 'hello' },
        { socketId: 'sock-a' },
      );
      const two = await chat.send(bob, { conversationId: c.id, clientMessageId: 'm1', body: 'hi' });
      expect(one).toMatchObject({
        duplicate: false,
        message: { seq: 1, senderId: 'alice', body: 'hello' },
      });
      expect(two.message.seq).toBe(2);
      const fanout = bus.sent.filter((e) => e.event === 'message:new');
      expect(fanout[0]).toMatchObject({
        users: ['alice', 'bob'],
        except: 'sock-a',
        payload: one.message,
      });
      expect((await chat.history(bob, c.id, { limit: 10 })).messages.map((m) => m.body)).toEqual([
        'hello',
        'hi',
      ]);
    });

    it('returns the stored message for a repeated clientMessageId and creates nothing', async () => {
      const c = await direct();
      const first = await chat.send(alice, {
        conversationId: c.id,
        clientMessageId: 'same',
        body: 'once',
      });
      const repeat = await chat.send(alice, {
        conversationId: c.id,
        clientMessageId: 'same',
        body: 'twice?',
      });
      expect(repeat).toEqual({ duplicate: true, message: first.message });
      expect((await chat.history(alice, c.id, { limit: 10 })).messages).toHaveLength(1);
      expect(bus.sent.filter((e) => e.event === 'message:new')).toHaveLength(1);
    });

    it('resolves concurrent sends of one clientMessageId to a single message', async () => {
      const c = await direct();
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          chat.send(alice, { conversationId: c.id, clientMessageId: 'race', body: 'x' }),
        ),
      );
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    });

    it('refuses non-members and unknown conversations alike, storing nothing', async () => {
      const c = await direct();
      await expect(
        chat.send(mallory, { conversationId: c.id, clientMessageId: 'x', body: 'spam' }),
      ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
      await expect(
        chat.send(mallory, { conversationId: 'nope', clientMessageId: 'x', body: 'spam' }),
      ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
      expect((await chat.history(alice, c.id, { limit: 10 })).messages).toHaveLength(0);
    });

    it('does not ack when the store fails, and fans nothing out', async () => {
      const c = await direct();
      store.messages.insert = () => Promise.reject(new Error('disk on fire'));
      await expect(
        chat.send(alice, { conversationId: c.id, clientMessageId: 'x', body: 'lost?' }),
      ).rejects.toThrow('disk on fire');
      expect(bus.sent.filter((e) => e.event === 'message:new')).toHaveLength(0);
    });

    it('counts sending as reading', async () => {
      const c = await direct();
      await chat.send(bob, { conversationId: c.id, clientMessageId: 'b1', body: 'q' });
      await chat.send(alice, { conversationId: c.id, clientMessageId: 'a1', body: 'a' });
      expect(await chat.getConversation(alice, c.id)).toMatchObject({
        lastReadSeq: 2,
        unreadCount: 0,
      });
      expect(await chat.getConversation(bob, c.id)).toMatchObject({
        lastReadSeq: 1,
        unreadCount: 1,
      });
      // Everyone's position travels with the conversation, so "seen" survives a reload.
      expect((await chat.getConversation(bob, c.id)).members).toMatchObject([
        { userId: 'alice', lastReadSeq: 2 },
        { userId: 'bob', lastReadSeq: 1 },
      ]);
    });
  });

  describe('history and sync', () => {
    it('pages backwards with before and forwards with after, in ascending order', async () => {
      const c = await direct();
      for (let i = 1; i <= 7; i++)
        await chat.send(alice, { conversationId: c.id, clientMessageId: `m${i}`, body: `#${i}` });
      const latest = await chat.history(bob, c.id, { limit: 3 });
      expect(latest.messages.map((m) => m.seq)).toEqual([5, 6, 7]);
      expect(latest.hasMore).toBe(true);
      const older = await chat.history(bob, c.id, { before: 5, limit: 3 });
      expect(older.messages.map((m) => m.seq)).toEqual([2, 3, 4]);
      const oldest = await chat.history(bob, c.id, { before: 2, limit: 3 });
      expect(oldest).toMatchObject({ hasMore: false });
      expect(oldest.messages.map((m) => m.seq)).toEqual([1]);
      const forward = await chat.history(bob, c.id, { after: 4, limit: 2 });
      expect(forward.messages.map((m) => m.seq)).toEqual([5, 6]);
      expect(forward.hasMore).toBe(true);
    });

    it('returns what a device missed per conversation, bounded, with hasMore', async () => {
      const c1 = await direct('j1');
      const c2 = await direct('j2');
      for (let i = 1; i <= 4; i++)
        await chat.send(alice, { conversationId: c1.id, clientMessageId: `a${i}`, body: `${i}` });
      await chat.send(alice, { conversationId: c2.id, clientMessageId: 'b1', body: 'x' });
      const result = await chat.sync(bob, {
        conversations: [
          { conversationId: c1.id, afterSeq: 1 },
          { conversationId: c2.id, afterSeq: 1 },
        ],
        limit: 2,
      });
      expect(result.conversations[0]).toMatchObject({ conversationId: c1.id, hasMore: true });
      expect(result.conversations[0]!.messages.map((m) => m.seq)).toEqual([2, 3]);
      expect(result.conversations[1]).toMatchObject({ messages: [], hasMore: false });
    });

    it('refuses to sync a conversation the user is not in', async () => {
      const c = await direct();
      await expect(
        chat.sync(mallory, { conversations: [{ conversationId: c.id, afterSeq: 0 }] }),
      ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    });
  });

  describe('read state', () => {
    it('moves forward only, tells the others, and refuses a seq beyond the last message', async () => {
      const c = await direct();
      for (let i = 1; i <= 3; i++)
        await chat.send(alice, { conversationId: c.id, clientMessageId: `m${i}`, body: 'x' });
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
      const reads = bus.sent.filter((e) => e.event === 'conversation:read');
      expect(reads).toEqual([
        {
          users: ['alice', 'bob'],
          except: 'bob-phone',
          event: 'conversation:read',
          payload: { conversationId: c.id, userId: 'bob', lastReadSeq: 2 },
        },
      ]);
    });
  });

  it('only reveals contacts among the users asked about', async () => {
    await direct();
    expect(await chat.contactsAmong('alice', ['bob', 'mallory', 'alice'])).toEqual([
      'bob',
      'alice',
    ]);
  });
});
