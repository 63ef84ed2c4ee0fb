import {
  UnavailableError,
  type ConversationChange,
  type ConversationChangeResult,
  type ErasureRecord,
  type ErasureStep,
  type Member,
  type NewOutboxEntry,
  type OutboxEntry,
  type OutboxStore,
  type PlatformStore,
  type UserExport,
} from '@jobsphere/chat-domain';
import { isValidObjectId, Schema, Types, type Connection, type mongo } from 'mongoose';
import { decodeActivityCursor, nextCursorOf } from '../cursor.js';
import {
  PUBLIC_FIELDS,
  RESERVATIONS_KEPT,
  isDuplicateKey,
  toConversation,
  toMessage,
  type Models,
  type MongoConversations,
} from './mongo.store.js';
import { readKey, type ConversationDoc, type MessageDoc } from './schemas.js';

// The server API's collections: the outbox (webhook events and offline checks) and the
// record of erasures. Their own models, registered on the store's connection.

interface OutboxDoc extends Omit<OutboxEntry, 'id'> {
  _id: string;
  /** A check that notified is kept until then, so its id cannot be scheduled again (TTL). */
  expireAt?: Date;
}

const outboxSchema = new Schema<OutboxDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    endpoint: String,
    payload: { type: String, required: true },
    state: { type: String, required: true },
    attempts: { type: Number, required: true },
    dueAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    lastError: String,
    lease: String,
    authors: { type: [String], default: [] },
    expireAt: Date,
  },
  { collection: 'outbox', versionKey: false, autoIndex: false },
);
// What a deliverer claims: the pending entry due first.
outboxSchema.index({ state: 1, dueAt: 1 });
// Dead letters for admins, newest first.
outboxSchema.index({ state: 1, createdAt: -1, _id: -1 });
outboxSchema.index({ authors: 1 });
outboxSchema.index({ expireAt: 1 }, { expireAfterSeconds: 0 });

const erasureSchema = new Schema<ErasureRecord>(
  {
    userId: { type: String, required: true },
    requestedBy: { type: String, required: true },
    at: { type: Date, required: true },
    messages: { type: Number, required: true },
    conversations: { type: Number, required: true },
  },
  { collection: 'erasures', versionKey: false, autoIndex: false },
);
erasureSchema.index({ userId: 1, at: -1 });

function toEntry(doc: OutboxDoc): OutboxEntry {
  const { _id, expireAt: _expire, ...rest } = doc;
  return { id: _id, ...rest, authors: rest.authors ?? [] };
}

export class MongoOutbox implements OutboxStore {
  private readonly model: { collection: mongo.Collection<OutboxDoc> };

  constructor(connection: Connection) {
    // The driver's collection, typed by its string ids (the model's is typed for ObjectIds).
    this.model = connection.model('OutboxEntry', outboxSchema) as unknown as {
      collection: mongo.Collection<OutboxDoc>;
    };
  }

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

  async deadLetter(id: string, lease: string, error: string): Promise<void> {
    await this.model.collection.updateOne(
      { _id: id, lease, state: 'pending' },
      { $set: { state: 'dead', lastError: error } },
    );
  }

  async listDead(page: { limit: number; cursor?: string }) {
    const filter: Record<string, unknown> = { state: 'dead' };
    if (page.cursor) {
      const { at, id } = decodeActivityCursor(page.cursor);
      filter['$or'] = [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: id } }];
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
      { _id: id, state: 'dead' },
      { $set: { state: 'pending', attempts: 0, dueAt: now }, $unset: { lastError: 1, lease: 1 } },
    );
    return result.matchedCount === 1;
  }

  async forgetAuthor(userId: string): Promise<number> {
    return (await this.model.collection.deleteMany({ authors: userId })).deletedCount;
  }
}

/** Optimistic changes of one conversation document: how many times a busy one is tried. */
const CHANGE_ATTEMPTS = 5;

export class MongoPlatform implements PlatformStore {
  private readonly erasures;

  constructor(
    connection: Connection,
    private readonly models: Models,
    private readonly conversations: MongoConversations,
  ) {
    this.erasures = connection.model('Erasure', erasureSchema);
  }

