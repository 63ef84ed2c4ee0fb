import { z } from 'zod';
import { type UserRole } from './entities.js';

// Response-time figures (issue 27): how quickly the recruiter side answers candidates, per
// conversation, per recruiter and per company, kept incrementally at send time and read over a
// window of days (LinkedIn's "typically responds within", Indeed's responsive employer).
//
// What is measured: in a direct conversation, a candidate's message opens a wait (the earliest
// unanswered one: many candidate messages before an answer count once, from the first); the
// next message of a recruiter answers it, one sample = answer time - wait start. A recruiter
// writing when nothing waits (outreach, a second message) is no answer. Groups, system and
// action messages, shadow-banned senders and admins never count.

const DAY_MS = 86_400_000;

export const RESPONSE_TIME_LIMITS = {
  /** The window of the figures, in days (today included). */
  windowDays: 30,
  /** The window when the short one holds fewer than `minSamples` answers. */
  fallbackWindowDays: 90,
  /** "Few": fewer answers than this in the 30 days makes the figures use 90. */
  minSamples: 10,
  /** A conversation keeps its latest answers' times (its median is over these). */
  samplesPerConversation: 20,
  /** Buckets per doubling of the histogram (log scale). */
  bucketsPerDoubling: 4,
  /** Samples above this are counted in the last bucket. */
  maxMs: 365 * DAY_MS,
  /** A subject's day counts are kept this long (longer than the longest window). */
  keepDays: 92,
} as const;

/**
 * Bucket 0 holds [0, 1 s); bucket i >= 1 holds [2^((i-1)/4), 2^(i/4)) seconds. Reading the
 * bucket's geometric middle, a median is within a factor 2^(1/8) (±9.1 %) of the exact one,
 * and within 0.5 s below 1 s.
 */
const FIRST_BOUND_MS = 1_000;
const LAST_BUCKET = Math.ceil(
  Math.log2(RESPONSE_TIME_LIMITS.maxMs / FIRST_BOUND_MS) * RESPONSE_TIME_LIMITS.bucketsPerDoubling,
);
/** How many buckets a histogram has. */
export const RESPONSE_TIME_BUCKETS = LAST_BUCKET + 1;
/** The largest relative error of a median read from the histogram (above 1 s). */
export const RESPONSE_TIME_RELATIVE_ERROR =
  2 ** (1 / (2 * RESPONSE_TIME_LIMITS.bucketsPerDoubling)) - 1;

export function bucketOf(ms: number): number {
  if (ms < FIRST_BOUND_MS) return 0;
  const i =
    Math.floor(Math.log2(ms / FIRST_BOUND_MS) * RESPONSE_TIME_LIMITS.bucketsPerDoubling) + 1;
  return Math.min(i, LAST_BUCKET);
}

/** What a bucket reads as: its geometric middle (0.5 s for the first). */
export function bucketValueMs(bucket: number): number {
  if (bucket <= 0) return FIRST_BOUND_MS / 2;
  const per = RESPONSE_TIME_LIMITS.bucketsPerDoubling;
  return Math.round(FIRST_BOUND_MS * 2 ** ((bucket - 0.5) / per));
}

/** The ring's samples, oldest first. */
export function latestOf(slots: readonly ({ n: number; ms: number } | undefined)[]): number[] {
  return slots
    .filter((s): s is { n: number; ms: number } => s !== undefined)
    .sort((a, b) => a.n - b.n)
    .map((s) => s.ms);
}

/** A histogram: bucket index -> count (absent: 0). */
export type Histogram = Record<number, number>;

/** The lower median's rank (1-based) of `n` values: the value with half or more at or below it. */
export const medianRank = (n: number) => Math.ceil(n / 2);

