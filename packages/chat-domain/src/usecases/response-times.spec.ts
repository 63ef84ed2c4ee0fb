import {
  RESPONSE_TIME_LIMITS,
  RESPONSE_TIME_RELATIVE_ERROR,
  createChat,
  createPlatform,
  dayOf,
  exactMedianMs,
  runDueScheduled,
  type Chat,
  type ChatDeps,
  type Message,
  type Platform,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const service = { service: 'ats', scopes: ['conversations:write' as const] };

/** A small deterministic PRNG (mulberry32): the seeded history is the same on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('response-time figures (memory store, fake clock)', () => {
  let clock: FakeClock;
  let store: MemoryChatStore;
  let deps: ChatDeps;
  let chat: Chat;
  let platform: Platform;
  let writes: Promise<void>[];
  let lost: unknown[];
  let opened = 0;
  /** Every figure write started so far has finished. */
  const settled = async () => {
    await Promise.all(writes);
  };
  const open = async (a: string, b: string, kind: 'direct' | 'group' = 'direct') =>
    (
      await platform.open(service, {
        idempotencyKey: `open-${++opened}`,
        kind,
        memberIds: [a, b],
        ...(kind === 'group' && { title: 'Panel' }),
      })
    ).conversation.id;
  let sent = 0;
  const send = (p: Principal, conversationId: string, body = 'hello') =>
    chat.send(p, { conversationId, clientMessageId: `m${++sent}`, body });
  const figuresOf = (kind: 'recruiter' | 'company', id: string) =>
    platform.subjectResponseTimes({ kind, id });

  const candidate: Principal = { userId: 'cand', role: 'candidate' };
  const recruiter: Principal = { userId: 'rita', role: 'recruiter', companyId: 'acme' };

  beforeEach(() => {
    clock = new FakeClock(Date.UTC(2026, 5, 1, 9));
    store = new MemoryChatStore();
    writes = [];
    lost = [];
    deps = {
      store,
      fanout: new RecordingFanOut(),
      clock,
      responseTimes: { track: (w) => writes.push(w), lost: (e) => lost.push(e) },
    };
    chat = createChat(deps);
    platform = createPlatform(deps);
  });

  it('matches a reference computed from the raw messages of a seeded 120-day history, within the stated bound', async () => {
    const next = random(27);
    const companyOf: Record<string, string> = {
      r0: 'acme',
      r1: 'acme',
      r2: 'globex',
      r3: 'globex',
    };
    const recruiters = Object.keys(companyOf).map((userId): Principal => ({
      userId,
      role: 'recruiter',
      companyId: companyOf[userId]!,
    }));
    const candidates = Array.from({ length: 12 }, (_, i): Principal => ({
      userId: `c${i}`,
      role: 'candidate',
    }));
    const conversations: { id: string; candidate: Principal; recruiter: Principal }[] = [];
    for (const c of candidates)
      for (const r of recruiters)
        if (next() < 0.5)
          conversations.push({ id: await open(c.userId, r.userId), candidate: c, recruiter: r });
    const start = clock.ms;
    // 120 days of planned events, then sent in time order on the fake clock: per conversation,
    // candidate bursts (1-3 messages minutes apart); each answered (or not) by the recruiter
    // after 5 s to 5 days (log-uniform, scaled by how quick that recruiter is), sometimes twice;
    // and now and then recruiter outreach. r3 seldom answers: its figures use 90 days.
    const style = {
      r0: { answers: 0.9, speed: 0.1 },
      r1: { answers: 0.8, speed: 1 },
      r2: { answers: 0.7, speed: 4 },
      r3: { answers: 0.1, speed: 1 },
    } as Record<string, { answers: number; speed: number }>;
    const events: { at: number; by: Principal; id: string }[] = [];
    for (const c of conversations) {
      const { answers, speed } = style[c.recruiter.userId]!;
      for (let burst = 0; burst < 12; burst++) {
        let at = start + Math.floor(next() * 120 * DAY);
        const messages = 1 + Math.floor(next() * 3);
        for (let m = 0; m < messages; m++, at += Math.floor(next() * 30 * MIN))
          events.push({ at, by: c.candidate, id: c.id });
        if (next() < answers) {
          const delay = Math.exp(Math.log(5_000) + next() * Math.log((5 * DAY) / 5_000)) * speed;
          events.push({ at: at + Math.floor(delay), by: c.recruiter, id: c.id });
          if (next() < 0.3)
            events.push({ at: at + Math.floor(delay) + MIN, by: c.recruiter, id: c.id });
        }
        if (next() < 0.2)
          events.push({ at: start + Math.floor(next() * 120 * DAY), by: c.recruiter, id: c.id });
      }
    }
    events.sort((a, b) => a.at - b.at);
    for (const e of events.filter((e) => e.at <= start + 120 * DAY)) {
      clock.ms = Math.max(clock.ms, e.at);
      await send(e.by, e.id);
    }
    clock.ms = start + 120 * DAY;
    await settled();
    expect(lost).toEqual([]);

    // The reference: the raw stored messages, walked in order, independently of the figures.
    const roleOf = (userId: string) => (userId.startsWith('c') ? 'candidate' : 'recruiter');
    const samples: { ms: number; at: number; recruiter: string; first: boolean }[] = [];
    const perConversation = new Map<string, number[]>();
    let raw = 0;
    for (const c of conversations) {
      const messages: Message[] = await store.messages.page(c.id, { after: 0, limit: 10_000 });
      raw += messages.length;
      let waiting: number | null = null;
      const mine: number[] = [];
      for (const m of messages) {
        const at = m.createdAt.getTime();
        if (roleOf(m.senderId) === 'candidate') waiting ??= at;
        else if (waiting !== null) {
          samples.push({ ms: at - waiting, at, recruiter: m.senderId, first: mine.length === 0 });
          mine.push(at - waiting);
          waiting = null;
        }
      }
      perConversation.set(c.id, mine);
    }
    const today = dayOf(clock.now());
    const reference = (pick: (s: (typeof samples)[number]) => boolean) => {
      const within = (days: number) =>
        samples.filter((s) => pick(s) && dayOf(new Date(s.at)) > today - days);
      const short = within(RESPONSE_TIME_LIMITS.windowDays);
      const windowDays =
        short.length < RESPONSE_TIME_LIMITS.minSamples
          ? RESPONSE_TIME_LIMITS.fallbackWindowDays
          : RESPONSE_TIME_LIMITS.windowDays;
      const used = within(windowDays);
      return {
        windowDays,
        answers: used.length,
        conversationsAnswered: used.filter((s) => s.first).length,
        median: exactMedianMs(used.map((s) => s.ms)),
        firstMedian: exactMedianMs(used.filter((s) => s.first).map((s) => s.ms)),
      };
    };
    /** The histogram's reading is within ±9.1 % (±0.5 s below 1 s; +1 ms of rounding). */
    const close = (served: number | null, exact: number | null) => {
      if (exact === null) return served === null;
      if (served === null) return false;
      const bound = exact < 1_000 ? 500 : exact * RESPONSE_TIME_RELATIVE_ERROR + 1;
      return Math.abs(served - exact) <= bound;
    };
    const subjects = [
      ...recruiters.map((r) => ({
        kind: 'recruiter' as const,
        id: r.userId,
        pick: (s: (typeof samples)[number]) => s.recruiter === r.userId,
      })),
      ...['acme', 'globex'].map((id) => ({
        kind: 'company' as const,
        id,
        pick: (s: (typeof samples)[number]) => companyOf[s.recruiter] === id,
      })),
    ];
    const report: string[] = [];
    const reportWindows: number[] = [];
    for (const subject of subjects) {
      const served = await figuresOf(subject.kind, subject.id);
      const want = reference(subject.pick);
      expect(served).toMatchObject({
        windowDays: want.windowDays,
        answers: want.answers,
        conversationsAnswered: want.conversationsAnswered,
      });
      expect(close(served.medianResponseMs, want.median)).toBe(true);
      expect(close(served.medianFirstAnswerMs, want.firstMedian)).toBe(true);
      reportWindows.push(want.windowDays);
      report.push(
        `${subject.kind} ${subject.id}: ${want.answers} answers over ${want.windowDays} days, median ${served.medianResponseMs} ms (exact ${want.median})`,
      );
    }
    for (const c of conversations) {
      const served = await platform.conversationResponseTimes(c.id);
      const mine = perConversation.get(c.id)!;
      expect(served.answers).toBe(mine.length);
      expect(served.recentMs).toEqual(mine.slice(-RESPONSE_TIME_LIMITS.samplesPerConversation));
      if (mine.length > 0) expect(served.firstAnswerMs).toBe(mine[0]);
    }
    console.log(
      `[figure] seeded history: ${raw} messages, ${samples.length} answers\n  ${report.join('\n  ')}`,
    );
    expect(samples.length).toBeGreaterThan(150);
    // Both windows are exercised.
    expect(new Set(reportWindows)).toEqual(new Set([30, 90]));
  });

  it('counts a candidate’s many messages before an answer once, from the first', async () => {
    const id = await open('cand', 'rita');
    await send(candidate, id, 'Hi');
    clock.advance(10 * MIN);
    await send(candidate, id, 'Are you there?');
    clock.advance(50 * MIN);
    await send(candidate, id, 'Hello?');
    clock.advance(HOUR);
    await send(recruiter, id, 'Sorry, yes');
    clock.advance(MIN);
    await send(recruiter, id, 'Interview Monday?');
    await settled();
    expect(await platform.conversationResponseTimes(id)).toMatchObject({
      answers: 1,
      firstAnswerMs: 2 * HOUR,
      recentMs: [2 * HOUR],
      medianRecentMs: 2 * HOUR,
    });
    expect(await figuresOf('recruiter', 'rita')).toMatchObject({
      answers: 1,
      conversationsAnswered: 1,
    });
    expect(await figuresOf('company', 'acme')).toMatchObject({ answers: 1 });
  });

  it('leaves the group beside the direct conversation out, and outreach is no answer', async () => {
    const group = await open('cand', 'rita', 'group');
    await send(candidate, group);
    clock.advance(HOUR);
    await send(recruiter, group);
    // Outreach: the recruiter writes first, twice; nothing waits, nothing is an answer.
    const direct = await open('cand', 'rita');
    await send(recruiter, direct, 'We saw your profile');
    clock.advance(DAY);
    await send(recruiter, direct, 'Following up');
    await settled();
    expect((await figuresOf('recruiter', 'rita')).answers).toBe(0);
    expect(await platform.conversationResponseTimes(group)).toMatchObject({
      answers: 0,
      recentMs: [],
    });
    expect(await platform.conversationResponseTimes(direct)).toMatchObject({
      answers: 0,
      recentMs: [],
    });
    // The candidate's reply opens a wait; the next recruiter message answers it.
    clock.advance(HOUR);
    await send(candidate, direct, 'Interested!');
    clock.advance(30 * MIN);
    await send(recruiter, direct, 'Great');
    await settled();
    expect(await platform.conversationResponseTimes(direct)).toMatchObject({
      answers: 1,
      firstAnswerMs: 30 * MIN,
    });
    expect(await figuresOf('recruiter', 'rita')).toMatchObject({
      windowDays: 90,
      answers: 1,
      medianResponseMs: expect.any(Number),
    });
  });

  it('uses 30 days (day 30 in, day 31 out) once they hold enough answers, else 90 (day 90 in, 91 out)', async () => {
    const answerAt = async (daysAgo: number, n: number, ms = HOUR) => {
      for (let i = 0; i < n; i++) {
        await store.responseTimes.recordAnswer({
          conversationId: `c-${daysAgo}-${i}`,
          recruiterId: 'rita',
          companyId: 'acme',
          answeredAt: new Date(clock.ms - daysAgo * DAY),
          ms,
          answer: 0,
        });
      }
    };
    // Day 30 of the window (29 days before today): 10 answers, enough for the short window.
    await answerAt(29, RESPONSE_TIME_LIMITS.minSamples, HOUR);
    // Day 31: outside it.
    await answerAt(30, 1, 50 * DAY);
    expect(await figuresOf('recruiter', 'rita')).toMatchObject({ windowDays: 30, answers: 10 });
    // A day later the ten are on day 31: too few in 30 days, so 90 (with the older one).
    clock.advance(DAY);
    expect(await figuresOf('company', 'acme')).toMatchObject({ windowDays: 90, answers: 11 });
    // Day 90 of the long window counts; 89 days later the ten are on day 91 and leave it.
    clock.advance(59 * DAY);
    expect(await figuresOf('recruiter', 'rita')).toMatchObject({ windowDays: 90, answers: 10 });
    clock.advance(DAY);
    expect(await figuresOf('recruiter', 'rita')).toMatchObject({
      windowDays: 90,
      answers: 0,
      medianResponseMs: null,
      medianFirstAnswerMs: null,
    });
  });

  it('counts a scheduled send as its sender’s answer, for the company named when it was written', async () => {
    const id = await open('cand', 'rita');
    await chat.schedule(recruiter, {
      conversationId: id,
      body: 'Checking in',
      sendAt: new Date(clock.ms + DAY).toISOString(),
      followUp: false,
    });
    clock.advance(2 * HOUR);
    await send(candidate, id, 'Any news?');
    clock.advance(DAY);
    // The worker holds no token: the entry kept the company of the token that wrote it.
    expect(await runDueScheduled(deps, 'w1', 30_000)).toBe(true);
    await settled();
    expect(await platform.conversationResponseTimes(id)).toMatchObject({ firstAnswerMs: DAY });
    expect((await figuresOf('company', 'acme')).answers).toBe(1);
    expect((await figuresOf('recruiter', 'rita')).answers).toBe(1);
  });

  it('never fails or holds a stored send: a figure write that fails is counted as lost', async () => {
    const id = await open('cand', 'rita');
    await send(candidate, id);
    await settled();
    const failing = store.responseTimes;
    failing.takeAwaiting = () => Promise.reject(new Error('store down'));
    clock.advance(MIN);
    const answer = await send(recruiter, id, 'Here');
    expect(answer.duplicate).toBe(false);
    await settled();
    expect(lost).toHaveLength(1);
    // The message is stored all the same, and a repeat of it is no second answer.
    expect((await store.messages.page(id, { limit: 10 })).map((m) => m.body)).toEqual([
      'hello',
      'Here',
    ]);
  });

  it('counts a repeated clientMessageId once, and admins never', async () => {
    const id = await open('cand', 'rita');
    await send(candidate, id);
    clock.advance(MIN);
    const input = { conversationId: id, clientMessageId: 'answer-1', body: 'Hi' };
    await chat.send(recruiter, input);
    await settled();
    await send(candidate, id);
    clock.advance(MIN);
    await chat.send(recruiter, input); // a retry: the stored message, no answer
    await chat.send({ userId: 'rita', role: 'admin' }, { ...input, clientMessageId: 'x' });
    await settled();
    expect((await platform.conversationResponseTimes(id)).answers).toBe(1);
    expect((await platform.conversationResponseTimes(id)).awaitingSince).toBeDefined();
  });

  it('answers NOT_FOUND for an unknown conversation, and empty figures for one nobody waited in', async () => {
    await expect(
      platform.conversationResponseTimes('0123456789abcdef01234567'),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const id = await open('cand', 'rita');
    expect(await platform.conversationResponseTimes(id)).toEqual({
      conversationId: id,
      answers: 0,
      recentMs: [],
      medianRecentMs: null,
    });
  });
});
