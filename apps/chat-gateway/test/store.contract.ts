import { NotMemberError, type ChatStore, type MessageDraft } from '@jobsphere/chat-domain';

/**
 * One behavioural contract for every ChatStore implementation: the in-memory default and
 * MongoDB both run it, so they cannot drift apart. It proves the rules the port states,
 * `append` above all (membership, idempotency, ordering, no gaps from retries).
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<ChatStore>,
  close: (store: ChatStore) => Promise<void>,
  /** Makes the next first attempt of a send to this conversation fail after its position was taken. */
  breakNextInsert?: (store: ChatStore, conversationId: string) => Promise<() => Promise<void>>,
) {
  describe(`${name} store contract`, () => {
    let store: ChatStore;
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
    const members = (...ids: string[]) =>
      ids.map((userId, i) => ({
        userId,
        role: i === 0 ? ('owner' as const) : ('member' as const),
        joinedAt: at(0),
      }));
    let unique = 0;
    const direct = async (a: string, b: string, createdAt = at(1)) =>
      (
        await store.conversations.create({
          kind: 'direct',
          members: members(a, b),
          createdBy: a,
          createdAt,
          directKey: `direct:${a}:${b}:${++unique}`,
        })
      ).conversation;
    const draft = (
      conversationId: string,
      senderId: string,
      key: string,
      ms = 10,
    ): MessageDraft => ({
      conversationId,
      senderId,
      clientMessageId: key,
      body: `body of ${key}`,
      createdAt: at(ms),
    });

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
      expect(conversation).toMatchObject({
        kind: 'group',
        title: 'Panel',
        jobId: 'job-9',
        version: 0,
        lastActivityAt: at(1),
      });
      expect(conversation.lastMessage).toBeUndefined();
      expect(conversation.members.map((m) => [m.userId, m.lastReadSeq])).toEqual([
        ['r1', 0],
        ['c1', 0],
        ['c2', 0],
      ]);
      expect(await store.conversations.get(conversation.id)).toEqual(conversation);
      expect(await store.conversations.get('000000000000000000000000')).toBeNull();
      expect(await store.conversations.get('not-an-id')).toBeNull();
      expect(
        await store.conversations.getMany([conversation.id, 'not-an-id', conversation.id]),
      ).toEqual([conversation]);
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

    it('appends: seq and version 1, the preview, the activity time and the sender\u2019s read position', async () => {
      const c = await direct('a1', 'b1');
      const result = await store.messages.append(draft(c.id, 'a1', 'k1', 50));
      expect(result.duplicate).toBe(false);
      expect(result.memberIds.sort()).toEqual(['a1', 'b1']);
      expect(result.message).toMatchObject({
        conversationId: c.id,
        seq: 1,
        version: 1,
        senderId: 'a1',
        clientMessageId: 'k1',
        body: 'body of k1',
        createdAt: at(50),
      });
      expect(result.message.id).toMatch(/^[0-9a-f]{24}$/);
      const after = await store.conversations.get(c.id);
      expect(after).toMatchObject({ version: 1, lastActivityAt: at(50) });
      expect(after?.lastMessage).toEqual({
        id: result.message.id,
        seq: 1,
        senderId: 'a1',
        body: 'body of k1',
        createdAt: at(50),
      });
      expect(after?.members.find((m) => m.userId === 'a1')?.lastReadSeq).toBe(1);
      expect(after?.members.find((m) => m.userId === 'b1')?.lastReadSeq).toBe(0);
    });

    it('cuts the preview, not the stored body', async () => {
      const c = await direct('a9', 'b9');
      const body = 'x'.repeat(4000);
      const { message } = await store.messages.append({ ...draft(c.id, 'a9', 'long'), body });
      expect(message.body).toBe(body);
      expect((await store.conversations.get(c.id))?.lastMessage?.body).toHaveLength(280);
    });

    it('refuses a non-member and an unknown conversation, changing nothing', async () => {
      const c = await direct('a2', 'b2');
      await expect(store.messages.append(draft(c.id, 'mallory', 'x'))).rejects.toBeInstanceOf(
        NotMemberError,
      );
      await expect(
        store.messages.append(draft('000000000000000000000000', 'a2', 'x')),
      ).rejects.toBeInstanceOf(NotMemberError);
      await expect(store.messages.append(draft('not-an-id', 'a2', 'x'))).rejects.toBeInstanceOf(
        NotMemberError,
      );
      expect(await store.conversations.get(c.id)).toEqual(c);
      expect(await store.messages.page(c.id, { limit: 10 })).toEqual([]);
    });

    it('is idempotent per sender and clientMessageId: a repeat changes nothing, another sender may reuse the id', async () => {
      const c = await direct('a3', 'b3');
      const first = await store.messages.append(draft(c.id, 'a3', 'same', 1));
      const again = await store.messages.append({
        ...draft(c.id, 'a3', 'same', 2),
        body: 'edited?',
      });
      expect(again).toEqual({ ...first, duplicate: true });
      const state = await store.conversations.get(c.id);
      expect(state?.version).toBe(1);
      const other = await store.messages.append(draft(c.id, 'b3', 'same', 3));
      expect(other).toMatchObject({ duplicate: false, message: { seq: 2, version: 2 } });
    });

    it('stores one message for concurrent attempts with the same clientMessageId', async () => {
      const c = await direct('a4', 'b4');
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.messages.append(draft(c.id, 'a4', 'racing'))),
      );
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await store.messages.page(c.id, { limit: 10 })).toHaveLength(1);
    });

    it('gives concurrent appends distinct, gap-free positions and keeps the newest as the preview', async () => {
      const c = await direct('a5', 'b5');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.messages.append(draft(c.id, i % 2 ? 'a5' : 'b5', `c${i}`, 100 + i)),
        ),
      );
      const seqs = results.map((r) => r.message.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const versions = results.map((r) => r.message.version).sort((x, y) => x - y);
      expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const state = await store.conversations.get(c.id);
      expect(state?.version).toBe(20);
      expect(state?.lastMessage?.seq).toBe(20);
      const newest = results.find((r) => r.message.seq === 20)!.message;
      expect(state?.lastMessage?.id).toBe(newest.id);
    });

    if (breakNextInsert) {
      it('a retry after a failed attempt reuses the position it was given: no gap', async () => {
        const c = await direct('a6', 'b6');
        await store.messages.append(draft(c.id, 'a6', 'one'));
        const repair = await breakNextInsert(store, c.id);
        await expect(store.messages.append(draft(c.id, 'a6', 'two'))).rejects.toThrow();
        await repair();
        const retried = await store.messages.append(draft(c.id, 'a6', 'two'));
        expect(retried).toMatchObject({ duplicate: false, message: { seq: 2, version: 2 } });
        const next = await store.messages.append(draft(c.id, 'b6', 'three'));
        expect(next.message).toMatchObject({ seq: 3, version: 3 });
        expect((await store.messages.page(c.id, { limit: 10 })).map((m) => m.seq)).toEqual([
          1, 2, 3,
        ]);
      });
    }

    it('pages history before and after a seq in ascending order, across more than one driver batch', async () => {
      const c = await direct('h1', 'h2');
      for (let i = 1; i <= 150; i++) await store.messages.append(draft(c.id, 'h1', `h${i}`, i));
      const seqs = async (query: { before?: number; after?: number; limit: number }) =>
        (await store.messages.page(c.id, query)).map((m) => m.seq);
      expect(await seqs({ limit: 3 })).toEqual([148, 149, 150]);
      expect(await seqs({ before: 10, limit: 3 })).toEqual([7, 8, 9]);
      expect(await seqs({ after: 147, limit: 10 })).toEqual([148, 149, 150]);
      const all = await store.messages.page(c.id, { after: 0, limit: 150 });
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
      expect(all[0]!.createdAt).toEqual(at(1));
    });

    it('returns changes after a version, ascending, bounded, with hasMore', async () => {
      const c = await direct('v1', 'v2');
      for (let i = 1; i <= 7; i++) await store.messages.append(draft(c.id, 'v1', `v${i}`, i));
      const first = await store.messages.changesSince(c.id, 0, 3);
      expect(first.messages.map((m) => m.version)).toEqual([1, 2, 3]);
      expect(first.hasMore).toBe(true);
      const rest = await store.messages.changesSince(c.id, 3, 10);
      expect(rest.messages.map((m) => m.version)).toEqual([4, 5, 6, 7]);
      expect(rest.hasMore).toBe(false);
      expect(await store.messages.changesSince(c.id, 7, 10)).toEqual({
        messages: [],
        hasMore: false,
      });
    });

    it('lists a member\u2019s conversations by latest activity, paging with an opaque cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await direct('pager', `p${i}`, at(1000 + i))).id);
      await store.messages.append(draft(ids[0]!, 'p0', 'bump', 5000));
      const first = await store.conversations.listForMember('pager', { limit: 2 });
      expect(first.conversations.map((c) => c.id)).toEqual([ids[0], ids[4]]);
      const second = await store.conversations.listForMember('pager', {
        limit: 2,
        cursor: first.nextCursor!,
      });
      expect(second.conversations.map((c) => c.id)).toEqual([ids[3], ids[2]]);
      const third = await store.conversations.listForMember('pager', {
        limit: 2,
        cursor: second.nextCursor!,
      });
      expect(third.conversations.map((c) => c.id)).toEqual([ids[1]]);
      expect(third.nextCursor).toBeUndefined();
      expect(
        (await store.conversations.listForMember('stranger', { limit: 10 })).conversations,
      ).toEqual([]);
    });

    it('moves read positions forward only, for members only, also concurrently', async () => {
      const c = await direct('r1', 'r2');
      expect(await store.conversations.advanceRead(c.id, 'r1', 5)).toBe(5);
      expect(await store.conversations.advanceRead(c.id, 'r1', 3)).toBe(5);
      expect(await store.conversations.advanceRead(c.id, 'r1', 7)).toBe(7);
      await Promise.all([
        store.conversations.advanceRead(c.id, 'r2', 2),
        store.conversations.advanceRead(c.id, 'r2', 4),
      ]);
      expect(await store.conversations.advanceRead(c.id, 'mallory', 9)).toBeNull();
      expect(await store.conversations.advanceRead('not-an-id', 'r1', 9)).toBeNull();
      const state = await store.conversations.get(c.id);
      expect(Object.fromEntries(state!.members.map((m) => [m.userId, m.lastReadSeq]))).toEqual({
        r1: 7,
        r2: 4,
      });
    });

    it('keeps read positions apart for user ids that differ only by dots', async () => {
      const c = await direct('ana.m', 'anam');
      await store.conversations.advanceRead(c.id, 'ana.m', 3);
      const state = await store.conversations.get(c.id);
      expect(state!.members.map((m) => [m.userId, m.lastReadSeq])).toEqual([
        ['ana.m', 3],
        ['anam', 0],
      ]);
    });

    it('sums unread over the most recent conversations and says when it stopped counting', async () => {
      const reader = 'unread-reader';
      const convs = [];
      for (let i = 0; i < 3; i++) convs.push(await direct(reader, `writer${i}`, at(2000 + i)));
      for (const [i, c] of convs.entries()) {
        for (let n = 0; n <= i; n++)
          await store.messages.append(draft(c.id, `writer${i}`, `u${n}`, 3000 + i));
      }
      // 1 + 2 + 3 unread; reading two of the newest conversation's three leaves 4.
      await store.conversations.advanceRead(convs[2]!.id, reader, 2);
      expect(await store.conversations.unreadSummary(reader, 10)).toEqual({
        total: 4,
        capped: false,
      });
      // The two most recent: conversation 2 (1 left) and 1 (2).
      expect(await store.conversations.unreadSummary(reader, 2)).toEqual({
        total: 3,
        capped: true,
      });
      expect(await store.conversations.unreadSummary('nobody', 10)).toEqual({
        total: 0,
        capped: false,
      });
    });

    it('makes members contacts of each other: found among candidates, and as an audience, newest first', async () => {
      await direct('hub', 'old-friend', at(10));
      await store.conversations.create({
        kind: 'group',
        title: 'Team',
        members: members('hub', 'g1', 'g2'),
        createdBy: 'hub',
        createdAt: at(20),
      });
      expect(
        (await store.contacts.among('hub', ['g1', 'old-friend', 'stranger', 'hub'])).sort(),
      ).toEqual(['g1', 'old-friend']);
      expect(await store.contacts.among('g1', ['g2', 'old-friend'])).toEqual(['g2']);
      expect(await store.contacts.among('hub', [])).toEqual([]);
      const audience = await store.contacts.audience('hub', 10);
      expect(audience.slice(0, 2).sort()).toEqual(['g1', 'g2']);
      expect(audience.at(-1)).toBe('old-friend');
      expect(await store.contacts.audience('hub', 1)).toHaveLength(1);
      expect(await store.contacts.audience('stranger', 10)).toEqual([]);
    });

    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