/** The median read from a histogram (null when empty). */
export function histogramMedianMs(h: Histogram): number | null {
  const total = Object.values(h).reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = medianRank(total);
  let seen = 0;
  for (const bucket of Object.keys(h)
    .map(Number)
    .sort((a, b) => a - b)) {
    seen += h[bucket] ?? 0;
    if (seen >= rank) return bucketValueMs(bucket);
  }
  return null;
}

/** The exact lower median of some values (null when none). */
export function exactMedianMs(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[medianRank(sorted.length) - 1]!;
}

/** Days since 1970-01-01 (UTC): the unit of the windows. */
export const dayOf = (at: Date) => Math.floor(at.getTime() / DAY_MS);

/** A recruiter, or a company (from the answering recruiter's token). */
export type ResponseSubject = { kind: 'recruiter' | 'company'; id: string };

/** Which side of the measure a sender's platform role is on (null: neither). */
export function responseSideOf(role: UserRole): 'candidate' | 'recruiter' | null {
  return role === 'candidate' || role === 'recruiter' ? role : null;
}

/** One answer: what the recruiter side's message ended. */
export interface ResponseSample {
  conversationId: string;
  recruiterId: string;
  /** The answering recruiter's company when the message was written (none: per recruiter only). */
  companyId?: string;
  answeredAt: Date;
  /** answeredAt - the earliest unanswered candidate message. */
  ms: number;
  /** Which answer of the conversation (0: its first, whose time is the time to first answer). */
  answer: number;
}

/** A conversation's figures as kept. */
export interface ConversationResponseTimes {
  conversationId: string;
  /** The first candidate message's time. */
  firstAwaitedAt?: Date;
  /** Waiting for an answer since (the earliest unanswered candidate message). */
  awaitingSince?: Date;
  firstAnswerAt?: Date;
  /** Time to first answer. */
  firstAnswerMs?: number;
  answers: number;
  /** The latest answers' times, oldest first (capped: samplesPerConversation). */
  recentMs: number[];
}

/** One subject's counts of one day. */
export interface ResponseDay {
  day: number;
  /** Every answer's time. */
  all: Histogram;
  /** Conversations' first answers' times. */
  first: Histogram;
}

/**
 * The figures' store. Writes are small and fixed per send; reads are bounded by the days of the
 * window. Counting is atomic across instances (two answers recorded at once both count).
 */
export interface ResponseTimeStore {
  /** A candidate's message at `at`: the conversation waits since the earliest unanswered one. */
  awaitAnswer(conversationId: string, at: Date): Promise<void>;
  /**
   * A recruiter's message at `at` ends the wait, atomically (of two racing answers one takes
   * it): what it waited since and which answer of the conversation it is (0: the first); null
   * when nothing waited.
   */
  takeAwaiting(conversationId: string, at: Date): Promise<{ since: Date; answer: number } | null>;
  /**
   * Adds the answer to the conversation's latest (slot `answer % samplesPerConversation`, so
   * a server that ignores `$slice` keeps the cap too) and to its recruiter's and company's day.
   */
  recordAnswer(sample: ResponseSample): Promise<void>;
  conversation(conversationId: string): Promise<ConversationResponseTimes | null>;
  /** The subject's days in [fromDay, toDay] that hold answers, in any order. */
  days(subject: ResponseSubject, fromDay: number, toDay: number): Promise<ResponseDay[]>;
}

/** The send path's part: where failures go (lost figures are counted, never the send's). */
export interface ResponseTimeRecording {
  /** A figure write failed; the send was stored and answered all the same. */
  lost?(error: unknown): void;
  /** Each figure write as it starts, after its message was stored (tests wait for them). */
  track?(write: Promise<void>): void;
}

/** Sums the days of the window ending at `today` (inclusive) into one histogram pair. */
export function sumDays(days: readonly ResponseDay[], today: number, windowDays: number) {
  const from = today - windowDays + 1;
  const all: Histogram = {};
  const first: Histogram = {};
  for (const d of days) {
    if (d.day < from || d.day > today) continue;
    for (const [b, n] of Object.entries(d.all)) all[Number(b)] = (all[Number(b)] ?? 0) + n;
    for (const [b, n] of Object.entries(d.first)) first[Number(b)] = (first[Number(b)] ?? 0) + n;
  }
  return { all, first };
}

