import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import {
  BlockedError,
  InvitationPendingError,
  NotMemberError,
  RequestDeclinedError,
  RequestPendingError,
  directKey,
  type ChatStore,
  type ConversationBox,
  type MessageDraft,
} from '../index.js';
import { caseRegistrar, type ContractOptions } from './contract-options.js';
import { registerSearchCases } from './search-cases.js';
import { CASE_ALLOWANCE, describeCase, SEND_CASES } from './send-cases.js';

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
  options: ContractOptions = {},
) {
  const test = caseRegistrar(options);
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

    test('names one sync epoch: the same to every caller, also when first asked concurrently', async () => {
      const epochs = await Promise.all([store.epoch(), store.epoch(), store.epoch()]);
      expect(epochs[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(new Set(epochs).size).toBe(1);
      expect(await store.epoch()).toBe(epochs[0]);
    });

    test('creates conversations and finds them by id; unknown or malformed ids find nothing', async () => {
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

    test('appends: seq and version 1, the preview, the activity time and the sender\u2019s read position', async () => {
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

    test('cuts the preview, not the stored body', async () => {
      const c = await direct('a9', 'b9');
      const body = 'x'.repeat(4000);
      const { message } = await store.messages.append({ ...draft(c.id, 'a9', 'long'), body });
      expect(message.body).toBe(body);
      expect((await store.conversations.get(c.id))?.lastMessage?.body).toHaveLength(280);
    });

    test('refuses a non-member and an unknown conversation, changing nothing', async () => {
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

    test('is idempotent per sender and clientMessageId: a repeat changes nothing, another sender may reuse the id', async () => {
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
      // Found again by the key, per sender: what a retry that cannot rebuild its text answers.
      expect(await store.messages.sent(c.id, 'a3', 'same')).toEqual(first.message);
      expect(await store.messages.sent(c.id, 'b3', 'same')).toEqual(other.message);
      expect(await store.messages.sent(c.id, 'a3', 'other')).toBeNull();
      expect(await store.messages.sent('000000000000000000000000', 'a3', 'same')).toBeNull();
    });

    test('stores one message for concurrent attempts with the same clientMessageId', async () => {
      const c = await direct('a4', 'b4');
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.messages.append(draft(c.id, 'a4', 'racing'))),
      );
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await store.messages.page(c.id, { limit: 10 })).toHaveLength(1);
    });

    test('gives concurrent appends distinct, gap-free positions and keeps the newest as the preview', async () => {
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
      test('a retry after a failed attempt keeps its position when an edit took a version meanwhile', async () => {
        const c = await direct('a7', 'b7');
        const first = await store.messages.append(draft(c.id, 'a7', 'one'));
        const repair = await breakNextInsert(store, c.id);
        await expect(store.messages.append(draft(c.id, 'a7', 'two'))).rejects.toThrow();
        await repair();
        const edited = await store.messages.revise(c.id, first.message.id, {
          kind: 'edit',
          body: 'one, corrected',
          at: at(20),
        });
        expect(edited).toMatchObject({ version: 3, body: 'one, corrected' });
        const retried = await store.messages.append(draft(c.id, 'a7', 'two'));
        expect(retried).toMatchObject({ duplicate: false, message: { seq: 2, version: 2 } });
        const next = await store.messages.append(draft(c.id, 'b7', 'three'));
        expect(next.message).toMatchObject({ seq: 3, version: 4 });
        const changes = await store.messages.changesSince(c.id, 0, 10);
        expect(changes.messages.map((m) => [m.seq, m.version])).toEqual([
          [2, 2],
          [1, 3],
          [3, 4],
        ]);
      });

      test('a retry after a failed attempt reuses the position it was given: no gap', async () => {
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

    test('pages history before and after a seq in ascending order, across more than one driver batch', async () => {
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

    test('returns changes after a version, ascending, bounded, with hasMore', async () => {
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

    test('lists a member\u2019s conversations by latest activity, paging with an opaque cursor', async () => {
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

    test('moves read positions forward only, for members only, also concurrently', async () => {
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

    test('moves delivered positions forward only, apart from read ones, for members only', async () => {
      const c = await direct('d1', 'd2');
      expect(await store.conversations.advanceDelivered(c.id, 'd2', 4)).toBe(4);
      expect(await store.conversations.advanceDelivered(c.id, 'd2', 2)).toBe(4);
      await Promise.all([
        store.conversations.advanceDelivered(c.id, 'd1', 6),
        store.conversations.advanceDelivered(c.id, 'd1', 3),
      ]);
      await store.conversations.advanceRead(c.id, 'd2', 1);
      expect(await store.conversations.advanceDelivered(c.id, 'mallory', 9)).toBeNull();
      expect(await store.conversations.advanceDelivered('not-an-id', 'd1', 9)).toBeNull();
      const state = await store.conversations.get(c.id);
      expect(state!.members.map((m) => [m.userId, m.lastReadSeq, m.lastDeliveredSeq ?? 0])).toEqual(
        [
          ['d1', 0, 6],
          ['d2', 1, 4],
        ],
      );
      // A list page carries them too (what the conversation list shows).
      const listed = (await store.conversations.listForMember('d1', { limit: 5 })).conversations;
      expect(listed.find((x) => x.id === c.id)!.members.map((m) => m.lastDeliveredSeq)).toEqual([
        6, 4,
      ]);
    });

    test("keeps each member's own organisation apart, changes only what is named, members only", async () => {
      const c = await direct('o.1', 'o1');
      const after = await store.conversations.organise(c.id, 'o.1', {
        muted: true,
        pinnedAt: at(5),
        markedUnread: true,
      });
      expect(after!.members.map((m) => [m.userId, m.organisation ?? {}])).toEqual([
        ['o.1', { muted: true, pinnedAt: at(5), markedUnread: true }],
        ['o1', {}],
      ]);
      await store.conversations.organise(c.id, 'o.1', { pinnedAt: null, archivedSeq: 0 });
      const state = await store.conversations.get(c.id);
      expect(state!.members[0]!.organisation).toEqual({
        muted: true,
        archivedSeq: 0,
        markedUnread: true,
      });
      expect(await store.conversations.organise(c.id, 'mallory', { muted: true })).toBeNull();
      expect(await store.conversations.organise('not-an-id', 'o.1', { muted: true })).toBeNull();
      // A list page carries it too.
      const listed = await store.conversations.listForMember('o.1', { limit: 5, box: 'archived' });
      expect(listed.conversations.map((x) => x.members[0]!.organisation?.muted)).toEqual([true]);
    });

    test('lists pinned and archived apart from the inbox; an archive ends with a newer message unless muted', async () => {
      const pinned = await direct('org', 'org-peer-1', at(1));
      const archived = await direct('org', 'org-peer-2', at(2));
      const mutedArchived = await direct('org', 'org-peer-3', at(3));
      const plain = await direct('org', 'org-peer-4', at(4));
      await store.messages.append(draft(archived.id, 'org-peer-2', 'a1', 20));
      await store.messages.append(draft(mutedArchived.id, 'org-peer-3', 'm1', 21));
      await store.conversations.organise(pinned.id, 'org', { pinnedAt: at(9) });
      await store.conversations.organise(archived.id, 'org', { archivedSeq: 1 });
      await store.conversations.organise(mutedArchived.id, 'org', { archivedSeq: 1, muted: true });
      const ids = async (box: ConversationBox) =>
        (await store.conversations.listForMember('org', { limit: 10, box })).conversations.map(
          (x) => x.id,
        );
      expect(await ids('inbox')).toEqual([plain.id]);
      expect(await ids('pinned')).toEqual([pinned.id]);
      expect(await ids('archived')).toEqual([mutedArchived.id, archived.id]);
      expect(await store.conversations.countPinned('org', 10)).toBe(1);
      // Nobody else's lists change.
      const theirs = await store.conversations.listForMember('org-peer-1', { limit: 5 });
      expect(theirs.conversations.map((x) => x.id)).toEqual([pinned.id]);
      await store.messages.append(draft(archived.id, 'org-peer-2', 'a2', 30));
      await store.messages.append(draft(mutedArchived.id, 'org-peer-3', 'm2', 31));
      expect(await ids('inbox')).toEqual([archived.id, plain.id]);
      expect(await ids('archived')).toEqual([mutedArchived.id]);
    });

    test('leaves muted conversations out of the unread total and counts one marked unread as at least 1', async () => {
      const loud = await direct('u.org', 'q1', at(1));
      const quiet = await direct('u.org', 'q2', at(2));
      const marked = await direct('u.org', 'q3', at(3));
      for (const [c, other] of [
        [loud, 'q1'],
        [quiet, 'q2'],
      ] as const) {
        await store.messages.append(draft(c.id, other, `${other}-1`, 20));
        await store.messages.append(draft(c.id, other, `${other}-2`, 21));
      }
      expect((await store.conversations.unreadSummary('u.org', 10)).total).toBe(4);
      await store.conversations.organise(quiet.id, 'u.org', { muted: true });
      await store.conversations.organise(marked.id, 'u.org', { markedUnread: true });
      expect(await store.conversations.unreadSummary('u.org', 10)).toEqual({
        total: 3,
        capped: false,
      });
      // The other member's total is theirs alone.
      expect((await store.conversations.unreadSummary('q2', 10)).total).toBe(0);
    });

    test('counts pinned conversations up to one past the limit asked', async () => {
      for (let i = 0; i < 4; i++) {
        const c = await direct('pin.many', `pm${i}`, at(i + 1));
        await store.conversations.organise(c.id, 'pin.many', { pinnedAt: at(10 + i) });
      }
      expect(await store.conversations.countPinned('pin.many', 10)).toBe(4);
      expect(await store.conversations.countPinned('pin.many', 2)).toBe(3);
      expect(await store.conversations.countPinned('pinmany', 10)).toBe(0);
    });

    test("keeps each person's receipt setting, off and on again, and answers only for those asked", async () => {
      expect(await store.preferences.hidingReceipts(['p1', 'p2'])).toEqual([]);
      expect(await store.preferences.setReceipts('p1', false, at(1))).toBe(true);
      expect(await store.preferences.setReceipts('p1', false, at(2))).toBe(false);
      expect(await store.preferences.setReceipts('p2.x', false, at(3))).toBe(true);
      expect((await store.preferences.hidingReceipts(['p1', 'p2', 'p2x', 'p2.x'])).sort()).toEqual([
        'p1',
        'p2.x',
      ]);
      expect(await store.preferences.setReceipts('p1', true, at(4))).toBe(true);
      expect(await store.preferences.setReceipts('p3', true, at(5))).toBe(false);
      expect(await store.preferences.hidingReceipts(['p1', 'p3'])).toEqual([]);
      expect(await store.preferences.hidingReceipts([])).toEqual([]);
    });

    test('keeps read positions apart for user ids that differ only by dots', async () => {
      const c = await direct('ana.m', 'anam');
      await store.conversations.advanceRead(c.id, 'ana.m', 3);
      const state = await store.conversations.get(c.id);
      expect(state!.members.map((m) => [m.userId, m.lastReadSeq])).toEqual([
        ['ana.m', 3],
        ['anam', 0],
      ]);
    });

    test('sums unread over the most recent conversations and says when it stopped counting', async () => {
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

    test('makes members contacts of each other: found among candidates, and as an audience, newest first', async () => {
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

    // Direct conversations as the domain keys them (the store finds a pair's by that key).
    const pair = async (
      a: string,
      b: string,
      options: { jobId?: string; allowance?: number } = {},
    ) =>
      (
        await store.conversations.create({
          kind: 'direct',
          ...(options.jobId && { jobId: options.jobId }),
          members: members(a, b),
          createdBy: a,
          createdAt: at(1),
          directKey: directKey(a, b, options.jobId ? { jobId: options.jobId } : {}),
          ...(options.allowance !== undefined && {
            request: { from: a, to: b },
            requestAllowance: options.allowance,
          }),
        })
      ).conversation;
    const ids = (list: { id: string }[]) => list.map((c) => c.id);

    // The send decision's table, row by row: each store must admit and refuse exactly what
    // `decideSend` does, in states reached through the ports (a store may compile the rule).
    const refusals = {
      'not-member': NotMemberError,
      blocked: BlockedError,
      'request-declined': RequestDeclinedError,
      'request-pending': RequestPendingError,
    } as const;
    SEND_CASES.forEach((row, i) =>
      test(`send decision row: ${describeCase(row)}`, async () => {
        const [opener, recipient, stranger] = ['opener', 'recipient', 'stranger'].map(
          (who) => `row${i}-${who}`,
        ) as [string, string, string];
        const c =
          row.conversation === 'group'
            ? (
                await store.conversations.create({
                  kind: 'group',
                  title: `row ${i}`,
                  members: members(opener, recipient),
                  createdBy: opener,
                  createdAt: at(1),
                })
              ).conversation
            : await pair(opener, recipient, {
                ...(row.request !== 'none' && { allowance: CASE_ALLOWANCE }),
              });
        if (row.request === 'spent')
          for (let n = 0; n < CASE_ALLOWANCE; n++)
            await store.messages.append(draft(c.id, opener, `spend-${n}`));
        if (row.request === 'declined' || row.request === 'accepted')
          await store.conversations.answerRequest(
            c.id,
            recipient,
            row.request === 'declined' ? 'decline' : 'accept',
          );
        if (row.blocked) await store.conversations.setBlocked(opener, recipient, true);
        const before = await store.conversations.get(c.id);
        const sender = { opener, recipient, stranger }[row.sender];
        const attempt = {
          ...draft(c.id, row.kind === 'system' ? 'platform' : sender, 'the-case', 50),
          kind: row.kind,
        };

        if (row.expect in refusals) {
          const refused = store.messages.append(attempt);
          await expect(refused).rejects.toThrow(refusals[row.expect as keyof typeof refusals]);
          if (row.expect === 'request-pending')
            await expect(refused).rejects.toThrow(`allows ${CASE_ALLOWANCE} messages`);
          // A refusal changes nothing.
          expect(await store.conversations.get(c.id)).toEqual(before);
          return;
        }
        const sent = await store.messages.append(attempt);
        expect(sent.duplicate).toBe(false);
        expect(sent.message.seq).toBe((before?.lastMessage?.seq ?? 0) + 1);
        expect(sent.acceptedRequest === true).toBe(row.expect === 'accepts-request');
        const after = await store.conversations.get(c.id);
        if (row.expect === 'accepts-request') {
          expect(after?.request).toBeUndefined();
          expect(await store.contacts.accepted(opener, recipient)).toBe(true);
        } else {
          // The request as shown stays (what is left of the allowance may move).
          const shown = (r: typeof before) =>
            r?.request && { from: r.request.from, to: r.request.to, state: r.request.state };
          expect(shown(after)).toEqual(shown(before));
        }
        if (row.expect === 'spends-allowance') {
          for (let n = 1; n < CASE_ALLOWANCE; n++)
            await store.messages.append(draft(c.id, opener, `more-${n}`, 51));
          await expect(
            store.messages.append(draft(c.id, opener, 'one-too-many', 52)),
          ).rejects.toThrow(RequestPendingError);
        }
      }),
    );

    test('a request: the recipient sees it apart, the opener sends up to the allowance, nothing more is stored', async () => {
      const c = await pair('opener1', 'target1', { allowance: 2 });
      expect(c.request).toEqual({ from: 'opener1', to: 'target1', state: 'pending', remaining: 2 });
      expect(c.blocked).toBe(false);
      expect(await store.contacts.accepted('opener1', 'target1')).toBe(false);
      expect(await store.contacts.among('target1', ['opener1'])).toEqual([]);
      const box = async (userId: string, which: 'inbox' | 'requests') =>
        ids(
          (await store.conversations.listForMember(userId, { limit: 10, box: which }))
            .conversations,
        );
      expect(await box('target1', 'inbox')).toEqual([]);
      expect(await box('target1', 'requests')).toEqual([c.id]);
      expect(await box('opener1', 'inbox')).toEqual([c.id]);
      expect(await box('opener1', 'requests')).toEqual([]);

      await store.messages.append(draft(c.id, 'opener1', 'r1', 10));
      await store.messages.append(draft(c.id, 'opener1', 'r2', 11));
      await expect(store.messages.append(draft(c.id, 'opener1', 'r3', 12))).rejects.toThrow(
        RequestPendingError,
      );
      // A retry of a stored one is still the stored one.
      expect((await store.messages.append(draft(c.id, 'opener1', 'r2', 11))).duplicate).toBe(true);
      const after = await store.conversations.get(c.id);
      expect(after?.version).toBe(2);
      expect(
        (await store.messages.page(c.id, { limit: 10 })).map((m) => m.clientMessageId),
      ).toEqual(['r1', 'r2']);
      // Unread counts leave out requests received; the list shows them in their own box.
      expect(await store.conversations.unreadSummary('target1', 10)).toEqual({
        total: 0,
        capped: false,
      });

      // The recipient's reply accepts: an ordinary conversation between contacts.
      const reply = await store.messages.append(draft(c.id, 'target1', 'yes', 13));
      expect(reply.acceptedRequest).toBe(true);
      expect((await store.conversations.get(c.id))?.request).toBeUndefined();
      expect(await store.contacts.accepted('opener1', 'target1')).toBe(true);
      expect(await store.contacts.accepted('target1', 'opener1')).toBe(true);
      expect(await box('target1', 'inbox')).toEqual([c.id]);
      const more = await store.messages.append(draft(c.id, 'opener1', 'r3', 14));
      expect(more.acceptedRequest).toBeUndefined();
      expect(more.message.seq).toBe(4);
    });

    test('a declined request: the opener can send no more; only the recipient answers, and may still accept', async () => {
      const c = await pair('opener2', 'target2', { allowance: 3 });
      await store.messages.append(draft(c.id, 'opener2', 'd1'));
      expect((await store.conversations.requestBetween('opener2', 'target2'))?.id).toBe(c.id);
      expect(await store.conversations.requestBetween('target2', 'opener2')).toBeNull();
      expect(await store.conversations.answerRequest(c.id, 'opener2', 'decline')).toBeNull();
      expect(await store.conversations.answerRequest(c.id, 'stranger', 'accept')).toBeNull();
      const declined = await store.conversations.answerRequest(c.id, 'target2', 'decline');
      expect(declined?.request).toMatchObject({
        from: 'opener2',
        to: 'target2',
        state: 'declined',
      });
      expect((await store.conversations.requestBetween('opener2', 'target2'))?.request?.state).toBe(
        'declined',
      );
      await expect(store.messages.append(draft(c.id, 'opener2', 'd2'))).rejects.toThrow(
        RequestDeclinedError,
      );
      expect((await store.messages.page(c.id, { limit: 10 })).length).toBe(1);
      const lists = await Promise.all(
        (['inbox', 'requests'] as const).map(async (box) =>
          ids(
            (await store.conversations.listForMember('target2', { limit: 10, box })).conversations,
          ),
        ),
      );
      expect(lists).toEqual([[], []]);
      const accepted = await store.conversations.answerRequest(c.id, 'target2', 'accept');
      expect(accepted?.request).toBeUndefined();
      expect(await store.conversations.answerRequest(c.id, 'target2', 'accept')).toBeNull();
      expect(await store.conversations.requestBetween('opener2', 'target2')).toBeNull();
      expect(await store.contacts.accepted('target2', 'opener2')).toBe(true);
      expect((await store.messages.append(draft(c.id, 'opener2', 'd2'))).duplicate).toBe(false);
    });

    test('a block: either way, nothing is sent, presence and contacts stop, new direct ones start blocked; unblock restores', async () => {
      const one = await pair('blocker1', 'pest1', { jobId: 'job-a' });
      const two = await pair('blocker1', 'pest1', { jobId: 'job-b' });
      const elsewhere = await pair('blocker1', 'friend1');
      await store.messages.append(draft(one.id, 'pest1', 'before'));
      expect(await store.contacts.block('blocker1', 'pest1', at(30))).toBe(true);
      expect(await store.contacts.block('blocker1', 'pest1', at(31))).toBe(false);
      expect(await store.contacts.blockedAmong('blocker1', ['pest1', 'friend1'])).toEqual([
        'pest1',
      ]);
      expect(await store.contacts.blockedAmong('pest1', ['blocker1'])).toEqual(['blocker1']);
      expect(await store.contacts.among('pest1', ['blocker1'])).toEqual([]);
      expect(await store.contacts.among('blocker1', ['pest1', 'friend1'])).toEqual(['friend1']);
      expect(await store.contacts.audience('blocker1', 10)).toEqual(['friend1']);
      expect(await store.contacts.audience('pest1', 10)).toEqual([]);

      const changed = await store.conversations.setBlocked('pest1', 'blocker1', true);
      expect(ids(changed).sort()).toEqual([one.id, two.id].sort());
      expect(changed.every((c) => c.blocked)).toBe(true);
      expect(await store.conversations.setBlocked('blocker1', 'pest1', true)).toEqual([]);
      expect((await store.conversations.get(elsewhere.id))?.blocked).toBe(false);
      for (const sender of ['pest1', 'blocker1']) {
        await expect(
          store.messages.append(draft(one.id, sender, `after-${sender}`)),
        ).rejects.toThrow(BlockedError);
      }
      expect((await store.messages.page(one.id, { limit: 10 })).length).toBe(1);
      const third = await pair('pest1', 'blocker1', { jobId: 'job-c' });
      expect(third.blocked).toBe(true);

      expect(await store.contacts.unblock('pest1', 'blocker1')).toBe(false);
      expect(await store.contacts.unblock('blocker1', 'pest1')).toBe(true);
      const reopened = await store.conversations.setBlocked('blocker1', 'pest1', false);
      expect(ids(reopened).sort()).toEqual([one.id, two.id, third.id].sort());
      expect((await store.messages.append(draft(one.id, 'pest1', 'again'))).message.seq).toBe(2);
      expect(await store.contacts.among('blocker1', ['pest1'])).toEqual(['pest1']);
    });

    test('lists whom a user blocks, newest first, in pages', async () => {
      for (let i = 0; i < 5; i++) await store.contacts.block('lister', `p${i}`, at(100 + i));
      const first = await store.contacts.blockedBy('lister', { limit: 3 });
      expect(first.users.map((u) => u.userId)).toEqual(['p4', 'p3', 'p2']);
      expect(first.users[0]!.since).toEqual(at(104));
      const second = await store.contacts.blockedBy('lister', {
        limit: 3,
        cursor: first.nextCursor!,
      });
      expect(second.users.map((u) => u.userId)).toEqual(['p1', 'p0']);
      expect(second.nextCursor).toBeUndefined();
      expect((await store.contacts.blockedBy('nobody', { limit: 3 })).users).toEqual([]);
    });

    test('edits and deletes a message at new versions: sync sees them, the preview follows, the expectations hold', async () => {
      const c = await direct('e1', 'e2');
      const one = (await store.messages.append(draft(c.id, 'e1', 'one', 10))).message;
      const two = (await store.messages.append(draft(c.id, 'e1', 'two', 11))).message;
      expect(await store.messages.get(c.id, one.id)).toEqual(one);
      expect(await store.messages.get('000000000000000000000000', one.id)).toBeNull();
      expect(await store.messages.get(c.id, 'nope')).toBeNull();

      // Someone else's, or sent before the window: not applied.
      const edit = { kind: 'edit' as const, body: 'two, corrected', at: at(50) };
      expect(await store.messages.revise(c.id, two.id, edit, { senderId: 'e2' })).toBeNull();
      expect(await store.messages.revise(c.id, two.id, edit, { sentSince: at(12) })).toBeNull();
      const edited = await store.messages.revise(c.id, two.id, edit, {
        senderId: 'e1',
        sentSince: at(11),
      });
      expect(edited).toMatchObject({
        id: two.id,
        seq: 2,
        body: 'two, corrected',
        editedAt: at(50),
      });
      const afterEdit = await store.conversations.get(c.id);
      expect(edited!.version).toBe(afterEdit!.version);
      expect(edited!.version).toBeGreaterThan(two.version);
      expect(afterEdit?.lastMessage).toMatchObject({ id: two.id, body: 'two, corrected' });

      const deleted = await store.messages.revise(
        c.id,
        one.id,
        { kind: 'delete', by: 'e1', at: at(60) },
        { senderId: 'e1' },
      );
      expect(deleted).toMatchObject({ id: one.id, body: '', deletedAt: at(60), deletedBy: 'e1' });
      expect(await store.messages.revise(c.id, one.id, edit)).toBeNull();
      expect(
        await store.messages.revise(c.id, one.id, { kind: 'delete', by: 'admin', at: at(61) }),
      ).toBeNull();
      expect((await store.messages.get(c.id, one.id))?.body).toBe('');

      // A device at version 2 gets both changes, in their current state, in version order.
      const changes = await store.messages.changesSince(c.id, two.version, 10);
      expect(changes.messages.map((m) => [m.id, m.body])).toEqual([
        [two.id, 'two, corrected'],
        [one.id, ''],
      ]);
      expect(changes.hasMore).toBe(false);
      // History keeps positions: the tombstone stays where the message was.
      expect((await store.messages.page(c.id, { limit: 10 })).map((m) => [m.seq, m.body])).toEqual([
        [1, ''],
        [2, 'two, corrected'],
      ]);

      // Deleting the newest message shows it deleted in the list.
      await store.messages.revise(c.id, two.id, { kind: 'delete', by: 'e1', at: at(70) });
      const last = (await store.conversations.get(c.id))?.lastMessage;
      expect(last).toMatchObject({ id: two.id, body: '', deleted: true });
      // A newer message takes the preview again; editing the old one leaves it alone.
      const three = (await store.messages.append(draft(c.id, 'e2', 'three', 80))).message;
      expect(three.seq).toBe(3);
      expect((await store.conversations.get(c.id))?.lastMessage).toMatchObject({
        id: three.id,
        body: 'body of three',
      });
      expect((await store.conversations.get(c.id))?.lastMessage?.deleted).toBeUndefined();
    });

    test('keeps reports for moderators: newest first, by status, in pages; resolves each once', async () => {
      const created = [];
      for (let i = 0; i < 4; i++) {
        created.push(
          await store.reports.create({
            reporterId: `reporter${i}`,
            reportedUserId: 'bad',
            conversationId: 'c-r',
            ...(i % 2 === 0 && { messageId: `m${i}` }),
            reason: 'spam',
            ...(i === 0 && { note: 'sells things' }),
            ...(i === 0 && { snapshot: { senderId: 'bad', body: 'buy now', createdAt: at(1) } }),
            createdAt: at(200 + i),
          }),
        );
      }
      expect(created[0]).toMatchObject({
        status: 'open',
        note: 'sells things',
        snapshot: { body: 'buy now' },
      });
      expect(await store.reports.get(created[0]!.id)).toEqual(created[0]);
      expect(await store.reports.get('nope')).toBeNull();
      const page = await store.reports.list({ limit: 3 });
      expect(page.reports.map((r) => r.reporterId)).toEqual([
        'reporter3',
        'reporter2',
        'reporter1',
      ]);
      const rest = await store.reports.list({ limit: 3, cursor: page.nextCursor! });
      expect(rest.reports.map((r) => r.reporterId)).toEqual(['reporter0']);

      const dismiss = {
        from: ['open'],
        to: 'dismissed',
        resolution: 'dismissed',
        by: 'mod',
      } as const;
      const resolved = await store.reports.transition(created[1]!.id, { ...dismiss, at: at(300) });
      expect(resolved).toMatchObject({
        status: 'dismissed',
        resolution: 'dismissed',
        resolvedBy: 'mod',
        resolvedAt: at(300),
        history: [
          { from: 'open', to: 'dismissed', resolution: 'dismissed', by: 'mod', at: at(300) },
        ],
      });
      expect(
        await store.reports.transition(created[1]!.id, { ...dismiss, at: at(301) }),
      ).toBeNull();
      const open = await store.reports.list({ status: 'open', limit: 10 });
      expect(open.reports.map((r) => r.reporterId)).toEqual([
        'reporter3',
        'reporter2',
        'reporter0',
      ]);
      const done = await store.reports.list({ status: 'dismissed', limit: 10 });
      expect(done.reports.map((r) => r.id)).toEqual([created[1]!.id]);
    });

    test('moves a report open → dismissed → actioned with every step kept, and nothing out of actioned; racing moves each apply to the state the other left', async () => {
      const report = await store.reports.create({
        reporterId: 'erin',
        reportedUserId: 'rita',
        conversationId: 'c-sm',
        messageId: 'm-sm',
        reason: 'scam',
        createdAt: at(400),
      });
      const act = {
        from: ['open', 'dismissed'],
        to: 'actioned',
        resolution: 'message_deleted',
      } as const;
      const dismiss = { from: ['open'], to: 'dismissed', resolution: 'dismissed' } as const;
      // Two moderators at once: whichever order the store applies them in, the report ends
      // actioned (dismissing after acting is refused), never dismissed over a deleted message.
      const [dismissed, actioned] = await Promise.all([
        store.reports.transition(report.id, { ...dismiss, by: 'judy', at: at(401) }),
        store.reports.transition(report.id, { ...act, by: 'max', at: at(402) }),
      ]);
      expect(actioned).toMatchObject({
        status: 'actioned',
        resolution: 'message_deleted',
        resolvedBy: 'max',
      });
      const final = await store.reports.get(report.id);
      expect(final?.status).toBe('actioned');
      expect(final?.history.map((t) => `${t.from}→${t.to} by ${t.by}`)).toEqual(
        dismissed
          ? ['open→dismissed by judy', 'dismissed→actioned by max']
          : ['open→actioned by max'],
      );
      for (const step of [dismiss, act])
        expect(
          await store.reports.transition(report.id, { ...step, by: 'judy', at: at(403) }),
        ).toBeNull();
      expect((await store.reports.get(report.id))?.history).toHaveLength(final!.history.length);
      const other = await store.reports.create({
        reporterId: 'sam',
        reportedUserId: 'rita',
        conversationId: 'c-sm',
        messageId: 'm-sm',
        reason: 'spam',
        createdAt: at(405),
      });
      const unactioned = ['open', 'dismissed'] as const;
      expect((await store.reports.aboutMessage('m-sm', unactioned, 10)).map((r) => r.id)).toEqual([
        other.id,
      ]);
      expect((await store.reports.aboutMessage('m-sm', ['actioned'], 10)).map((r) => r.id)).toEqual(
        [report.id],
      );
      expect(await store.reports.aboutMessage('m-none', unactioned, 10)).toEqual([]);
      expect(
        await store.reports.transition('nope', { ...act, by: 'judy', at: at(404) }),
      ).toBeNull();
    });

    registerSearchCases(test, {
      store: () => store,
      at,
      direct: (a, b) => direct(a, b),
      group: async (...ids) =>
        (
          await store.conversations.create({
            kind: 'group',
            members: members(...ids),
            createdBy: ids[0]!,
            createdAt: at(1),
          })
        ).conversation,
    });

    // Racing calls, as two gateway instances make them. A server that runs commands one at a
    // time never interleaves them; these must hold on one that does (racing upserts included).
    describe('under concurrency', () => {
      test('creations of one direct conversation: one is created, every caller gets it, the two are contacts', async () => {
        const input = {
          kind: 'direct' as const,
          members: members('race-a', 'race-b'),
          createdBy: 'race-a',
          createdAt: at(3),
          directKey: directKey('race-a', 'race-b'),
        };
        const results = await Promise.all(
          Array.from({ length: 8 }, () => store.conversations.create(input)),
        );
        expect(new Set(results.map((r) => r.conversation.id)).size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(await store.contacts.accepted('race-a', 'race-b')).toBe(true);
        expect(await store.contacts.accepted('race-b', 'race-a')).toBe(true);
      });

      test('groups created at once over the same people: none fails, each is a contact of each', async () => {
        const people = ['crowd-a', 'crowd-b', 'crowd-c'];
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.conversations.create({
              kind: 'group',
              title: `crowd ${i}`,
              members: members(...people),
              createdBy: 'crowd-a',
              createdAt: at(4 + i),
            }),
          ),
        );
        expect(new Set(results.map((r) => r.conversation.id)).size).toBe(6);
        for (const person of people)
          expect((await store.contacts.among(person, people)).sort()).toEqual(
            people.filter((p) => p !== person),
          );
      });

      test('accepts of one request (two answers and the reply): exactly one accepts, none fails, the reply is stored', async () => {
        const c = await pair('race-opener', 'race-target', { allowance: 2 });
        await store.messages.append(draft(c.id, 'race-opener', 'hello'));
        const [first, second, reply] = await Promise.all([
          store.conversations.answerRequest(c.id, 'race-target', 'accept'),
          store.conversations.answerRequest(c.id, 'race-target', 'accept'),
          store.messages.append(draft(c.id, 'race-target', 'hi back', 20)),
        ]);
        const acceptances = [first !== null, second !== null, reply.acceptedRequest === true];
        expect(acceptances.filter(Boolean)).toHaveLength(1);
        expect(reply.duplicate).toBe(false);
        expect((await store.conversations.get(c.id))?.request).toBeUndefined();
        expect(await store.contacts.accepted('race-opener', 'race-target')).toBe(true);
        expect(await store.contacts.accepted('race-target', 'race-opener')).toBe(true);
        expect(
          (await store.messages.page(c.id, { limit: 10 })).map((m) => m.clientMessageId),
        ).toEqual(['hello', 'hi back']);
      });

      test('sends of a request\u2019s opener past the allowance: exactly the allowance is stored, gap-free', async () => {
        const c = await pair('eager-opener', 'busy-target', { allowance: 2 });
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            store.messages.append(draft(c.id, 'eager-opener', `eager-${i}`, 30 + i)),
          ),
        );
        const stored = results.filter((r) => r.status === 'fulfilled');
        const refused = results.filter((r) => r.status === 'rejected');
        expect(stored).toHaveLength(2);
        for (const r of refused) expect(r.reason).toBeInstanceOf(RequestPendingError);
        expect((await store.messages.page(c.id, { limit: 10 })).map((m) => m.seq)).toEqual([1, 2]);
        expect((await store.conversations.get(c.id))?.version).toBe(2);
      });

      test('appends and edits at once: every change at its own version; sync sees each message once, in its newest state', async () => {
        const c = await direct('mix-a', 'mix-b');
        const first = (await store.messages.append(draft(c.id, 'mix-a', 'first', 10))).message;
        const edits = Array.from({ length: 4 }, (_, i) => ({
          kind: 'edit' as const,
          body: `edit ${i}`,
          at: at(60 + i),
        }));
        const [appends, revised] = await Promise.all([
          Promise.all(
            Array.from({ length: 8 }, (_, i) =>
              store.messages.append(draft(c.id, i % 2 ? 'mix-a' : 'mix-b', `mix-${i}`, 20 + i)),
            ),
          ),
          Promise.all(edits.map((edit) => store.messages.revise(c.id, first.id, edit))),
        ]);
        const applied = revised.filter((m) => m !== null);
        expect(applied.length).toBeGreaterThanOrEqual(1);
        const versions = [
          first.version,
          ...appends.map((r) => r.message.version),
          ...applied.map((m) => m.version),
        ];
        expect(new Set(versions).size).toBe(versions.length);
        // Every edit took a version, applied or not (one that lost to a newer edit is a gap).
        expect((await store.conversations.get(c.id))?.version).toBe(1 + 8 + edits.length);
        const changes = await store.messages.changesSince(c.id, 0, 100);
        expect(changes.messages.map((m) => m.id).sort()).toEqual(
          [first.id, ...appends.map((r) => r.message.id)].sort(),
        );
        const newest = applied.reduce((a, b) => (b.version > a.version ? b : a));
        expect(changes.messages.find((m) => m.id === first.id)?.body).toBe(newest.body);
        expect(appends.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 8 }, (_, i) => i + 2),
        );
      });
    });

    // A group with members the creator invited (not contacts yet), as the domain opens one.
    const invitingGroup = async (owner: string, joined: string[], invited: string[]) =>
      (
        await store.conversations.create({
          kind: 'group',
          title: 'Invitations',
          members: [
            ...members(owner, ...joined),
            ...invited.map((userId) => ({
              userId,
              role: 'member' as const,
              joinedAt: at(0),
              invitation: { from: owner, state: 'pending' as const },
            })),
          ],
          createdBy: owner,
          createdAt: at(1),
        })
      ).conversation;
    const boxes = async (userId: string) =>
      Promise.all(
        (['inbox', 'requests'] as const).map(async (box) =>
          (await store.conversations.listForMember(userId, { limit: 10, box })).conversations.map(
            (c) => c.id,
          ),
        ),
      );

    test('a group invitation: no contact, apart from the inbox, the invitee neither sends nor receives until accepting', async () => {
      const g = await invitingGroup('inv-owner', ['inv-friend'], ['inv-guest']);
      expect(g.members.find((m) => m.userId === 'inv-guest')?.invitation).toEqual({
        from: 'inv-owner',
        state: 'pending',
      });
      expect(await store.contacts.accepted('inv-owner', 'inv-friend')).toBe(true);
      expect(await store.contacts.accepted('inv-owner', 'inv-guest')).toBe(false);
      expect(await store.contacts.among('inv-guest', ['inv-owner', 'inv-friend'])).toEqual([]);
      expect(await boxes('inv-guest')).toEqual([[], [g.id]]);
      expect(await boxes('inv-owner')).toEqual([[g.id], []]);

      // The owner's message goes to those who joined, not to the invitee.
      const sent = await store.messages.append(draft(g.id, 'inv-owner', 'inv-1'));
      expect(sent.kind).toBe('group');
      expect(sent.memberIds.sort()).toEqual(['inv-friend', 'inv-owner']);
      // The invitee cannot send its way in; nothing is stored.
      await expect(store.messages.append(draft(g.id, 'inv-guest', 'inv-2'))).rejects.toThrow(
        InvitationPendingError,
      );
      expect((await store.messages.page(g.id, { limit: 10 })).length).toBe(1);
      // Nor edit or delete (it has nothing of its own, and the rule is checked first).
      await expect(
        store.messages.revise(
          g.id,
          sent.message.id,
          { kind: 'edit', body: 'x', at: at(20) },
          { actor: 'inv-guest' },
        ),
      ).rejects.toThrow(InvitationPendingError);

      // Declined: out of both boxes, still nobody's contact; a second decline changes nothing.
      const declined = await store.platform.change(g.id, {
        at: at(30),
        answer: { userId: 'inv-guest', accept: false },
      });
      expect(declined?.changed).toBe(true);
      expect(
        declined?.conversation.members.find((m) => m.userId === 'inv-guest')?.invitation?.state,
      ).toBe('declined');
      expect(await boxes('inv-guest')).toEqual([[], []]);
      expect(
        (
          await store.platform.change(g.id, {
            at: at(31),
            answer: { userId: 'inv-guest', accept: false },
          })
        )?.changed,
      ).toBe(false);
      await expect(store.messages.append(draft(g.id, 'inv-guest', 'inv-3'))).rejects.toThrow(
        InvitationPendingError,
      );

      // Accepted (a declined invitation still can be): contacts of those who joined, in the inbox.
      const accepted = await store.platform.change(g.id, {
        at: at(32),
        answer: { userId: 'inv-guest', accept: true },
      });
      expect(accepted?.changed).toBe(true);
      expect(
        accepted?.conversation.members.find((m) => m.userId === 'inv-guest')?.invitation,
      ).toBeUndefined();
      expect(accepted!.conversation.version).toBeGreaterThan(sent.message.version);
      expect(await store.contacts.accepted('inv-guest', 'inv-owner')).toBe(true);
      expect(await store.contacts.accepted('inv-friend', 'inv-guest')).toBe(true);
      expect(await boxes('inv-guest')).toEqual([[g.id], []]);
      const after = await store.messages.append(draft(g.id, 'inv-guest', 'inv-4'));
      expect(after.memberIds.sort()).toEqual(['inv-friend', 'inv-guest', 'inv-owner']);
      // Nothing left to answer.
      expect(
        (
          await store.platform.change(g.id, {
            at: at(33),
            answer: { userId: 'inv-guest', accept: true },
          })
        )?.changed,
      ).toBe(false);
    });

    test('leaving: the member and an open invitation go; the last owner hands over', async () => {
      const g = await invitingGroup('lv-owner', ['lv-a', 'lv-b'], ['lv-guest']);
      const left = await store.platform.change(g.id, {
        at: at(40),
        remove: ['lv-owner', 'lv-guest'],
        owner: 'lv-b',
      });
      expect(left?.conversation.members.map((m) => [m.userId, m.role, m.invitation])).toEqual([
        ['lv-a', 'member', undefined],
        ['lv-b', 'owner', undefined],
      ]);
      expect(await boxes('lv-guest')).toEqual([[], []]);
      expect(await boxes('lv-owner')).toEqual([[], []]);
      await expect(store.messages.append(draft(g.id, 'lv-owner', 'lv-1'))).rejects.toThrow(
        NotMemberError,
      );
      expect((await store.messages.append(draft(g.id, 'lv-a', 'lv-2'))).memberIds.sort()).toEqual([
        'lv-a',
        'lv-b',
      ]);
    });

    test('an edit obeys the same rule as a send: a pending request’s opener spends the allowance, a decline or a block refuses, nothing changes', async () => {
      const c = await pair('ed-opener', 'ed-target', { allowance: 2 });
      const first = await store.messages.append(draft(c.id, 'ed-opener', 'ed-1', 10));
      const edit = (body: string, ms: number) =>
        store.messages.revise(
          c.id,
          first.message.id,
          { kind: 'edit', body, at: at(ms) },
          { senderId: 'ed-opener', actor: 'ed-opener', allowance: 2 },
        );
      // One message and one edit spend the allowance of two.
      expect((await edit('edited once', 11))?.body).toBe('edited once');
      expect((await store.conversations.get(c.id))?.request?.remaining).toBe(0);
      await expect(edit('edited twice', 12)).rejects.toThrow(RequestPendingError);
      await expect(store.messages.append(draft(c.id, 'ed-opener', 'ed-2', 13))).rejects.toThrow(
        RequestPendingError,
      );
      // A deletion only takes away: allowed while pending.
      await store.conversations.answerRequest(c.id, 'ed-target', 'decline');
      await expect(edit('after the decline', 14)).rejects.toThrow(RequestDeclinedError);
      expect((await store.messages.get(c.id, first.message.id))?.body).toBe('edited once');

      const d = await pair('ed-blocker', 'ed-pest');
      const old = await store.messages.append(draft(d.id, 'ed-pest', 'ed-3', 15));
      await store.contacts.block('ed-blocker', 'ed-pest', at(16));
      await store.conversations.setBlocked('ed-blocker', 'ed-pest', true);
      for (const kind of ['edit', 'delete'] as const)
        await expect(
          store.messages.revise(
            d.id,
            old.message.id,
            kind === 'edit'
              ? { kind, body: 'you cannot block me', at: at(17) }
              : { kind, by: 'ed-pest', at: at(17) },
            { senderId: 'ed-pest', actor: 'ed-pest' },
          ),
        ).rejects.toThrow(BlockedError);
      expect((await store.messages.get(d.id, old.message.id))?.body).toBe('body of ed-3');
      // A moderator's deletion (no actor) is not a party's: it goes through.
      expect(
        (
          await store.messages.revise(d.id, old.message.id, {
            kind: 'delete',
            by: 'mod',
            at: at(18),
          })
        )?.deletedAt,
      ).toEqual(at(18));
    });

    test('finds the blocked pairs among a group’s members, either way, once each', async () => {
      await store.contacts.block('bp-a', 'bp-b', at(1));
      await store.contacts.block('bp-b', 'bp-a', at(2));
      await store.contacts.block('bp-c', 'bp-a', at(3));
      await store.contacts.block('bp-c', 'bp-outsider', at(4));
      const pairs = await store.contacts.blockedPairs(['bp-a', 'bp-b', 'bp-c', 'bp-d', 'bp-a']);
      expect(pairs.map((p) => [...p].sort().join('+')).sort()).toEqual(['bp-a+bp-b', 'bp-a+bp-c']);
      expect(pairs).toContainEqual(['bp-c', 'bp-a']);
      expect(await store.contacts.blockedPairs(['bp-d', 'bp-outsider'])).toEqual([]);
      expect(await store.contacts.blockedPairs([])).toEqual([]);
    });

    test('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
