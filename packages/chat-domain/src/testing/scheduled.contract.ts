import { afterAll, beforeAll, beforeEach, describe, expect } from '@jest/globals';
import { type ChatStore, type NewScheduledSend } from '../index.js';
import { caseRegistrar, type ContractOptions } from './contract-options.js';

/**
 * Scheduled sends (issue 27) in every store: the per-sender cap holds under concurrent
 * creation, editing ends with the first attempt, and a claim leases one entry to one worker
 * until its lease ends (then another may claim it again); only the lease holder finishes it.
 */
export function describeScheduledContract(
  name: string,
  open: () => Promise<ChatStore>,
  close: (store: ChatStore) => Promise<void>,
  options: ContractOptions = {},
) {
  const test = caseRegistrar(options);
  describe(`${name} scheduled sends contract`, () => {
    let store: ChatStore;
    // Each case a year before the one before it: what earlier cases left is not due yet when
    // a later case claims, so claims see only their own case's entries.
    let epoch = Date.UTC(2090, 0, 1);
    let base = epoch;
    const at = (ms: number) => new Date(base + ms);
    let sender = 0;
    const entry = (over: Partial<NewScheduledSend> = {}): NewScheduledSend => ({
      senderId: `sender-${sender}`,
      senderRole: 'recruiter',
      conversationId: '0123456789abcdef01234567',
      body: 'Following up on our chat',
      sendAt: at(60_000),
      createdAt: at(0),
      ...over,
    });
    /** Claims everything due by `ms` until none is left, and forgets it (finish). */
    const drain = async (ms: number) => {
      for (;;) {
        const e = await store.scheduled.claim(at(ms), 1_000, 'drain');
        if (!e) return;
        const keep = at(ms + 86_400_000);
        await store.scheduled.finish(e.id, 'drain', { state: 'sent', messageId: 'm' }, keep);
      }
    };

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await close(store);
    });
    beforeEach(() => {
      sender += 1;
      epoch -= 365 * 86_400_000;
      base = epoch;
    });

    test('stores, gets and lists a sender’s sends: pending by time first, then finished newest first', async () => {
      const later = await store.scheduled.create(entry({ sendAt: at(90_000) }), 10);
      const sooner = await store.scheduled.create(
        entry({ sendAt: at(30_000), followUp: { afterSeq: 7 } }),
        10,
      );
      expect(sooner).toMatchObject({
        state: 'pending',
        attempts: 0,
        dueAt: at(30_000),
        followUp: { afterSeq: 7 },
      });
      expect(await store.scheduled.get(sooner!.id)).toEqual(sooner);
      await store.scheduled.create(entry({ senderId: 'someone-else' }), 10);
      const listed = await store.scheduled.listForSender(entry().senderId, 10, at(0));
      expect(listed.map((e) => e.id)).toEqual([sooner!.id, later!.id]);
      await drain(30_000);
      const after = await store.scheduled.listForSender(entry().senderId, 10, at(30_000));
      expect(after.map((e) => [e.id, e.state])).toEqual([
        [later!.id, 'pending'],
        [sooner!.id, 'sent'],
      ]);
    });

    test('the per-sender cap holds under concurrent creation, and a finished one frees a place', async () => {
      const made = await Promise.all(
        Array.from({ length: 8 }, () => store.scheduled.create(entry(), 3)),
      );
      expect(made.filter((e) => e !== null)).toHaveLength(3);
      expect(await store.scheduled.create(entry(), 3)).toBeNull();
      await drain(60_000);
      expect(await store.scheduled.create(entry({ sendAt: at(120_000) }), 3)).not.toBeNull();
    });

    test('edits and cancels only the sender’s own, and only until the first attempt', async () => {
      const e = (await store.scheduled.create(entry(), 10))!;
      expect(await store.scheduled.edit(e.id, 'intruder', { body: 'x' })).toBeNull();
      const moved = await store.scheduled.edit(e.id, e.senderId, {
        body: 'New words',
        sendAt: at(70_000),
      });
      expect(moved).toMatchObject({ body: 'New words', sendAt: at(70_000), dueAt: at(70_000) });
      expect(await store.scheduled.claim(at(60_000), 1_000, 'w')).toBeNull();
      const claimed = await store.scheduled.claim(at(70_000), 3_600_000, 'w');
      expect(claimed).toMatchObject({ id: e.id, attempts: 1, body: 'New words' });
      expect(await store.scheduled.edit(e.id, e.senderId, { body: 'too late' })).toBeNull();
      expect(
        await store.scheduled.edit(e.id, e.senderId, { cancel: true, at: at(1), expireAt: at(2) }),
      ).toBeNull();
      const other = (await store.scheduled.create(entry({ sendAt: at(80_000) }), 10))!;
      const cancelled = await store.scheduled.edit(other.id, other.senderId, {
        cancel: true,
        at: at(1),
        expireAt: at(500_000),
      });
      expect(cancelled?.state).toBe('cancelled');
      expect(await store.scheduled.claim(at(90_000), 1_000, 'w2')).toBeNull();
    });

    test('a lease holds an entry for one worker; when it ends another claims it again, and only the holder finishes', async () => {
      const e = (await store.scheduled.create(entry(), 10))!;
      const first = await store.scheduled.claim(at(60_000), 5_000, 'a');
      expect(first?.id).toBe(e.id);
      expect(await store.scheduled.claim(at(64_999), 5_000, 'b')).toBeNull();
      const second = await store.scheduled.claim(at(65_000), 5_000, 'b');
      expect(second).toMatchObject({ id: e.id, attempts: 2 });
      expect(
        await store.scheduled.finish(e.id, 'a', { state: 'sent', messageId: 'm1' }, at(1e6)),
      ).toBe(false);
      await store.scheduled.retry(e.id, 'a', at(60_000), 'late'); // ignored: not a's any more
      expect(
        await store.scheduled.finish(e.id, 'b', { state: 'sent', messageId: 'm2' }, at(1e6)),
      ).toBe(true);
      expect(await store.scheduled.get(e.id)).toMatchObject({ state: 'sent', messageId: 'm2' });
      expect(await store.scheduled.claim(at(1e5), 5_000, 'c')).toBeNull();
    });

    test('claims race: each due entry goes to exactly one of many workers', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++) ids.add((await store.scheduled.create(entry(), 10))!.id);
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.scheduled.claim(at(60_000), 60_000, `w${i}`)),
      );
      const won = claims.filter((c) => c !== null).map((c) => c.id);
      expect(won.sort()).toEqual([...ids].sort());
    });

    test('a retry waits until due; a refusal is kept with its code until it expires', async () => {
      const e = (await store.scheduled.create(entry(), 10))!;
      await store.scheduled.claim(at(60_000), 1_000, 'a');
      await store.scheduled.retry(e.id, 'a', at(70_000), 'UNAVAILABLE');
      expect(await store.scheduled.claim(at(69_999), 1_000, 'b')).toBeNull();
      expect((await store.scheduled.claim(at(70_000), 1_000, 'b'))?.attempts).toBe(2);
      await store.scheduled.finish(e.id, 'b', { state: 'refused', outcome: 'BLOCKED' }, at(80_000));
      expect(await store.scheduled.listForSender(e.senderId, 10, at(79_999))).toEqual([
        expect.objectContaining({ id: e.id, state: 'refused', outcome: 'BLOCKED' }),
      ]);
      expect(await store.scheduled.listForSender(e.senderId, 10, at(80_000))).toEqual([]);
    });
  });
}
