import {
  DuplicateKeyError,
  type ChatStore,
  type Conversation,
  type ConversationPage,
  type ConversationRepository,
  type Message,
  type MessagePreview,
  type MessageRepository,
  type NewConversation,
  type ReadState,
  type ReadStateRepository,
} from '@jobsphere/chat-domain';
import { Logger } from '@nestjs/common';
import mongoose, { type Connection, type ConnectOptions, isValidObjectId, Types } from 'mongoose';
import type { MongoCredentialsProvider } from '../../secrets/credentials.js';
import { reauthenticateOnRefusal } from '../../secrets/mongo-reauth.js';
import { decodeActivityCursor, encodeActivityCursor } from '../cursor.js';
import {
  conversationSchema,
  messageSchema,
  readStateSchema,
  type ConversationDoc,
  type MessageDoc,
  type ReadStateDoc,
} from './schemas.js';

function defineModels(connection: Connection) {
  return {
    conversations: connection.model('Conversation', conversationSchema),
    messages: connection.model('Message', messageSchema),
    readStates: connection.model('ReadState', readStateSchema),
  };
}
type Models = ReturnType<typeof defineModels>;

function isDuplicateKey(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

function toConversation(doc: ConversationDoc): Conversation {
  return {
    id: doc._id.toHexString(),
    kind: doc.kind,
    ...(doc.title != null && { title: doc.title }),
    ...(doc.jobId != null && { jobId: doc.jobId }),
    ...(doc.applicationId != null && { applicationId: doc.applicationId }),
    members: doc.members.map((m) => ({ userId: m.userId, role: m.role, joinedAt: m.joinedAt })),
    createdBy: doc.createdBy,
    createdAt: doc.createdAt,
    lastSeq: doc.lastSeq,
    ...(doc.lastMessage?.id != null && { lastMessage: { ...doc.lastMessage } }),
    lastActivityAt: doc.lastActivityAt,
  };
}

function toMessage(doc: MessageDoc): Message {
  return {
    id: doc._id.toHexString(),
    conversationId: doc.conversationId,
    seq: doc.seq,
    senderId: doc.senderId,
    clientMessageId: doc.clientMessageId,
    body: doc.body,
    createdAt: doc.createdAt,
  };
}

class MongoConversations implements ConversationRepository {
  constructor(private readonly model: Models['conversations']) {}

  async create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    const doc = {
      _id: new Types.ObjectId(),
      ...input,
      memberIds: input.members.map((m) => m.userId),
      lastSeq: 0,
      lastActivityAt: input.createdAt,
    };
    try {
      await this.model.collection.insertOne(doc);
      return { conversation: toConversation(doc), created: true };
    } catch (error) {
      // Two requests opened the same direct conversation at once: the first one wins.
      if (!isDuplicateKey(error) || !input.directKey) throw error;
      const existing = await this.model
        .findOne({ directKey: input.directKey })
        .lean<ConversationDoc>();
      if (!existing) throw error;
      return { conversation: toConversation(existing), created: false };
    }
  }

  async findById(id: string): Promise<Conversation | null> {
    if (!isValidObjectId(id)) return null;
    const doc = await this.model.findById(id).lean<ConversationDoc>();
    return doc ? toConversation(doc) : null;
  }

  async findByIds(ids: string[]): Promise<Conversation[]> {
    const valid = ids.filter((id) => isValidObjectId(id));
    if (valid.length === 0) return [];
    const docs = await this.model.find({ _id: { $in: valid } }).lean<ConversationDoc[]>();
    return docs.map(toConversation);
  }

  async listForUser(
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
    const docs = await this.model
      .find(filter)
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

  async allocateSeq(conversationId: string): Promise<number> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: conversationId },
        { $inc: { lastSeq: 1 } },
        { returnDocument: 'after', projection: { lastSeq: 1 } },
      )
      .lean<Pick<ConversationDoc, 'lastSeq'>>();
    if (!doc) throw new Error(`conversation ${conversationId} not found`);
    return doc.lastSeq;
  }

  async recordLastMessage(conversationId: string, preview: MessagePreview): Promise<void> {
    // Conditional on seq, so a slower, older send never overwrites a newer preview.
    await this.model.updateOne(
      {
        _id: conversationId,
        $or: [{ lastMessage: { $exists: false } }, { 'lastMessage.seq': { $lt: preview.seq } }],
      },
      { $set: { lastMessage: preview, lastActivityAt: preview.createdAt } },
    );
  }
}

