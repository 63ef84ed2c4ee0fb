import {
  NotMemberError,
  UnavailableError,
  cutText,
  LIMITS,
  type AppendResult,
  type ChangePage,
  type ChatStore,
  type ContactStore,
  type Conversation,
  type ConversationPage,
  type ConversationStore,
  type Message,
  type MessageDraft,
  type MessageStore,
  type NewConversation,
  type UnreadSummary,
} from '@jobsphere/chat-domain';
import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import mongoose, { type Connection, type ConnectOptions, isValidObjectId, Types } from 'mongoose';
import type { MongoCredentialsProvider } from '../../secrets/credentials.js';
import { reauthenticateOnRefusal } from '../../secrets/mongo-reauth.js';
import { decodeActivityCursor, encodeActivityCursor } from '../cursor.js';
import {
  contactSchema,
  conversationSchema,
  messageSchema,
  readKey,
  type ConversationDoc,
  type MessageDoc,
} from './schemas.js';

function defineModels(connection: Connection) {
  return {
    conversations: connection.model('Conversation', conversationSchema),
    messages: connection.model('Message', messageSchema),
    contacts: connection.model('Contact', contactSchema),
  };
}
type Models = ReturnType<typeof defineModels>;

/** Reservations kept per conversation: how many changes back a retry still finds its position. */
const RESERVATIONS_KEPT = 100;
/** Contact upserts per bulk write: a 50-member group makes 2,450 pairs. */
const CONTACT_BATCH = 1_000;

