import { afterAll, beforeAll, beforeEach, describe, expect } from '@jest/globals';
import {
  RESPONSE_TIME_LIMITS,
  bucketOf,
  dayOf,
  type ChatStore,
  type ResponseSample,
} from '../index.js';
import { caseRegistrar, type ContractOptions } from './contract-options.js';

/**
 * Response-time figures (issue 27) in every store: a wait starts at the earliest unanswered
 * candidate message and one answer takes it (of racing answers exactly one); answers land in
 * the conversation's ring of latest times and in the recruiter's and company's day counts,
 * with no increment lost when many are recorded at once; a day range reads only its days.
 */
export function describeResponseTimesContract(
  name: string,
  open: () => Promise<ChatStore>,
  close: (store: ChatStore) => Promise<void>,
  options: ContractOptions = {},
) {
  const test = caseRegistrar(options);
  describe(`${name} response-time figures contract`, () => {
    let store: ChatStore;
    let n = 0;
    let conversationId = '';
    let recruiter = '';
    let company = '';
    const base = Date.UTC(2031, 2, 3, 9);
    const at = (ms: number) => new Date(base + ms);
    const sample = (over: Partial<ResponseSample> = {}): ResponseSample => ({
      conversationId,
      recruiterId: recruiter,
      companyId: company,
      answeredAt: at(60_000),
      ms: 60_000,
      answer: 0,
      ...over,
    });

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await close(store);
    });
    beforeEach(() => {
      n += 1;
      conversationId = `c0ffee${String(n).padStart(18, '0')}`;
      recruiter = `recruiter-${n}`;
      company = `company-${n}`;
    });

    test('many candidate messages wait from the first; one answer takes the wait, the next finds none', async () => {
      const figures = store.responseTimes;
      await figures.awaitAnswer(conversationId, at(1_000));
      await figures.awaitAnswer(conversationId, at(5_000));
      // Out of order (a slow instance's earlier message): the earliest still wins.
      await figures.awaitAnswer(conversationId, at(500));
      expect(await figures.conversation(conversationId)).toMatchObject({
        awaitingSince: at(500),
        firstAwaitedAt: at(500),
        answers: 0,
        recentMs: [],
      });
      expect(await figures.takeAwaiting(conversationId, at(9_000))).toEqual({
        since: at(500),
        answer: 0,
      });
      expect(await figures.takeAwaiting(conversationId, at(9_500))).toBeNull();
      const after = await figures.conversation(conversationId);
      expect(after?.awaitingSince).toBeUndefined();
      expect(after).toMatchObject({ firstAnswerAt: at(9_000), answers: 1 });
      // A later candidate message waits again; the next answer is the second.
      await figures.awaitAnswer(conversationId, at(20_000));
      expect(await figures.takeAwaiting(conversationId, at(21_000))).toEqual({
        since: at(20_000),
        answer: 1,
      });
      expect((await figures.conversation(conversationId))?.firstAwaitedAt).toEqual(at(500));
    });

    test('a recruiter writing where no candidate waits (outreach) takes nothing and keeps nothing', async () => {
      expect(await store.responseTimes.takeAwaiting(conversationId, at(0))).toBeNull();
      expect(await store.responseTimes.conversation(conversationId)).toBeNull();
    });

    test('racing answers to one wait: exactly one takes it', async () => {
      await store.responseTimes.awaitAnswer(conversationId, at(0));
      const taken = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.responseTimes.takeAwaiting(conversationId, at(i)),
        ),
      );
      expect(taken.filter((t) => t !== null)).toEqual([{ since: at(0), answer: 0 }]);
      expect((await store.responseTimes.conversation(conversationId))?.answers).toBe(1);
    });

    test('an answer lands in the conversation and in its recruiter’s and company’s day', async () => {
      await store.responseTimes.awaitAnswer(conversationId, at(0));
      await store.responseTimes.takeAwaiting(conversationId, at(60_000));
      await store.responseTimes.recordAnswer(sample());
      expect(await store.responseTimes.conversation(conversationId)).toMatchObject({
        firstAnswerMs: 60_000,
        answers: 1,
        recentMs: [60_000],
      });
      const day = dayOf(at(60_000));
      const b = bucketOf(60_000);
      const expected = [{ day, all: { [b]: 1 }, first: { [b]: 1 } }];
      expect(
        await store.responseTimes.days({ kind: 'recruiter', id: recruiter }, day, day),
      ).toEqual(expected);
      expect(await store.responseTimes.days({ kind: 'company', id: company }, day, day)).toEqual(
        expected,
      );
      // Without a company, the recruiter's day alone.
      await store.responseTimes.recordAnswer(
        sample({ companyId: undefined, answer: 1, ms: 2_000 }),
      );
      const [recruiterDay] = await store.responseTimes.days(
        { kind: 'recruiter', id: recruiter },
        day,
        day,
      );
      expect(recruiterDay?.all).toEqual({ [b]: 1, [bucketOf(2_000)]: 1 });
      expect(recruiterDay?.first).toEqual({ [b]: 1 });
      const [companyDay] = await store.responseTimes.days(
        { kind: 'company', id: company },
        day,
        day,
      );
      expect(companyDay?.all).toEqual({ [b]: 1 });
    });

    test('a conversation keeps its latest answers only, oldest first', async () => {
      const kept = RESPONSE_TIME_LIMITS.samplesPerConversation;
      await store.responseTimes.awaitAnswer(conversationId, at(0));
      for (let answer = 0; answer < kept + 5; answer++)
        await store.responseTimes.recordAnswer(sample({ answer, ms: 1_000 * (answer + 1) }));
      const figures = await store.responseTimes.conversation(conversationId);
      expect(figures?.recentMs).toEqual(Array.from({ length: kept }, (_, i) => 1_000 * (i + 6)));
      expect(figures?.firstAnswerMs).toBe(1_000);
    });

    test('answers recorded at once lose no increment (the first ones racing to create the day)', async () => {
      const answers = 40;
      await Promise.all(
        Array.from({ length: answers }, (_, i) =>
          store.responseTimes.recordAnswer(
            sample({ conversationId: `${conversationId}-${i}`, ms: i % 2 ? 3_000 : 600_000 }),
          ),
        ),
      );
      const day = dayOf(at(60_000));
      for (const subject of [
        { kind: 'recruiter' as const, id: recruiter },
        { kind: 'company' as const, id: company },
      ]) {
        const [d] = await store.responseTimes.days(subject, day, day);
        expect(d?.all).toEqual({
          [bucketOf(3_000)]: answers / 2,
          [bucketOf(600_000)]: answers / 2,
        });
        expect(d?.first).toEqual(d?.all);
      }
    });

    test('a range of days reads those days only', async () => {
      const day = (d: number) => at(d * 86_400_000);
      for (const d of [0, 1, 5, 40])
        await store.responseTimes.recordAnswer(sample({ answeredAt: day(d), answer: 1 }));
      const first = dayOf(day(0));
      const read = await store.responseTimes.days(
        { kind: 'recruiter', id: recruiter },
        first + 1,
        first + 30,
      );
      expect(read.map((d) => d.day - first).sort((a, b) => a - b)).toEqual([1, 5]);
    });
  });
}
