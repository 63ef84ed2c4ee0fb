import {
  type NewScheduledSend,
  type ScheduledFinish,
  type ScheduledSend,
  type ScheduledSendStore,
} from '@jobsphere/chat-domain';
import { Schema, Types, type Connection, type mongo } from 'mongoose';
import { CapCounter } from './cap-counter.js';

// Scheduled and follow-up sends (issue 27): a queue with leases like the outbox, and a counter
// per sender that keeps the cap on waiting sends atomic across instances.

interface ScheduledDoc extends Omit<ScheduledSend, 'id'> {
  _id: string;
}

interface CounterDoc {
  _id: string;
  pending: number;
}

const scheduledSchema = new Schema<ScheduledDoc>(
  {
    _id: { type: String, required: true },
    senderId: { type: String, required: true },
    senderRole: { type: String, required: true },
    senderCompanyId: String,
    conversationId: { type: String, required: true },
    body: { type: String, required: true },
    sendAt: { type: Date, required: true },
    followUp: { type: Schema.Types.Mixed },
    state: { type: String, required: true },
    attempts: { type: Number, required: true },
    dueAt: { type: Date, required: true },
    lease: String,
    createdAt: { type: Date, required: true },
    messageId: String,
    outcome: String,
    expireAt: Date,
  },
  { collection: 'scheduled_sends', versionKey: false, autoIndex: false },
);
// What a worker claims: the pending entry due first.
scheduledSchema.index({ state: 1, dueAt: 1 });
// A sender's list.
scheduledSchema.index({ senderId: 1, state: 1, sendAt: 1 });
scheduledSchema.index({ expireAt: 1 }, { expireAfterSeconds: 0 });

const counterSchema = new Schema<CounterDoc>(
  { _id: { type: String, required: true }, pending: { type: Number, required: true } },
  { collection: 'scheduled_counters', versionKey: false, autoIndex: false },
);

function toEntry(doc: ScheduledDoc): ScheduledSend {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}

export class MongoScheduled implements ScheduledSendStore {
  private readonly entries: mongo.Collection<ScheduledDoc>;
  private readonly places: CapCounter<'pending'>;

  constructor(connection: Connection) {
    // Registered on the connection: `connect` builds their indexes with the others'.
    this.entries = connection.model('ScheduledSend', scheduledSchema)
      .collection as unknown as mongo.Collection<ScheduledDoc>;
    this.places = new CapCounter(
      connection.model('ScheduledCounter', counterSchema)
        .collection as unknown as mongo.Collection<CounterDoc>,
      'pending',
    );
  }

  async create(entry: NewScheduledSend, maxPending: number): Promise<ScheduledSend | null> {
    if (!(await this.places.take(entry.senderId, maxPending))) return null;
    const doc: ScheduledDoc = {
      _id: new Types.ObjectId().toHexString(),
      ...entry,
      state: 'pending',
      attempts: 0,
      dueAt: entry.sendAt,
    };
    try {
      await this.entries.insertOne(doc);
    } catch (error) {
      await this.places.free(entry.senderId).catch(() => undefined);
      throw error;
    }
    return toEntry(doc);
  }

  async get(id: string): Promise<ScheduledSend | null> {
    const doc = await this.entries.findOne({ _id: id });
    return doc ? toEntry(doc) : null;
  }

  async listForSender(senderId: string, limit: number, now: Date): Promise<ScheduledSend[]> {
    const pending = await this.entries
      .find({ senderId, state: 'pending' })
      .sort({ sendAt: 1 })
      .limit(limit)
      .toArray();
    const rest = limit - pending.length;
    const finished =
      rest > 0
        ? await this.entries
            .find({ senderId, state: { $ne: 'pending' }, expireAt: { $gt: now } })
            .sort({ sendAt: -1 })
            .limit(rest)
            .toArray()
        : [];
    return [...pending, ...finished].map(toEntry);
  }

  async edit(
    id: string,
    senderId: string,
    change: { body?: string; sendAt?: Date } | { cancel: true; at: Date; expireAt: Date },
  ): Promise<ScheduledSend | null> {
    const update =
      'cancel' in change
        ? { $set: { state: 'cancelled' as const, expireAt: change.expireAt } }
        : {
            $set: {
              ...(change.body !== undefined && { body: change.body }),
              ...(change.sendAt && { sendAt: change.sendAt, dueAt: change.sendAt }),
            },
          };
    const doc = await this.entries.findOneAndUpdate(
      { _id: id, senderId, state: 'pending', attempts: 0 },
      update,
      { returnDocument: 'after' },
    );
    if (doc && 'cancel' in change) await this.places.free(senderId);
    return doc ? toEntry(doc) : null;
  }

  async claim(now: Date, leaseMs: number, lease: string): Promise<ScheduledSend | null> {
    const doc = await this.entries.findOneAndUpdate(
      { state: 'pending', dueAt: { $lte: now } },
      { $set: { dueAt: new Date(now.getTime() + leaseMs), lease }, $inc: { attempts: 1 } },
      { sort: { dueAt: 1 }, returnDocument: 'after' },
    );
    return doc ? toEntry(doc) : null;
  }

  async finish(
    id: string,
    lease: string,
    result: ScheduledFinish,
    expireAt: Date,
  ): Promise<boolean> {
    const doc = await this.entries.findOneAndUpdate(
      { _id: id, lease, state: 'pending' },
      {
        $set: {
          state: result.state,
          expireAt,
          ...(result.state === 'sent'
            ? { messageId: result.messageId }
            : { outcome: result.outcome }),
        },
        $unset: { lease: 1 },
      },
      { projection: { senderId: 1 } },
    );
    if (!doc) return false;
    await this.places.free(doc.senderId);
    return true;
  }

  async retry(id: string, lease: string, dueAt: Date, error: string): Promise<void> {
    await this.entries.updateOne(
      { _id: id, lease, state: 'pending' },
      { $set: { dueAt, outcome: error }, $unset: { lease: 1 } },
    );
  }
}