const count = (h: Histogram) => Object.values(h).reduce((a, b) => a + b, 0);

/** A subject's figures at `today`: the 30-day window, or 90 when it holds few answers. */
export function subjectFigures(
  subject: ResponseSubject,
  days: readonly ResponseDay[],
  today: number,
): SubjectResponseTimes {
  const short = sumDays(days, today, RESPONSE_TIME_LIMITS.windowDays);
  const fallback = count(short.all) < RESPONSE_TIME_LIMITS.minSamples;
  const windowDays = fallback
    ? RESPONSE_TIME_LIMITS.fallbackWindowDays
    : RESPONSE_TIME_LIMITS.windowDays;
  const { all, first } = fallback ? sumDays(days, today, windowDays) : short;
  return {
    kind: subject.kind,
    id: subject.id,
    windowDays,
    answers: count(all),
    conversationsAnswered: count(first),
    medianResponseMs: histogramMedianMs(all),
    medianFirstAnswerMs: histogramMedianMs(first),
  };
}

const ms = (description: string) => z.number().int().min(0).nullable().meta({ description });

export const subjectResponseTimesSchema = z
  .object({
    kind: z.enum(['recruiter', 'company']),
    id: z.string(),
    windowDays: z.union([z.literal(30), z.literal(90)]).meta({
      description: `30, or 90 when the 30 days hold fewer than ${RESPONSE_TIME_LIMITS.minSamples} answers.`,
    }),
    answers: z.number().int().min(0).meta({ description: 'Answers in the window.' }),
    conversationsAnswered: z.number().int().min(0).meta({
      description: 'Conversations first answered in the window.',
    }),
    medianResponseMs: ms('Median time to answer a waiting candidate (±9.1 %, ±0.5 s below 1 s).'),
    medianFirstAnswerMs: ms('Median time to a conversation’s first answer (same resolution).'),
  })
  .meta({ id: 'SubjectResponseTimes' });
export type SubjectResponseTimes = z.output<typeof subjectResponseTimesSchema>;

const timestamp = z.iso.datetime();
export const conversationResponseTimesSchema = z
  .object({
    conversationId: z.string(),
    firstAwaitedAt: timestamp.optional().meta({ description: 'The first candidate message.' }),
    awaitingSince: timestamp
      .optional()
      .meta({ description: 'Unanswered since (the earliest candidate message not answered).' }),
    firstAnswerAt: timestamp.optional(),
    firstAnswerMs: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Time to first answer.' }),
    answers: z.number().int().min(0),
    recentMs: z.array(z.number().int().min(0)).meta({
      description: `The latest ${RESPONSE_TIME_LIMITS.samplesPerConversation} answers’ times, oldest first (exact).`,
    }),
    medianRecentMs: ms('The median of `recentMs` (exact).'),
  })
  .meta({ id: 'ConversationResponseTimes' });
export type ConversationResponseTimesDto = z.output<typeof conversationResponseTimesSchema>;

export function toConversationResponseTimesDto(
  c: ConversationResponseTimes,
): ConversationResponseTimesDto {
  return {
    conversationId: c.conversationId,
    ...(c.firstAwaitedAt && { firstAwaitedAt: c.firstAwaitedAt.toISOString() }),
    ...(c.awaitingSince && { awaitingSince: c.awaitingSince.toISOString() }),
    ...(c.firstAnswerAt && { firstAnswerAt: c.firstAnswerAt.toISOString() }),
    ...(c.firstAnswerMs !== undefined && { firstAnswerMs: c.firstAnswerMs }),
    answers: c.answers,
    recentMs: c.recentMs,
    medianRecentMs: exactMedianMs(c.recentMs),
  };
}