class MongoMessages implements MessageRepository {
  constructor(private readonly model: Models['messages']) {}

  async insert(input: Omit<Message, 'id'>): Promise<Message> {
    const doc: MessageDoc = { _id: new Types.ObjectId(), ...input };
    try {
      await this.model.collection.insertOne(doc);
    } catch (error) {
      if (isDuplicateKey(error)) {
        const keyPattern = (error as { keyPattern?: Record<string, unknown> }).keyPattern ?? {};
        throw new DuplicateKeyError('clientMessageId' in keyPattern ? 'clientMessageId' : 'seq');
      }
      throw error;
    }
    return toMessage(doc);
  }

  async findByClientMessageId(
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<Message | null> {
    const doc = await this.model
      .findOne({ conversationId, senderId, clientMessageId })
      .lean<MessageDoc>();
    return doc ? toMessage(doc) : null;
  }

  async list(
    conversationId: string,
    query: { before?: number; after?: number; limit: number },
  ): Promise<Message[]> {
    if (query.after !== undefined) {
      const docs = await this.model
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
    const docs = await this.model
      .find(filter)
      .sort({ seq: -1 })
      .limit(query.limit)
      .lean<MessageDoc[]>();
    return docs.reverse().map(toMessage);
  }
}

class MongoReadStates implements ReadStateRepository {
  constructor(private readonly model: Models['readStates']) {}

  async advance(conversationId: string, userId: string, seq: number): Promise<number> {
    const filter = { userId, conversationId };
    try {
      const doc = await this.model
        .findOneAndUpdate(
          filter,
          { $max: { lastReadSeq: seq } },
          { upsert: true, returnDocument: 'after' },
        )
        .lean<ReadStateDoc>();
      return doc?.lastReadSeq ?? seq;
    } catch (error) {
      // Two first reads raced on the upsert; the second one is now a plain update.
      if (!isDuplicateKey(error)) throw error;
      const doc = await this.model
        .findOneAndUpdate(filter, { $max: { lastReadSeq: seq } }, { returnDocument: 'after' })
        .lean<ReadStateDoc>();
      return doc?.lastReadSeq ?? seq;
    }
  }

  async forConversations(conversationIds: string[]): Promise<ReadState[]> {
    if (conversationIds.length === 0) return [];
    const docs = await this.model
      .find({ conversationId: { $in: conversationIds } })
      .lean<ReadStateDoc[]>();
    return docs.map(({ conversationId, userId, lastReadSeq }) => ({
      conversationId,
      userId,
      lastReadSeq,
    }));
  }

  async forUser(userId: string, conversationIds: string[]): Promise<Map<string, number>> {
    const docs = await this.model
      .find({ userId, conversationId: { $in: conversationIds } })
      .lean<ReadStateDoc[]>();
    const positions = new Map(conversationIds.map((id) => [id, 0]));
    for (const d of docs) positions.set(d.conversationId, d.lastReadSeq);
    return positions;
  }
}

export interface MongoStoreOptions {
  uri: string;
  /** How long an operation may wait for a server before failing (not acking). */
  serverSelectionTimeoutMs?: number;
  /** A user whose password rotates (Secrets Manager): followed across rotations. */
  credentials?: MongoCredentialsProvider;
}

/** MongoDB / Amazon DocumentDB through Mongoose. */
export class MongoChatStore implements ChatStore {
  readonly kind = 'mongodb' as const;
  readonly conversations: MongoConversations;
  readonly messages: MongoMessages;
  readonly readStates: MongoReadStates;

  private constructor(private readonly connection: Connection) {
    const models = defineModels(connection);
    this.conversations = new MongoConversations(models.conversations);
    this.messages = new MongoMessages(models.messages);
    this.readStates = new MongoReadStates(models.readStates);
  }

  static async connect(options: MongoStoreOptions): Promise<MongoChatStore> {
    const connectOptions: ConnectOptions = {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000,
      // DocumentDB does not support retryable writes.
      retryWrites: false,
      autoIndex: false,
      autoCreate: false,
      bufferCommands: false,
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
