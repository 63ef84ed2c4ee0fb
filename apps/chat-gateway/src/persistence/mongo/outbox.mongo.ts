import {
  decodeActivityCursor,
  nextCursorOf,
  type DeadLetterPolicy,
  type NewOutboxEntry,
  type OutboxEntry,
  type OutboxStore,
} from '@jobsphere/chat-domain';
import { isDuplicateKey } from './driver-errors.js';
import type { Models, OutboxDoc } from './models.js';

// The server API's outbox: webhook events and offline checks, written with the change.

/** Dead letters past the cap removed per new dead letter: the cap is caught up with quickly. */
const TRIM_BATCH = 100;
/** Entries about one message rewritten at most (edits are budgeted, so far fewer exist). */
const REDACT_LIMIT = 1_000;

/** Not past its expiry (dead letters from before expiry existed have none). */
const unexpired = (now: Date) => ({
  $or: [{ expireAt: { $exists: false } }, { expireAt: { $gt: now } }],
});

function toEntry(doc: OutboxDoc): OutboxEntry {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest, authors: rest.authors ?? [] };
}

export class MongoOutbox implements OutboxStore {
  constructor(private readonly model: Models['outbox']) {}

  async enqueue(entries: NewOutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const docs: OutboxDoc[] = entries.map(({ id, ...rest }) => ({
      _id: id,
      ...rest,
      state: 'pending',
      attempts: 0,
    }));
    try {
      await this.model.collection.insertMany(docs, { ordered: false });
    } catch (error) {
      // Ids already there were written by an earlier attempt of the same step: that is the point.
      const writeErrors = (error as { writeErrors?: { code?: number }[] }).writeErrors;
      const onlyDuplicates = writeErrors
        ? writeErrors.every((e) => e.code === 11000)
        : isDuplicateKey(error);
      if (!onlyDuplicates) throw error;
    }
  }

  async claim(now: Date, leaseMs: number, lease: string): Promise<OutboxEntry | null> {
    const doc = await this.model.collection.findOneAndUpdate(
      { state: 'pending', dueAt: { $lte: now } },
      { $set: { dueAt: new Date(now.getTime() + leaseMs), lease }, $inc: { attempts: 1 } },
      { sort: { dueAt: 1 }, returnDocument: 'after' },
    );
    return doc ? toEntry(doc) : null;
  }

  async complete(id: string): Promise<void> {
    await this.model.collection.deleteOne({ _id: id });
  }

  async settle(id: string, expireAt: Date): Promise<void> {
    await this.model.collection.updateOne(
      { _id: id },
      { $set: { state: 'done', expireAt }, $unset: { lease: 1 } },
    );
  }

  async retry(id: string, lease: string, dueAt: Date, error: string): Promise<void> {
    await this.model.collection.updateOne(
      { _id: id, lease, state: 'pending' },
      { $set: { dueAt, lastError: error } },
    );
  }

  async deadLetter(
    id: string,
    lease: string,
    error: string,
    policy: DeadLetterPolicy,
  ): Promise<void> {
    const result = await this.model.collection.updateOne(
      { _id: id, lease, state: 'pending' },
      // The TTL index removes it at expireAt; listDead already hides it from then on.
      { $set: { state: 'dead', lastError: error, expireAt: policy.expireAt } },
    );
    if (result.modifiedCount === 0) return;
    // The cap: each new dead letter removes what is past the newest `keep` (a bounded batch).
    const beyond = await this.model.collection
      .find({ state: 'dead' }, { projection: { _id: 1 } })
      .sort({ createdAt: -1, _id: -1 })
      .skip(policy.keep)
      .limit(TRIM_BATCH)
      .toArray();
    if (beyond.length > 0)
      await this.model.collection.deleteMany({
        _id: { $in: beyond.map((d) => d._id) },
        state: 'dead',
      });
  }

  async listDead(page: { limit: number; cursor?: string }, now: Date) {
    const filter: Record<string, unknown> = { state: 'dead', $and: [unexpired(now)] };
    if (page.cursor) {
      const { at, id } = decodeActivityCursor(page.cursor);
      filter['$and'] = [
        unexpired(now),
        { $or: [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: id } }] },
      ];
    }
    const docs = await this.model.collection
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(page.limit + 1)
      .toArray();
    const entries = docs.slice(0, page.limit).map(toEntry);
    return {
      entries,
      ...nextCursorOf(docs.length, page.limit, entries, (i) => [i.createdAt, i.id]),
    };
  }

  async replay(id: string, now: Date): Promise<boolean> {
    const result = await this.model.collection.updateOne(
      { _id: id, state: 'dead', ...unexpired(now) },
      {
        $set: { state: 'pending', attempts: 0, dueAt: now },
        $unset: { lastError: 1, lease: 1, expireAt: 1 },
      },
    );
    return result.matchedCount === 1;
  }

  async redact(subject: string, payload: (entry: OutboxEntry) => string): Promise<number> {
    // A message has a handful of entries (its creation and edits, per endpoint); bounded anyway.
    const docs = await this.model.collection.find({ subject }).limit(REDACT_LIMIT).toArray();
    await Promise.all(
      docs.map((doc) =>
        this.model.collection.updateOne(
          { _id: doc._id },
          { $set: { payload: payload(toEntry(doc)) } },
        ),
      ),
    );
    return docs.length;
  }

  async forgetAuthor(userId: string): Promise<number> {
    return (await this.model.collection.deleteMany({ authors: userId })).deletedCount;
  }
}
