import {
  RESPONSE_TIME_LIMITS,
  bucketOf,
  dayOf,
  latestOf,
  type ConversationResponseTimes,
  type Histogram,
  type ResponseDay,
  type ResponseSample,
  type ResponseSubject,
  type ResponseTimeStore,
} from '@jobsphere/chat-domain';
import { Schema, type Connection, type mongo } from 'mongoose';
import { isDuplicateKey } from './driver-errors.js';

// Response-time figures (issue 27): one document per conversation (the wait, the first answer,
// a ring of the latest answers) and one per (recruiter or company, day) holding two log-scale
// histograms as counters. Every write is a single-document update (atomic across instances:
// `$inc` on counters, `$min` on times, one findAndModify taking a wait); every read is by `_id`.

type Slot = { n: number; ms: number };
type WriteError = { index: number; code?: number };

interface ConversationFiguresDoc {
  _id: string;
  awaitingSince?: Date;
  firstAwaitedAt?: Date;
  firstAnswerAt?: Date;
  firstAnswerMs?: number;
  answers?: number;
  /** `s<answer % samplesPerConversation>` -> the answer's number and time. */
  recent?: Record<string, Slot>;
}

interface DayDoc {
  /** `<kind>:<id>:<day>`. */
  _id: string;
  day: number;
  /** `b<bucket>` -> count. */
  all?: Record<string, number>;
  first?: Record<string, number>;
  expireAt: Date;
}

const conversationSchema = new Schema<ConversationFiguresDoc>(
  {
    _id: { type: String, required: true },
    awaitingSince: Date,
    firstAwaitedAt: Date,
    firstAnswerAt: Date,
    firstAnswerMs: Number,
    answers: Number,
    recent: { type: Schema.Types.Mixed },
  },
  { collection: 'response_conversations', versionKey: false, autoIndex: false },
);

const daySchema = new Schema<DayDoc>(
  {
    _id: { type: String, required: true },
    day: { type: Number, required: true },
    all: { type: Schema.Types.Mixed },
    first: { type: Schema.Types.Mixed },
    expireAt: { type: Date, required: true },
  },
  { collection: 'response_days', versionKey: false, autoIndex: false },
);
// A day's counts go once no window reads them any more.
daySchema.index({ expireAt: 1 }, { expireAfterSeconds: 0 });

const DAY_MS = 86_400_000;
const dayId = (s: ResponseSubject, day: number) => `${s.kind}:${s.id}:${day}`;

function histogramOf(counts: Record<string, number> | undefined): Histogram {
  const h: Histogram = {};
  for (const [key, n] of Object.entries(counts ?? {})) h[Number(key.slice(1))] = n;
  return h;
}

export class MongoResponseTimes implements ResponseTimeStore {
  private readonly conversations: mongo.Collection<ConversationFiguresDoc>;
  private readonly days_: mongo.Collection<DayDoc>;

  constructor(connection: Connection) {
    // Registered on the connection: `connect` builds their indexes with the others'.
    this.conversations = connection.model('ResponseConversation', conversationSchema)
      .collection as unknown as mongo.Collection<ConversationFiguresDoc>;
    this.days_ = connection.model('ResponseDay', daySchema)
      .collection as unknown as mongo.Collection<DayDoc>;
  }

  async awaitAnswer(conversationId: string, at: Date): Promise<void> {
    const update = { $min: { awaitingSince: at, firstAwaitedAt: at } };
    await upsertOnce((upsert) =>
      this.conversations.updateOne({ _id: conversationId }, update, { upsert }),
    );
  }

  async takeAwaiting(
    conversationId: string,
    at: Date,
  ): Promise<{ since: Date; answer: number } | null> {
    const before = await this.conversations.findOneAndUpdate(
      { _id: conversationId, awaitingSince: { $exists: true } },
      { $unset: { awaitingSince: '' }, $min: { firstAnswerAt: at }, $inc: { answers: 1 } },
      { returnDocument: 'before', projection: { awaitingSince: 1, answers: 1 } },
    );
    if (!before?.awaitingSince) return null;
    return { since: before.awaitingSince, answer: before.answers ?? 0 };
  }