function isDuplicateKey(error: unknown): error is { keyPattern?: Record<string, unknown> } {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

function toConversation(doc: ConversationDoc): Conversation {
  const reads = doc.reads ?? {};
  return {
    id: doc._id.toHexString(),
    kind: doc.kind,
    ...(doc.title != null && { title: doc.title }),
    ...(doc.jobId != null && { jobId: doc.jobId }),
    ...(doc.applicationId != null && { applicationId: doc.applicationId }),
    members: doc.members.map((m) => ({
      userId: m.userId,
      role: m.role,
      joinedAt: m.joinedAt,
      lastReadSeq: reads[readKey(m.userId)] ?? 0,
    })),
    createdBy: doc.createdBy,
    createdAt: doc.createdAt,
    ...(doc.lastMessage?.id != null && { lastMessage: { ...doc.lastMessage } }),
    lastActivityAt: doc.lastActivityAt,
    version: doc.version,
  };
}

function toMessage(doc: MessageDoc): Message {
  return {
    id: doc._id.toHexString(),
    conversationId: doc.conversationId,
    seq: doc.seq,
    version: doc.version,
    senderId: doc.senderId,
    clientMessageId: doc.clientMessageId,
    body: doc.body,
    createdAt: doc.createdAt,
  };
}

interface Slot {
  seq: number;
  version: number;
  memberIds: string[];
}

function reservationKey(senderId: string, clientMessageId: string): string {
  return createHash('sha256')
    .update(`${senderId}|${clientMessageId}`)
    .digest()
    .subarray(0, 12)
    .toString('base64url');
}

/**
 * The id of the message at one position: the same for every attempt at it, so a retry and a
 * late first attempt cannot store two messages, and the preview always names the stored one.
 */
function messageId(conversationId: string, version: number): Types.ObjectId {
  const digest = createHash('sha256').update(`${conversationId}:${version}`).digest();
  return new Types.ObjectId(digest.subarray(0, 12));
}

/** The seq and version a reservation stands for, counted back from the newest one. */
function reservedSlot(
  doc: Pick<ConversationDoc, 'lastSeq' | 'version' | 'reservations'>,
  key: string,
): { seq: number; version: number } | null {
  const list = doc.reservations ?? [];
  const index = list.findLastIndex((r) => r.k === key);
  if (index < 0) return null;
  const later = list.slice(index + 1);
  return {
    version: doc.version - later.length,
    seq: doc.lastSeq - later.filter((r) => r.m === 1).length,
  };
}

// Never read on the way out: the allocator's bookkeeping.
const PUBLIC_FIELDS = { reservations: 0, directKey: 0, lastSeq: 0 } as const;

class MongoConversations implements ConversationStore {
  constructor(private readonly models: Models) {}

  async create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    const doc: ConversationDoc = {
      _id: new Types.ObjectId(),
      ...input,
      memberIds: input.members.map((m) => m.userId),
      reads: {},
      lastSeq: 0,
      version: 0,
      lastActivityAt: input.createdAt,
      reservations: [],
    };
    let result: { conversation: Conversation; created: boolean };
    try {
      await this.models.conversations.collection.insertOne(doc);
      result = { conversation: toConversation(doc), created: true };
    } catch (error) {
      // Two requests opened the same direct conversation at once: the first one wins.
      if (!isDuplicateKey(error) || !input.directKey) throw error;
      const existing = await this.models.conversations
        .findOne({ directKey: input.directKey }, PUBLIC_FIELDS)
        .lean<ConversationDoc>();
      if (!existing) throw error;
      result = { conversation: toConversation(existing), created: false };
    }
    // Idempotent, so opening the conversation again repairs contacts a failure left out.
    await this.befriend(result.conversation);
    return result;
  }

  private async befriend(conversation: Conversation): Promise<void> {
    const ids = conversation.members.map((m) => m.userId);
    const operations = ids.flatMap((userId) =>
      ids
        .filter((contactId) => contactId !== userId)
        .map((contactId) => ({
          updateOne: {
            filter: { userId, contactId },
            update: { $max: { since: conversation.createdAt } },
            upsert: true,
          },
        })),
    );
    for (let i = 0; i < operations.length; i += CONTACT_BATCH) {
      await this.models.contacts.collection.bulkWrite(operations.slice(i, i + CONTACT_BATCH), {
        ordered: false,
      });
    }
  }

  async get(id: string): Promise<Conversation | null> {
    if (!isValidObjectId(id)) return null;
    const doc = await this.models.conversations.findById(id, PUBLIC_FIELDS).lean<ConversationDoc>();
    return doc ? toConversation(doc) : null;
  }

  async getMany(ids: string[]): Promise<Conversation[]> {
    const valid = [...new Set(ids)].filter((id) => isValidObjectId(id));
    if (valid.length === 0) return [];
    const docs = await this.models.conversations
      .find({ _id: { $in: valid } }, PUBLIC_FIELDS)
      .lean<ConversationDoc[]>();
    return docs.map(toConversation);
  }

  async listForMember(
    userId: string,
    page: { limit: number; cursor?: string },
  ): Promise<ConversationPage> {
    const filter: Record<string, unknown> = { memberIds: userId };
    if (page.cursor) {
      const { at, id } = decodeActivityCursor(page.cursor);
      if (!isValidObjectId(id)) return { conversations: [] };
      filter['$or'] = [
        { lastActivityAt: { $lt: at } },
        { lastActivityAt: at, _id: { $lt: new Types.ObjectId(id) } },
      ];
    }
    const docs = await this.models.conversations
      .find(filter, PUBLIC_FIELDS)
      .sort({ lastActivityAt: -1, _id: -1 })
      .limit(page.limit + 1)
      .lean<ConversationDoc[]>();
    const conversations = docs.slice(0, page.limit).map(toConversation);
    const last = conversations.at(-1);
    return {
      conversations,
      ...(docs.length > page.limit &&
        last && { nextCursor: encodeActivityCursor(last.lastActivityAt, last.id) }),
    };
  }

  async advanceRead(conversationId: string, userId: string, seq: number): Promise<number | null> {
    if (!isValidObjectId(conversationId)) return null;
    const key = `reads.${readKey(userId)}`;
    const doc = await this.models.conversations
      .findOneAndUpdate(
        { _id: conversationId, memberIds: userId },
        { $max: { [key]: seq } },
        { returnDocument: 'after', projection: { [key]: 1 } },
      )
      .lean<Pick<ConversationDoc, 'reads'>>();
    return doc ? (doc.reads?.[readKey(userId)] ?? seq) : null;
  }

  async unreadSummary(userId: string, maxConversations: number): Promise<UnreadSummary> {
    const key = readKey(userId);
    const docs = await this.models.conversations
      .find({ memberIds: userId }, { 'lastMessage.seq': 1, [`reads.${key}`]: 1 })
      .sort({ lastActivityAt: -1, _id: -1 })
      .limit(maxConversations + 1)
      .lean<Pick<ConversationDoc, 'lastMessage' | 'reads'>[]>();
    let total = 0;
    for (const d of docs.slice(0, maxConversations)) {
      total += Math.max(0, (d.lastMessage?.seq ?? 0) - (d.reads?.[key] ?? 0));
    }
    return { total, capped: docs.length > maxConversations };
  }
}

