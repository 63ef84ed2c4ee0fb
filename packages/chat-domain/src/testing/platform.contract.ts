import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { NotMemberError, SYSTEM_SENDER, type ChatStore, type NewOutboxEntry } from '../index.js';
import { caseRegistrar, type ContractOptions } from './contract-options.js';
import { registerModerationCases } from './moderation.contract.js';

/**
 * The server API's store operations (issue 15), held to one contract on every store: the
 * outbox (idempotent writes, leases that expire, dead letters, replay), conversation changes
 * at new versions, system messages, erasure and export.
 */
export function describePlatformContract(
  name: string,
  open: () => Promise<ChatStore>,
  close: (store: ChatStore) => Promise<void>,
  options: ContractOptions = {},
) {
  const test = caseRegistrar(options);
  describe(`${name} platform store contract`, () => {
    let store: ChatStore;
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
    let unique = 0;
    const group = async (ids: string[], ms = 1) =>
      (
        await store.conversations.create({
          kind: 'group',
          title: 'Hiring panel',
          members: ids.map((userId, i) => ({
            userId,
            role: i === 0 ? ('owner' as const) : ('member' as const),
            joinedAt: at(ms),
          })),
          createdBy: ids[0]!,
          createdAt: at(ms),
          directKey: `svc:contract-${++unique}`,
        })
      ).conversation;
    const send = (conversationId: string, senderId: string, key: string, body = `body ${key}`) =>
      store.messages.append({
        conversationId,
        senderId,
        clientMessageId: key,
        body,
        createdAt: at(10 + unique++),
      });
    const FAR = new Date(Date.UTC(2100, 0, 1));
    const entry = (id: string, dueMs: number, authors: string[] = []): NewOutboxEntry => ({
      id,
      kind: 'webhook',
      endpoint: 'http://127.0.0.1:1/hook',
      payload: JSON.stringify({ id, type: 'message.created', data: {} }),
      dueAt: at(dueMs),
      createdAt: at(dueMs),
      authors,
    });

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await close(store);
    });

    registerModerationCases(test, () => store, group, send);

    test('outbox: a repeated write keeps one entry; claims lease the entry due first, and a lease that runs out makes it due again', async () => {
      await store.outbox.enqueue([entry('e-late', 500), entry('e-early', 100)]);
      await store.outbox.enqueue([entry('e-early', 100)]); // a retried step
      expect(await store.outbox.claim(at(50), 1_000, 'L0')).toBeNull(); // nothing due yet

      const first = await store.outbox.claim(at(600), 1_000, 'L1');
      expect(first).toMatchObject({ id: 'e-early', attempts: 1, lease: 'L1', state: 'pending' });
      const second = await store.outbox.claim(at(700), 1_000, 'L2');
      expect(second).toMatchObject({ id: 'e-late', attempts: 1 });
      // Both leased: nothing else to claim until a lease ends.
      expect(await store.outbox.claim(at(1_500), 1_000, 'L3')).toBeNull();
      // The holder of e-early died: its lease ends and another instance claims it again.
      const again = await store.outbox.claim(at(1_600), 1_000, 'L4');
      expect(again).toMatchObject({ id: 'e-early', attempts: 2, lease: 'L4' });
      // The dead holder's late answer cannot reschedule what the new holder has.
      await store.outbox.retry('e-early', 'L1', at(99_000), 'stale');
      await store.outbox.complete('e-early');
      await store.outbox.complete('e-late');
      expect(await store.outbox.claim(at(1_000_000), 1_000, 'L5')).toBeNull();
    });

    test('outbox: retries wait until due; dead letters are listed newest first in pages and can be replayed once', async () => {
      await store.outbox.enqueue([entry('d1', 2_000), entry('d2', 2_001), entry('d3', 2_002)]);
      for (const id of ['d1', 'd2', 'd3']) {
        const claimed = await store.outbox.claim(at(3_000), 1_000, `lease-${id}`);
        expect(claimed?.id).toBe(id);
        await store.outbox.retry(id, `lease-${id}`, at(5_000), 'HTTP 500');
      }
      expect(await store.outbox.claim(at(4_999), 1_000, 'x')).toBeNull();
      for (const id of ['d1', 'd2', 'd3']) {
        const claimed = await store.outbox.claim(at(5_000), 1_000, `dead-${id}`);
        expect(claimed).toMatchObject({ id, attempts: 2, lastError: 'HTTP 500' });
        await store.outbox.deadLetter(id, `dead-${id}`, 'timed out', { expireAt: FAR, keep: 100 });
      }
      expect(await store.outbox.claim(at(1_000_000), 1_000, 'x')).toBeNull();
      const page = await store.outbox.listDead({ limit: 2 }, at(5_000));
      expect(page.entries.map((e) => [e.id, e.state, e.lastError])).toEqual([
        ['d3', 'dead', 'timed out'],
        ['d2', 'dead', 'timed out'],
      ]);
      const rest = await store.outbox.listDead({ limit: 2, cursor: page.nextCursor! }, at(5_000));
      expect(rest.entries.map((e) => e.id)).toEqual(['d1']);
      expect(rest.nextCursor).toBeUndefined();

      expect(await store.outbox.replay('d2', at(6_000))).toBe(true);
      expect(await store.outbox.replay('d2', at(6_000))).toBe(false);
      expect(await store.outbox.replay('unknown', at(6_000))).toBe(false);
      expect(await store.outbox.claim(at(6_000), 1_000, 'R')).toMatchObject({
        id: 'd2',
        attempts: 1,
      });
      await store.outbox.complete('d2');
      expect(
        (await store.outbox.listDead({ limit: 10 }, at(6_000))).entries.map((e) => e.id),
      ).toEqual(['d3', 'd1']);
      for (const id of ['d3', 'd1']) await store.outbox.complete(id);
    });

    test('outbox: dead letters expire and are capped (the newest kept); a deleted message’s entries, dead or waiting, are rewritten without its words', async () => {
      const die = async (id: string, ms: number, policy: { expireAt: Date; keep: number }) => {
        await store.outbox.enqueue([entry(id, ms)]);
        const claimed = await store.outbox.claim(at(ms), 1_000, `L-${id}`);
        expect(claimed?.id).toBe(id);
        await store.outbox.deadLetter(id, `L-${id}`, 'HTTP 500', policy);
      };
      const ids = (now: Date) =>
        store.outbox.listDead({ limit: 100 }, now).then((p) => p.entries.map((e) => e.id));
      // Real times for expiry: a TTL index may remove what is past.
      const soon = new Date(Date.UTC(2099, 0, 1));
      await die('x1', 20_000, { expireAt: soon, keep: 100 });
      await die('x2', 20_001, { expireAt: FAR, keep: 100 });
      expect(await ids(at(30_000))).toEqual(['x2', 'x1']);
      expect(await ids(new Date(Date.UTC(2099, 0, 2)))).toEqual(['x2']);
      expect(await store.outbox.replay('x1', new Date(Date.UTC(2099, 0, 2)))).toBe(false);
      // The cap: two kept, the oldest goes as each new one dies.
      await die('x3', 20_002, { expireAt: FAR, keep: 2 });
      expect(await ids(at(30_000))).toEqual(['x3', 'x2']);
      await die('x4', 20_003, { expireAt: FAR, keep: 2 });
      expect(await ids(at(30_000))).toEqual(['x4', 'x3']);
      // A replayed dead letter no longer expires: it is pending again.
      expect(await store.outbox.replay('x4', at(30_000))).toBe(true);
      expect((await store.outbox.claim(at(30_000), 1_000, 'R'))?.id).toBe('x4');
      await store.outbox.complete('x4');
      await store.outbox.complete('x3');

      const about = (id: string, subject: string, words: string): NewOutboxEntry => ({
        ...entry(id, 40_000),
        payload: JSON.stringify({
          id,
          type: 'message.created',
          data: { message: { body: words } },
        }),
        subject,
      });
      await store.outbox.enqueue([
        about('w-created', 'msg:m-secret', 'call 555-0100'),
        about('w-edit', 'msg:m-secret', 'call 555-0199'),
        about('w-other', 'msg:m-other', 'keep me'),
      ]);
      const claimed = await store.outbox.claim(at(40_000), 1_000, 'W');
      await store.outbox.deadLetter(claimed!.id, 'W', 'HTTP 500', { expireAt: FAR, keep: 100 });
      const rewritten = await store.outbox.redact('msg:m-secret', (e) =>
        JSON.stringify({ ...(JSON.parse(e.payload) as object), data: { message: { body: '' } } }),
      );
      expect(rewritten).toBe(2);
      const left: string[] = [];
      for (const e of (await store.outbox.listDead({ limit: 100 }, at(40_000))).entries)
        left.push(e.payload);
      for (let e = await store.outbox.claim(at(50_000), 1_000, 'W2'); e;) {
        left.push(e.payload);
        await store.outbox.complete(e.id);
        e = await store.outbox.claim(at(50_000), 1_000, 'W2');
      }
      expect(left.join('\n')).not.toMatch(/555-01/);
      expect(left.join('\n')).toContain('keep me');
      for (const id of ['w-created', 'w-edit', 'w-other']) await store.outbox.complete(id);
    });

    test("outbox: a settled check keeps its id (it cannot be scheduled again); erasure forgets entries carrying a user's words", async () => {
      await store.outbox.enqueue([{ ...entry('check-1', 7_000), kind: 'offline-check' }]);
      const claimed = await store.outbox.claim(at(7_000), 1_000, 'C');
      // expireAt is a real time: a TTL index removes the entry then.
      await store.outbox.settle(claimed!.id, new Date(Date.UTC(2100, 0, 1)));
      await store.outbox.enqueue([{ ...entry('check-1', 7_000), kind: 'offline-check' }]);
      expect(await store.outbox.claim(at(8_000_000), 1_000, 'C2')).toBeNull();

      await store.outbox.enqueue([
        entry('by-ann', 9_000, ['ann']),
        entry('by-bob', 9_000, ['bob']),
      ]);
      expect(await store.outbox.forgetAuthor('ann')).toBe(1);
      expect((await store.outbox.claim(at(9_000_000), 1_000, 'F'))?.id).toBe('by-bob');
      await store.outbox.complete('by-bob');
    });

    test('changes title and archive at one new version, marked as a change of the conversation; a change that changes nothing takes none', async () => {
      const c = await group(['r1', 'c1']);
      const changed = await store.platform.change(c.id, {
        at: at(20),
        title: 'Final round',
        archived: true,
      });
      expect(changed).toMatchObject({ changed: true, added: [], removed: [] });
      expect(changed!.conversation).toMatchObject({
        title: 'Final round',
        archived: true,
        version: c.version + 1,
        metaVersion: c.version + 1,
        metaChangedAt: at(20),
      });
      const same = await store.platform.change(c.id, {
        at: at(21),
        title: 'Final round',
        archived: true,
      });
      expect(same).toMatchObject({ changed: false });
      expect(same!.conversation.version).toBe(c.version + 1);
      expect((await store.conversations.get(c.id))?.archived).toBe(true);
      await store.platform.change(c.id, { at: at(22), archived: false });
      expect((await store.conversations.get(c.id))?.archived).toBeUndefined();
      expect(
        await store.platform.change('000000000000000000000000', { at: at(1), title: 'x' }),
      ).toBeNull();
      expect(await store.platform.change('malformed', { at: at(1), title: 'x' })).toBeNull();
    });

    test('adds members with nothing unread from before and removes members: a removed one sends nothing and receives nothing more', async () => {
      const c = await group(['r2', 'c2']);
      await send(c.id, 'r2', 'before-1');
      await send(c.id, 'c2', 'before-2');
      const joined = await store.platform.change(c.id, {
        at: at(30),
        add: [
          { userId: 'h2', role: 'member', joinedAt: at(30) },
          { userId: 'c2', role: 'member', joinedAt: at(30) }, // already there: left alone
        ],
      });
      expect(joined!.added.map((m) => m.userId)).toEqual(['h2']);
      expect(joined!.conversation.members.map((m) => m.userId)).toEqual(['r2', 'c2', 'h2']);
      expect(joined!.conversation.members.find((m) => m.userId === 'h2')?.lastReadSeq).toBe(2);
      expect(
        (await store.conversations.listForMember('h2', { limit: 10 })).conversations.map(
          (x) => x.id,
        ),
      ).toEqual([c.id]);
      expect(await store.contacts.accepted('h2', 'r2')).toBe(true);

      const left = await store.platform.change(c.id, { at: at(31), remove: ['c2', 'nobody'] });
      expect(left!.removed.map((m) => m.userId)).toEqual(['c2']);
      expect(left!.conversation.members.map((m) => m.userId)).toEqual(['r2', 'h2']);
      expect(left!.conversation.metaVersion).toBe(left!.conversation.version);
      // Fan-out goes to the members the store holds: the removed one is not among them.
      const after = await send(c.id, 'r2', 'after');
      expect(after.memberIds.sort()).toEqual(['h2', 'r2']);
      await expect(send(c.id, 'c2', 'c2-after')).rejects.toBeInstanceOf(NotMemberError);
      expect((await store.conversations.listForMember('c2', { limit: 10 })).conversations).toEqual(
        [],
      );
      expect((await store.platform.change(c.id, { at: at(32), remove: ['c2'] }))!.changed).toBe(
        false,
      );
    });

    test('stores system messages from no member, counted unread by everyone, also in a blocked conversation; idempotent by key', async () => {
      const { conversation: d } = await store.conversations.create({
        kind: 'direct',
        members: [
          { userId: 'sys-a', role: 'owner', joinedAt: at(1) },
          { userId: 'sys-b', role: 'member', joinedAt: at(1) },
        ],
        createdBy: 'sys-a',
        createdAt: at(1),
        directKey: `direct:sys-a:sys-b:${++unique}`,
      });
      await store.conversations.setBlocked('sys-a', 'sys-b', true);
      const draft = {
        conversationId: d.id,
        senderId: SYSTEM_SENDER,
        clientMessageId: 'interview-1',
        body: 'Interview scheduled for Thursday 10:00',
        kind: 'system' as const,
        createdAt: at(40),
      };
      const first = await store.messages.append(draft);
      expect(first).toMatchObject({ duplicate: false, message: { kind: 'system', seq: 1 } });
      expect(first.memberIds.sort()).toEqual(['sys-a', 'sys-b']);
      expect(await store.messages.append(draft)).toMatchObject({
        duplicate: true,
        message: { id: first.message.id },
      });
      const stored = await store.conversations.get(d.id);
      expect(stored?.members.map((m) => m.lastReadSeq)).toEqual([0, 0]);
      expect((await store.conversations.unreadSummary('sys-b', 10)).total).toBe(1);
      await expect(
        store.messages.append({
          ...draft,
          clientMessageId: 'x',
          conversationId: '000000000000000000000000',
        }),
      ).rejects.toBeInstanceOf(NotMemberError);
    });

    test('erases a user in bounded steps: every message a tombstone at a new version, memberships, report texts, contacts and own blocks gone, others’ blocks on them kept', async () => {
      const c = await group(['er-r', 'er-x']);
      const mine = [];
      for (let i = 0; i < 3; i++)
        mine.push((await send(c.id, 'er-x', `x${i}`, `secret ${i}`)).message);
      await send(c.id, 'er-r', 'r-reply', 'reply of r');
      const last = (await send(c.id, 'er-x', 'x-last', 'secret last')).message;
      await store.reports.create({
        reporterId: 'er-r',
        reportedUserId: 'er-x',
        conversationId: c.id,
        messageId: last.id,
        reason: 'spam',
        snapshot: { senderId: 'er-x', body: 'secret last', createdAt: last.createdAt },
        createdAt: at(50),
      });
      const filed = await store.reports.create({
        reporterId: 'er-x',
        reportedUserId: 'er-r',
        conversationId: c.id,
        reason: 'other',
        note: 'secret note',
        createdAt: at(51),
      });
      await store.contacts.block('er-r', 'er-x', at(52));
      await store.contacts.block('er-x', 'er-other', at(53));
      const before = (await store.conversations.get(c.id))!.version;

      const step1 = await store.platform.eraseUserStep('er-x', at(60), 3);
      expect(step1).toEqual({ messages: 3, conversations: 0, done: false });
      const step2 = await store.platform.eraseUserStep('er-x', at(60), 3);
      expect(step2).toEqual({ messages: 1, conversations: 1, done: true });
      expect(await store.platform.eraseUserStep('er-x', at(61), 3)).toEqual({
        messages: 0,
        conversations: 0,
        done: true,
      });

      // Devices find every tombstone through sync: each at a version above what they had.
      const changes = await store.messages.changesSince(c.id, before, 50);
      expect(changes.messages.map((m) => [m.senderId, m.body, m.deletedAt !== undefined])).toEqual(
        Array.from({ length: 4 }, () => ['er-x', '', true]),
      );
      const conversation = await store.conversations.get(c.id);
      expect(conversation?.members.map((m) => m.userId)).toEqual(['er-r']);
      expect(conversation?.lastMessage).toMatchObject({ id: last.id, body: '', deleted: true });
      const history = await store.messages.page(c.id, { limit: 10 });
      expect(history.map((m) => m.body)).toEqual(['', '', '', 'reply of r', '']);
      const reports = (await store.reports.list({ limit: 10 })).reports;
      expect(reports.find((r) => r.messageId === last.id)?.snapshot?.body).toBe('');
      expect((await store.reports.get(filed.id))?.note).toBeUndefined();
      expect(await store.contacts.accepted('er-r', 'er-x')).toBe(false);
      // The erased person's own blocks go; the block er-r placed on them stays, so nothing
      // of theirs reaches er-r again (a new token for the same id included).
      expect((await store.contacts.blockedBy('er-x', { limit: 10 })).users).toEqual([]);
      expect(await store.contacts.blockedAmong('er-other', ['er-x'])).toEqual([]);
      expect((await store.contacts.blockedBy('er-r', { limit: 10 })).users).toEqual([
        { userId: 'er-x', since: at(52) },
      ]);
      expect(await store.contacts.blockedAmong('er-x', ['er-r'])).toEqual(['er-r']);
      await store.platform.recordErasure({
        userId: 'er-x',
        requestedBy: 'backend',
        at: at(60),
        messages: 4,
        conversations: 1,
      });
    });

    test("exports a user's conversations and own messages, oldest first, capped", async () => {
      const a = await group(['ex-u', 'ex-o']);
      const b = await group(['ex-o', 'ex-u']);
      await send(a.id, 'ex-u', 'e1', 'first of mine');
      await send(b.id, 'ex-o', 'e2', 'not mine');
      await send(b.id, 'ex-u', 'e3', 'second of mine');
      const all = await store.platform.exportUser('ex-u', { conversations: 10, messages: 10 });
      expect(all.conversations.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
      expect(all.messages.map((m) => m.body)).toEqual(['first of mine', 'second of mine']);
      expect(all.truncated).toBe(false);
      const capped = await store.platform.exportUser('ex-u', { conversations: 1, messages: 1 });
      expect(capped.conversations).toHaveLength(1);
      expect(capped.messages.map((m) => m.body)).toEqual(['first of mine']);
      expect(capped.truncated).toBe(true);
    });
  });
}