  async recordAnswer(sample: ResponseSample): Promise<void> {
    const first = sample.answer === 0;
    const slot = `recent.s${sample.answer % RESPONSE_TIME_LIMITS.samplesPerConversation}`;
    const day = dayOf(sample.answeredAt);
    const bucket = `b${bucketOf(sample.ms)}`;
    const subjects: ResponseSubject[] = [{ kind: 'recruiter', id: sample.recruiterId }];
    if (sample.companyId !== undefined) subjects.push({ kind: 'company', id: sample.companyId });
    const dayUpdate = {
      $inc: { [`all.${bucket}`]: 1, ...(first && { [`first.${bucket}`]: 1 }) },
      $setOnInsert: {
        day,
        expireAt: new Date((day + RESPONSE_TIME_LIMITS.keepDays) * DAY_MS),
      },
    };
    // Both at once: the conversation's slot and the subjects' days (one bulk command).
    await Promise.all([
      this.conversations.updateOne(
        { _id: sample.conversationId },
        {
          $set: {
            [slot]: { n: sample.answer, ms: sample.ms },
            ...(first && { firstAnswerMs: sample.ms }),
          },
        },
      ),
      this.incrementDays(
        subjects.map((s) => dayId(s, day)),
        dayUpdate,
      ),
    ]);
  }

  /**
   * `$inc` on each day document, created by the first (upsert). Two first upserts racing on a
   * server that does not retry them itself: the loser's duplicate-key error is answered by
   * applying that one again, now an update of the existing document (each counted once).
   */
  private async incrementDays(ids: string[], update: object): Promise<void> {
    const ops = (which: string[]) =>
      which.map((_id) => ({ updateOne: { filter: { _id }, update, upsert: true } }));
    try {
      await this.days_.bulkWrite(ops(ids), { ordered: false });
    } catch (error) {
      // The driver gives one write error or a list of them.
      const found = (error as { writeErrors?: WriteError | WriteError[] }).writeErrors;
      const failed = found === undefined ? [] : ([] as WriteError[]).concat(found);
      if (failed.length === 0 || !failed.every((e) => isDuplicateKey(e))) throw error;
      await this.days_.bulkWrite(ops(failed.map((e) => ids[e.index]!)), { ordered: false });
    }
  }

  async conversation(conversationId: string): Promise<ConversationResponseTimes | null> {
    const doc = await this.conversations.findOne({ _id: conversationId });
    if (!doc) return null;
    return {
      conversationId,
      ...(doc.firstAwaitedAt && { firstAwaitedAt: doc.firstAwaitedAt }),
      ...(doc.awaitingSince && { awaitingSince: doc.awaitingSince }),
      ...(doc.firstAnswerAt && { firstAnswerAt: doc.firstAnswerAt }),
      ...(doc.firstAnswerMs !== undefined && { firstAnswerMs: doc.firstAnswerMs }),
      answers: doc.answers ?? 0,
      recentMs: latestOf(Object.values(doc.recent ?? {})),
    };
  }

  async days(subject: ResponseSubject, fromDay: number, toDay: number): Promise<ResponseDay[]> {
    const ids: string[] = [];
    for (let day = fromDay; day <= toDay; day++) ids.push(dayId(subject, day));
    const docs = await this.days_.find({ _id: { $in: ids } }).toArray();
    return docs.map((d) => ({ day: d.day, all: histogramOf(d.all), first: histogramOf(d.first) }));
  }
}

/** An upsert that two instances may race: the loser's duplicate key is retried as an update. */
async function upsertOnce(write: (upsert: boolean) => Promise<unknown>): Promise<void> {
  try {
    await write(true);
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    await write(false);
  }
}