/**
 * A send in two sequential round trips on the common path:
 *   1. one findOneAndUpdate on the conversation: the sender is a member, this clientMessageId
 *      holds no reservation yet, and the next seq and version are taken and reserved for it;
 *   2. the insert of the message, and beside it the preview and the sender's read position
 *      (the preview only moves while this is still the newest seq).
 * A retry, a race on the same clientMessageId or a non-member take the slower path.
 */
class MongoMessages implements MessageStore {
  constructor(private readonly models: Models) {}

  async append(draft: MessageDraft): Promise<AppendResult> {
    if (!isValidObjectId(draft.conversationId)) throw new NotMemberError(draft.conversationId);
    const key = reservationKey(draft.senderId, draft.clientMessageId);
    // Bounded: every pass either finishes or met a state another attempt just changed.
    for (let attempt = 0; attempt < 3; attempt++) {
      const reserved = await this.reserve(draft, key);
      if (reserved) return this.store(draft, reserved);
      const resolved = await this.resolve(draft, key);
      if (resolved) return resolved;
    }
    throw new UnavailableError('message could not be stored, not sent');
  }

  /** Takes the next position for a first attempt; null when this key was seen or the sender is not a member. */
  private async reserve(draft: MessageDraft, key: string): Promise<Slot | null> {
    const doc = await this.models.conversations
      .findOneAndUpdate(
        { _id: draft.conversationId, memberIds: draft.senderId, 'reservations.k': { $ne: key } },
        {
          $inc: { lastSeq: 1, version: 1 },
          $push: { reservations: { $each: [{ k: key, m: 1 }], $slice: -RESERVATIONS_KEPT } },
        },
        { returnDocument: 'after', projection: { lastSeq: 1, version: 1, memberIds: 1 } },
      )
      .lean<Pick<ConversationDoc, 'lastSeq' | 'version' | 'memberIds'>>();
    return doc && { seq: doc.lastSeq, version: doc.version, memberIds: doc.memberIds };
  }

  /** After a refused reservation: the stored duplicate, the reservation to reuse, or not a member. */
  private async resolve(draft: MessageDraft, key: string): Promise<AppendResult | null> {
    const [existing, conversation] = await Promise.all([
      this.findByClientMessageId(draft),
      this.models.conversations
        .findById(draft.conversationId, { memberIds: 1, lastSeq: 1, version: 1, reservations: 1 })
        .lean<Pick<ConversationDoc, 'memberIds' | 'lastSeq' | 'version' | 'reservations'>>(),
    ]);
    if (!conversation || !conversation.memberIds.includes(draft.senderId)) {
      throw new NotMemberError(draft.conversationId);
    }
    const { memberIds } = conversation;
    if (existing) return { message: existing, duplicate: true, memberIds };
    const slot = reservedSlot(conversation, key);
    // No reservation: another attempt's is racing in, or ours aged out of the list. Go again.
    return slot ? this.store(draft, { ...slot, memberIds }) : null;
  }

  private async store(draft: MessageDraft, slot: Slot): Promise<AppendResult> {
    const doc: MessageDoc = {
      _id: messageId(draft.conversationId, slot.version),
      ...draft,
      seq: slot.seq,
      version: slot.version,
    };
    const [insert, bookkeeping] = await Promise.allSettled([
      this.models.messages.collection.insertOne(doc),
      this.recordSend(doc),
    ]);
    if (insert.status === 'rejected') {
      if (!isDuplicateKey(insert.reason)) throw insert.reason;
      // The same clientMessageId raced in on another socket or instance, and it won.
      const winner = await this.findByClientMessageId(draft);
      if (!winner) throw new UnavailableError('message could not be stored, not sent');
      return { message: winner, duplicate: true, memberIds: slot.memberIds };
    }
    if (bookkeeping.status === 'rejected') throw bookkeeping.reason;
    return { message: toMessage(doc), duplicate: false, memberIds: slot.memberIds };
  }

  /**
   * The sender's read position, and the preview while this is still the newest seq. Written
   * beside the insert, not after it: every attempt at one position carries the same message id,
   * so the preview names the message that is (or, after a failed attempt, will be) stored.
   */
  private async recordSend(doc: MessageDoc): Promise<void> {
    const read = { [`reads.${readKey(doc.senderId)}`]: doc.seq };
    const preview = {
      id: doc._id.toHexString(),
      seq: doc.seq,
      senderId: doc.senderId,
      body: cutText(doc.body, LIMITS.previewLength),
      createdAt: doc.createdAt,
    };
    const newest = await this.models.conversations.updateOne(
      { _id: doc.conversationId, lastSeq: doc.seq },
      { $set: { lastMessage: preview, lastActivityAt: doc.createdAt }, $max: read },
    );
    if (newest.matchedCount === 1) return;
    // A newer message holds the preview: only the read position is still ours to move.
    await this.models.conversations.updateOne({ _id: doc.conversationId }, { $max: read });
  }