  /**
   * Read, then write conditionally on the version read: one atomic update takes the next
   * version (reserved like a send's, so a send's retry still counts back right), the members
   * and the metadata. A send or another change in between makes it read again.
   */
  async change(
    conversationId: string,
    change: ConversationChange,
  ): Promise<ConversationChangeResult | null> {
    if (!isValidObjectId(conversationId)) return null;
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      const doc = await this.models.conversations
        .findById(conversationId, { reservations: 0 })
        .lean<ConversationDoc>();
      if (!doc) return null;
      const has = (userId: string) => doc.members.some((m) => m.userId === userId);
      const added = (change.add ?? []).filter(
        (m, i, all) => !has(m.userId) && all.findIndex((o) => o.userId === m.userId) === i,
      );
      const removed = doc.members.filter((m) => change.remove?.includes(m.userId));
      const title = change.title !== undefined && change.title !== doc.title;
      const archived = change.archived !== undefined && change.archived !== (doc.archived === true);
      const reads = doc.reads ?? {};
      if (added.length === 0 && removed.length === 0 && !title && !archived)
        return { conversation: toConversation(doc), added: [], removed: [], changed: false };
      const version = doc.version + 1;
      const gone = new Set(removed.map((m) => m.userId));
      const members = [
        ...doc.members.filter((m) => !gone.has(m.userId)),
        ...added.map((m) => ({ userId: m.userId, role: m.role, joinedAt: m.joinedAt })),
      ];
      const set: Record<string, unknown> = {
        version,
        metaVersion: version,
        metaChangedAt: change.at,
        members,
        memberIds: members.map((m) => m.userId),
        ...(title && { title: change.title }),
        ...(archived && { archived: change.archived }),
        // Someone joining has nothing unread from before.
        ...Object.fromEntries(added.map((m) => [`reads.${readKey(m.userId)}`, doc.lastSeq])),
      };
      const unset = Object.fromEntries(removed.map((m) => [`reads.${readKey(m.userId)}`, 1]));
      const updated = await this.models.conversations
        .findOneAndUpdate(
          { _id: conversationId, version: doc.version },
          {
            $set: set,
            ...(removed.length > 0 && { $unset: unset }),
            $push: { reservations: { $each: [{ k: 'meta', m: 0 }], $slice: -RESERVATIONS_KEPT } },
          },
          { returnDocument: 'after', projection: PUBLIC_FIELDS },
        )
        .lean<ConversationDoc>();
      if (!updated) continue;
      const conversation = toConversation(updated);
      if (added.length > 0) await this.conversations.befriend(conversation);
      const asMember = (m: { userId: string; role: Member['role']; joinedAt: Date }): Member => ({
        userId: m.userId,
        role: m.role,
        joinedAt: m.joinedAt,
        lastReadSeq: reads[readKey(m.userId)] ?? 0,
      });
      return {
        conversation,
        added: added.map((m) => ({ ...asMember(m), lastReadSeq: doc.lastSeq })),
        removed: removed.map(asMember),
        changed: true,
      };
    }
    throw new UnavailableError('the conversation is busy: try again');
  }

  async eraseUserStep(userId: string, at: Date, limit: number): Promise<ErasureStep> {
    const theirs = await this.models.messages
      .find({ senderId: userId, deletedAt: { $exists: false } }, { _id: 1, conversationId: 1 })
      .limit(limit)
      .lean<Pick<MessageDoc, '_id' | 'conversationId'>[]>();
    const byConversation = new Map<string, Types.ObjectId[]>();
    for (const m of theirs) {
      const list = byConversation.get(m.conversationId) ?? [];
      list.push(m._id);
      byConversation.set(m.conversationId, list);
    }
    for (const [conversationId, ids] of byConversation)
      await this.tombstones(conversationId, ids, at);
    if (theirs.length === limit) return { messages: theirs.length, conversations: 0, done: false };

    const memberships = await this.models.conversations
      .find({ memberIds: userId }, { _id: 1 })
      .limit(limit)
      .lean<Pick<ConversationDoc, '_id'>[]>();
    for (const c of memberships) await this.change(c._id.toHexString(), { at, remove: [userId] });
    if (memberships.length === limit)
      return { messages: theirs.length, conversations: memberships.length, done: false };

    await Promise.all([
      this.models.reports.collection.updateMany(
        { 'snapshot.senderId': userId },
        { $set: { 'snapshot.body': '' } },
      ),
      this.models.reports.collection.updateMany(
        { reporterId: userId, note: { $exists: true } },
        { $unset: { note: 1 } },
      ),
      this.models.contacts.collection.deleteMany({ $or: [{ userId }, { contactId: userId }] }),
      this.models.blocks.collection.deleteMany({ $or: [{ blocker: userId }, { blocked: userId }] }),
    ]);
    return { messages: theirs.length, conversations: memberships.length, done: true };
  }

  /**
   * The delete path in bulk for one conversation: as many versions as messages in one update
   * (each reserved, so sends' retries still count back right), every message a tombstone at
   * its own version, and the preview when it shows one of them.
   */
  private async tombstones(conversationId: string, ids: Types.ObjectId[], at: Date) {
    const n = ids.length;
    const conversation = await this.models.conversations
      .findOneAndUpdate(
        { _id: conversationId },
        {
          $inc: { version: n },
          $push: {
            reservations: {
              $each: ids.map(() => ({ k: 'erase', m: 0 })),
              $slice: -RESERVATIONS_KEPT,
            },
          },
        },
        { returnDocument: 'after', projection: { version: 1 } },
      )
      .lean<Pick<ConversationDoc, 'version'>>();
    if (!conversation) return;
    const first = conversation.version - n + 1;
    await this.models.messages.collection.bulkWrite(
      ids.map((_id, i) => ({
        updateOne: {
          filter: { _id, deletedAt: { $exists: false } },
          update: {
            $set: { version: first + i, body: '', deletedAt: at, deletedBy: 'erasure' },
            $unset: { attachments: 1 },
          },
        },
      })),
      { ordered: false },
    );
    await this.models.conversations.updateOne(
      { _id: conversationId, 'lastMessage.id': { $in: ids.map((id) => id.toHexString()) } },
      {
        $set: {
          'lastMessage.body': '',
          'lastMessage.deleted': true,
          'lastMessage.rv': conversation.version,
        },
      },
    );
  }

  async recordErasure(record: ErasureRecord): Promise<void> {
    await this.erasures.collection.insertOne({ ...record });
  }

  async exportUser(
    userId: string,
    caps: { conversations: number; messages: number },
  ): Promise<UserExport> {
    const [conversations, messages] = await Promise.all([
      this.models.conversations
        .find({ memberIds: userId }, PUBLIC_FIELDS)
        .sort({ lastActivityAt: -1, _id: -1 })
        .limit(caps.conversations + 1)
        .lean<ConversationDoc[]>(),
      this.models.messages
        .find({ senderId: userId })
        .sort({ createdAt: 1, _id: 1 })
        .limit(caps.messages + 1)
        .lean<MessageDoc[]>(),
    ]);
    return {
      conversations: conversations.slice(0, caps.conversations).map(toConversation),
      messages: messages.slice(0, caps.messages).map(toMessage),
      truncated: conversations.length > caps.conversations || messages.length > caps.messages,
    };
  }
}
