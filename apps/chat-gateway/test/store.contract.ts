import { DuplicateKeyError, type ChatStore, type Member } from '@jobsphere/chat-domain';

/**
 * One behavioural contract for every ChatStore implementation: the in-memory default
 * and MongoDB both run it, so they cannot drift apart.
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<ChatStore>,
  close: (store: ChatStore) => Promise<void>,
) {
  describe(`${name} store contract`, () => {
    let store: ChatStore;
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
    const members = (...ids: string[]): Member[] =>
      ids.map((userId, i) => ({ userId, role: i === 0 ? 'owner' : 'member', joinedAt: at(0) }));

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await close(store);
    });

    it('creates conversations and finds them by id; unknown or malformed ids find nothing', async () => {
      const { conversation, created } = await store.conversations.create({
        kind: 'group',
        title: 'Panel',
        jobId: 'job-9',
        members: members('r1', 'c1', 'c2'),
        createdBy: 'r1',
        createdAt: at(1),
      });
      expect(created).toBe(true);
      const found = await store.conversations.findById(conversation.id);
      expect(found).toEqual(conversation);
      expect(found).toMatchObject({
        kind: 'group',
        title: 'Panel',
        jobId: 'job-9',
        lastSeq: 0,
        lastActivityAt: at(1),
      });
      expect(found?.members.map((m) => m.userId)).toEqual(['r1', 'c1', 'c2']);
      expect(await store.conversations.findById('000000000000000000000000')).toBeNull();
      expect(await store.conversations.findById('not-an-id')).toBeNull();
      expect(await store.conversations.findByIds([conversation.id, 'not-an-id'])).toEqual([
        conversation,
      ]);
    });

    it('returns the existing direct conversation for the same key, also under concurrency', async () => {
      const input = {
        kind: 'direct' as const,
        members: members('d1', 'd2'),
        createdBy: 'd1',
        createdAt: at(2),
        directKey: 'direct:d1:d2::',
      };
      const results = await Promise.all([
        store.conversations.create(input),
        store.conversations.create(input),
        store.conversations.create(input),
      ]);
      expect(new Set(results.map((r) => r.conversation.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
    });

    it('allocates strictly increasing sequence numbers, also concurrently', async () => {
      const { conversation } = await store.conversations.create({
        kind: 'direct',
        members: members('s1', 's2'),
        createdBy: 's1',
        createdAt: at(3),
        directKey: 'direct:s1:s2::',
      });
      const seqs = await Promise.all(
        Array.from({ length: 30 }, () => store.conversations.allocateSeq(conversation.id)),
      );
      expect(new Set(seqs).size).toBe(30);
      expect(Math.max(...seqs)).toBe(30);
    });

    it('stores messages, refuses a repeated clientMessageId or seq, and finds by clientMessageId', async () => {
      const base = { conversationId: 'conv-m', senderId: 'u1', body: 'hi', createdAt: at(10) };
      const stored = await store.messages.insert({ ...base, seq: 1, clientMessageId: 'k1' });
      expect(stored).toMatchObject({ ...base, seq: 1, clientMessageId: 'k1' });
      expect(stored.id).toMatch(/^[0-9a-f]{24}$/);
      await expect(
        store.messages.insert({ ...base, seq: 2, clientMessageId: 'k1' }),
      ).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(
        store.messages.insert({ ...base, seq: 1, clientMessageId: 'k2', senderId: 'u2' }),
      ).rejects.toBeInstanceOf(DuplicateKeyError);
      // Another sender may reuse the same client id.
      await expect(
        store.messages.insert({ ...base, seq: 3, clientMessageId: 'k1', senderId: 'u2' }),
      ).resolves.toMatchObject({ seq: 3 });
      expect(await store.messages.findByClientMessageId('conv-m', 'u1', 'k1')).toEqual(stored);
      expect(await store.messages.findByClientMessageId('conv-m', 'u1', 'nope')).toBeNull();
    });

    it('lists history before and after a seq in ascending order, across more than one driver batch', async () => {
      const conversationId = 'conv-h';
      for (let seq = 1; seq <= 150; seq++) {
        await store.messages.insert({
          conversationId,
          seq,
          senderId: 'u',
          clientMessageId: `h${seq}`,
          body: `#${seq}`,
          createdAt: at(seq),
        });
      }
      expect((await store.messages.list(conversationId, { limit: 3 })).map((m) => m.seq)).toEqual([
        148, 149, 150,
      ]);
      expect(
        (await store.messages.list(conversationId, { before: 10, limit: 3 })).map((m) => m.seq),
      ).toEqual([7, 8, 9]);
      expect(
        (await store.messages.list(conversationId, { after: 147, limit: 10 })).map((m) => m.seq),
      ).toEqual([148, 149, 150]);
      const all = await store.messages.list(conversationId, { after: 0, limit: 150 });
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
      expect(all[0]!.createdAt).toEqual(at(1));
    });

    it('keeps the newest last message: an older one never overwrites it', async () => {
      const { conversation } = await store.conversations.create({
        kind: 'direct',
        members: members('l1', 'l2'),
        createdBy: 'l1',
        createdAt: at(4),
        directKey: 'direct:l1:l2::',
      });
      const preview = (seq: number) => ({
        id: `${seq}`.padStart(24, '0'),
        seq,
        senderId: 'l1',
        body: `#${seq}`,
        createdAt: at(100 + seq),
      });
      await store.conversations.recordLastMessage(conversation.id, preview(2));
      await store.conversations.recordLastMessage(conversation.id, preview(1));
      const found = await store.conversations.findById(conversation.id);
      expect(found?.lastMessage).toEqual(preview(2));
      expect(found?.lastActivityAt).toEqual(at(102));
    });

    it('lists a user\u2019s conversations by latest activity, paging with an opaque cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { conversation } = await store.conversations.create({
          kind: 'direct',
          members: members('pager', `p${i}`),
          createdBy: 'pager',
          createdAt: at(1000 + i),
          directKey: `direct:pager:p${i}::`,
        });
        ids.push(conversation.id);
      }
      await store.conversations.recordLastMessage(ids[0]!, {
        id: 'a'.repeat(24),
        seq: 1,
        senderId: 'p0',
        body: 'bump',
        createdAt: at(5000),
      });
      const first = await store.conversations.listForUser('pager', { limit: 2 });
      expect(first.conversations.map((c) => c.id)).toEqual([ids[0], ids[4]]);
      const second = await store.conversations.listForUser('pager', {
        limit: 2,
        cursor: first.nextCursor!,
      });
      expect(second.conversations.map((c) => c.id)).toEqual([ids[3], ids[2]]);
      const third = await store.conversations.listForUser('pager', {
        limit: 2,
        cursor: second.nextCursor!,
      });
      expect(third.conversations.map((c) => c.id)).toEqual([ids[1]]);
      expect(third.nextCursor).toBeUndefined();
      expect(
        (await store.conversations.listForUser('stranger', { limit: 10 })).conversations,
      ).toEqual([]);
    });

    it('moves read positions forward only, per user and conversation', async () => {
      expect(await store.readStates.advance('conv-r', 'u1', 5)).toBe(5);
      expect(await store.readStates.advance('conv-r', 'u1', 3)).toBe(5);
      expect(await store.readStates.advance('conv-r', 'u1', 7)).toBe(7);
      await Promise.all([
        store.readStates.advance('conv-r', 'u2', 2),
        store.readStates.advance('conv-r', 'u2', 4),
      ]);
      const positions = await store.readStates.forUser('u1', ['conv-r', 'conv-other']);
      expect(Object.fromEntries(positions)).toEqual({ 'conv-r': 7, 'conv-other': 0 });
      expect((await store.readStates.forUser('u2', ['conv-r'])).get('conv-r')).toBe(4);
      const everyone = await store.readStates.forConversations(['conv-r', 'conv-none']);
      expect(everyone.sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
        { conversationId: 'conv-r', userId: 'u1', lastReadSeq: 7 },
        { conversationId: 'conv-r', userId: 'u2', lastReadSeq: 4 },
      ]);
      expect(await store.readStates.forConversations([])).toEqual([]);
    });

    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