  private async findByClientMessageId(draft: MessageDraft): Promise<Message | null> {
    const doc = await this.models.messages
      .findOne({
        conversationId: draft.conversationId,
        senderId: draft.senderId,
        clientMessageId: draft.clientMessageId,
      })
      .lean<MessageDoc>();
    return doc ? toMessage(doc) : null;
  }

  async page(
    conversationId: string,
    query: { before?: number; after?: number; limit: number },
  ): Promise<Message[]> {
    if (query.after !== undefined) {
      const docs = await this.models.messages
        .find({ conversationId, seq: { $gt: query.after } })
        .sort({ seq: 1 })
        .limit(query.limit)
        .lean<MessageDoc[]>();
      return docs.map(toMessage);
    }
    const filter =
      query.before !== undefined
        ? { conversationId, seq: { $lt: query.before } }
        : { conversationId };
    const docs = await this.models.messages
      .find(filter)
      .sort({ seq: -1 })
      .limit(query.limit)
      .lean<MessageDoc[]>();
    return docs.reverse().map(toMessage);
  }

  async changesSince(
    conversationId: string,
    afterVersion: number,
    limit: number,
  ): Promise<ChangePage> {
    const docs = await this.models.messages
      .find({ conversationId, version: { $gt: afterVersion } })
      .sort({ version: 1 })
      .limit(limit + 1)
      .lean<MessageDoc[]>();
    return { messages: docs.slice(0, limit).map(toMessage), hasMore: docs.length > limit };
  }
}

class MongoContacts implements ContactStore {
  constructor(private readonly model: Models['contacts']) {}

  async among(userId: string, candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const docs = await this.model
      .find({ userId, contactId: { $in: [...new Set(candidates)] } }, { contactId: 1 })
      .lean<{ contactId: string }[]>();
    return docs.map((d) => d.contactId);
  }

  async audience(userId: string, limit: number): Promise<string[]> {
    const docs = await this.model
      .find({ userId }, { contactId: 1 })
      .sort({ since: -1 })
      .limit(limit)
      .lean<{ contactId: string }[]>();
    return docs.map((d) => d.contactId);
  }
}

export interface MongoStoreOptions {
  uri: string;
  /** How long an operation may wait for a server before failing (not acking). */
  serverSelectionTimeoutMs?: number;
  /** A user whose password rotates (Secrets Manager): followed across rotations. */
  credentials?: MongoCredentialsProvider;
  /** Watch every command the driver sends (the round-trip test counts them). */
  monitorCommands?: boolean;
}

/** MongoDB / Amazon DocumentDB through Mongoose. */
export class MongoChatStore implements ChatStore {
  readonly kind = 'mongodb' as const;
  readonly conversations: MongoConversations;
  readonly messages: MongoMessages;
  readonly contacts: MongoContacts;

  private constructor(readonly connection: Connection) {
    const models = defineModels(connection);
    this.conversations = new MongoConversations(models);
    this.messages = new MongoMessages(models);
    this.contacts = new MongoContacts(models.contacts);
  }

  static async connect(options: MongoStoreOptions): Promise<MongoChatStore> {
    const connectOptions: ConnectOptions = {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000,
      // DocumentDB does not support retryable writes.
      retryWrites: false,
      autoIndex: false,
      autoCreate: false,
      bufferCommands: false,
      ...(options.monitorCommands && { monitorCommands: true }),
    };
    const { credentials } = options;
    const connection = mongoose.createConnection(options.uri, {
      ...connectOptions,
      ...(credentials && { auth: credentials.current() }),
    });
    await connection.asPromise();
    if (credentials)
      reauthenticateOnRefusal(
        connection,
        options.uri,
        connectOptions,
        credentials,
        new Logger('Store'),
      );
    const store = new MongoChatStore(connection);
    await Promise.all(Object.values(connection.models).map((model) => model.createIndexes()));
    return store;
  }

  async ping(): Promise<void> {
    const db = this.connection.db;
    if (!db) throw new Error('not connected');
    await db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
