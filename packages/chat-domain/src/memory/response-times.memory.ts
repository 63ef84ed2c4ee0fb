import {
  RESPONSE_TIME_LIMITS,
  bucketOf,
  dayOf,
  latestOf,
  type ConversationResponseTimes,
  type ResponseDay,
  type ResponseSample,
  type ResponseSubject,
  type ResponseTimeStore,
} from '../response-times.js';

const clone = <T>(value: T): T => structuredClone(value);
const subjectKey = (s: ResponseSubject, day: number) => `${s.kind}:${s.id}:${day}`;

/** Response-time figures in one process; each operation runs to completion before the next. */
export class MemoryResponseTimes implements ResponseTimeStore {
  private readonly conversations = new Map<string, ConversationResponseTimes>();
  private readonly dayCounts = new Map<string, ResponseDay>();
  /** The latest answers' slots, per conversation (a ring, as the MongoDB store keeps them). */
  private readonly recent = new Map<string, { n: number; ms: number }>();

  private of(conversationId: string): ConversationResponseTimes {
    let c = this.conversations.get(conversationId);
    if (!c) {
      c = { conversationId, answers: 0, recentMs: [] };
      this.conversations.set(conversationId, c);
    }
    return c;
  }

  async awaitAnswer(conversationId: string, at: Date): Promise<void> {
    const c = this.of(conversationId);
    if (!c.awaitingSince || at < c.awaitingSince) c.awaitingSince = at;
    if (!c.firstAwaitedAt || at < c.firstAwaitedAt) c.firstAwaitedAt = at;
  }

  async takeAwaiting(
    conversationId: string,
    at: Date,
  ): Promise<{ since: Date; answer: number } | null> {
    const c = this.conversations.get(conversationId);
    if (!c?.awaitingSince) return null;
    const since = c.awaitingSince;
    delete c.awaitingSince;
    if (!c.firstAnswerAt || at < c.firstAnswerAt) c.firstAnswerAt = at;
    const answer = c.answers;
    c.answers += 1;
    return { since, answer };
  }

  async recordAnswer(sample: ResponseSample): Promise<void> {
    const c = this.of(sample.conversationId);
    const slot = sample.answer % RESPONSE_TIME_LIMITS.samplesPerConversation;
    this.recent.set(`${sample.conversationId}:${slot}`, { n: sample.answer, ms: sample.ms });
    const first = sample.answer === 0;
    if (first) c.firstAnswerMs = sample.ms;
    const day = dayOf(sample.answeredAt);
    const bucket = bucketOf(sample.ms);
    const subjects: ResponseSubject[] = [{ kind: 'recruiter', id: sample.recruiterId }];
    if (sample.companyId !== undefined) subjects.push({ kind: 'company', id: sample.companyId });
    for (const subject of subjects) {
      const key = subjectKey(subject, day);
      const d = this.dayCounts.get(key) ?? { day, all: {}, first: {} };
      d.all[bucket] = (d.all[bucket] ?? 0) + 1;
      if (first) d.first[bucket] = (d.first[bucket] ?? 0) + 1;
      this.dayCounts.set(key, d);
    }
  }

  async conversation(conversationId: string): Promise<ConversationResponseTimes | null> {
    const c = this.conversations.get(conversationId);
    if (!c) return null;
    const slots = Array.from({ length: RESPONSE_TIME_LIMITS.samplesPerConversation }, (_, i) =>
      this.recent.get(`${conversationId}:${i}`),
    );
    return { ...clone(c), recentMs: latestOf(slots) };
  }

  async days(subject: ResponseSubject, fromDay: number, toDay: number): Promise<ResponseDay[]> {
    const found: ResponseDay[] = [];
    for (let day = fromDay; day <= toDay; day++) {
      const d = this.dayCounts.get(subjectKey(subject, day));
      if (d) found.push(clone(d));
    }
    return found;
  }
}
