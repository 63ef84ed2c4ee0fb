import {
  BlockedError,
  NotMemberError,
  RequestDeclinedError,
  RequestPendingError,
  UnavailableError,
  cutText,
  LIMITS,
  type AppendResult,
  type ConversationBox,
  type NewReport,
  type Report,
  type ReportResolution,
  type ReportStore,
  type Revision,
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
import mongoose, {
  type Connection,
  type ConnectOptions,
  isValidObjectId,
  type mongo,
  Types,
} from 'mongoose';
import type { MongoCredentialsProvider } from '../../secrets/credentials.js';
import { reauthenticateOnRefusal } from '../../secrets/mongo-reauth.js';
import { decodeActivityCursor, nextCursorOf } from '../cursor.js';
import { errorsByStatement, GroupCommit } from './group-commit.js';
import { MongoOutbox, MongoPlatform } from './platform.mongo.js';
import {
  blockSchema,
  contactSchema,
  conversationSchema,
  messageSchema,
  readKey,
  reportSchema,
  type BlockDoc,
  type ConversationDoc,
  type MessageDoc,
  type PreviewDoc,
  type ReportDoc,
  type RequestDoc,
} from './schemas.js';

export function defineModels(connection: Connection) {
  return {
    conversations: connection.model('Conversation', conversationSchema),
    messages: connection.model('Message', messageSchema),
    contacts: connection.model('Contact', contactSchema),
    blocks: connection.model('Block', blockSchema),
    reports: connection.model('Report', reportSchema),
  };
}
export type Models = ReturnType<typeof defineModels>;

/** Reservations kept per conversation: how many changes back a retry still finds its position. */
const RESERVATIONS_KEPT = 100;
/**
 * Writes of concurrent sends that share one command (group-commit.ts): a batch is bounded so
 * one command stays small, and so is what may wait for one (past it: UNAVAILABLE at once).
 */
const GROUP_COMMIT = { maxBatch: 200, maxWaiting: 5_000 };
/** Contact upserts per bulk write: a 50-member group makes 2,450 pairs. */
const CONTACT_BATCH = 1_000;
/** Direct conversations of one pair a block or unblock updates (one per job context). */
const PAIR_CONVERSATIONS_MAX = 1_000;

/** A request as stored: pending or declined, else no request (also when the field is absent). */
function openRequest(doc: Pick<ConversationDoc, 'request'>): RequestDoc | undefined {
  const r = doc.request;
  return r && (r.state === 'pending' || r.state === 'declined') ? r : undefined;
}

/** Filter: the inbox leaves out requests the user received (pending or declined). */
function inboxFilter(userId: string): Record<string, unknown> {
  return {
    memberIds: userId,
    $nor: [{ 'request.to': userId, 'request.state': { $in: ['pending', 'declined'] } }],
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every direct key of a pair starts with this (see `directKey` in the domain's rules). */
function pairPrefix(a: string, b: string): RegExp {
  const [x, y] = a < b ? [a, b] : [b, a];
  const prefix = ['direct', x, y].map((part) => encodeURIComponent(part)).join(':');
  return new RegExp(`^${escapeRegExp(prefix)}:`);
}

export function isDuplicateKey(error: unknown): error is { keyPattern?: Record<string, unknown> } {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

export function toConversation(doc: ConversationDoc): Conversation {
  const reads = doc.reads ?? {};
  const request = openRequest(doc);
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
    ...(doc.lastMessage?.id != null && { lastMessage: toPreviewOut(doc.lastMessage) }),
    ...(request && {
      request: { from: request.from!, to: request.to!, state: request.state as 'pending' },
    }),
    blocked: doc.blocked === true,
    lastActivityAt: doc.lastActivityAt,
    version: doc.version,
    ...(doc.archived && { archived: true }),
    ...(doc.metaVersion != null && { metaVersion: doc.metaVersion }),
    ...(doc.metaChangedAt != null && { metaChangedAt: doc.metaChangedAt }),
  };
}

function toPreviewOut(p: PreviewDoc): NonNullable<Conversation['lastMessage']> {
  return {
    id: p.id,
    seq: p.seq,
    senderId: p.senderId,
    body: p.body,
    createdAt: p.createdAt,
    ...(p.deleted && { deleted: true }),
  };
}

export function toMessage(doc: MessageDoc): Message {
  return {
    id: doc._id.toHexString(),
    conversationId: doc.conversationId,
    seq: doc.seq,
    version: doc.version,
    senderId: doc.senderId,
    clientMessageId: doc.clientMessageId,
    kind: doc.kind ?? 'user',
    body: doc.body ?? '',
    ...(doc.attachments?.length && { attachments: doc.attachments.map((a) => ({ ...a })) }),
    createdAt: doc.createdAt,
    ...(doc.editedAt && { editedAt: doc.editedAt }),
    ...(doc.deletedAt && { deletedAt: doc.deletedAt }),
    ...(doc.deletedBy && { deletedBy: doc.deletedBy }),
  };
}

interface Slot {
  seq: number;
  version: number;
  memberIds: string[];
  /** This send is the reply of a request's recipient: it accepts the request. */
  accepts?: boolean;
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
export const PUBLIC_FIELDS = { reservations: 0, directKey: 0, lastSeq: 0 } as const;
/** Reservations kept per conversation (exported for the platform's version-taking updates). */
export { RESERVATIONS_KEPT };

export class MongoConversations implements ConversationStore {
  private readonly blocks: Models['blocks'];

  constructor(private readonly models: Models) {
    this.blocks = models.blocks;
  }

  async create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    const { request, requestAllowance, ...rest } = input;
    const memberIds = input.members.map((m) => m.userId);
    // A block set between the caller's check and this insert still holds.
    const blocked =
      input.kind === 'direct' &&
      (await this.blocks.exists({
        $or: [
          { blocker: memberIds[0], blocked: memberIds[1] },
          { blocker: memberIds[1], blocked: memberIds[0] },
        ],
      })) !== null;
    const doc: ConversationDoc = {
      _id: new Types.ObjectId(),
      ...rest,
      memberIds,
      reads: {},
      lastSeq: 0,
      version: 0,
      lastActivityAt: input.createdAt,
      reservations: [],
      request: request
        ? {
            state: 'pending',
            from: request.from,
            to: request.to,
            left: requestAllowance ?? 0,
            allowance: requestAllowance ?? 0,
          }
        : { state: 'none', left: 0 },
      blocked,
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
    if (!result.conversation.request) await this.befriend(result.conversation);
    return result;
  }

  async befriend(conversation: Conversation): Promise<void> {
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
    page: { limit: number; cursor?: string; box?: ConversationBox },
  ): Promise<ConversationPage> {
    const filter: Record<string, unknown> =
      page.box === 'requests'
        ? { 'request.to': userId, 'request.state': 'pending' }
        : inboxFilter(userId);
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
    return {
      conversations,
      ...nextCursorOf(docs.length, page.limit, conversations, (i) => [i.lastActivityAt, i.id]),
    };
  }

  async answerRequest(
    conversationId: string,
    userId: string,
    answer: 'accept' | 'decline',
  ): Promise<Conversation | null> {
    if (!isValidObjectId(conversationId)) return null;
    const doc = await this.models.conversations
      .findOneAndUpdate(
        {
          _id: conversationId,
          'request.to': userId,
          'request.state': { $in: ['pending', 'declined'] },
        },
        { $set: { 'request.state': answer === 'accept' ? 'none' : 'declined' } },
        { returnDocument: 'after', projection: PUBLIC_FIELDS },
      )
      .lean<ConversationDoc>();
    if (!doc) return null;
    const conversation = toConversation(doc);
    if (answer === 'accept') await this.befriend(conversation);
    return conversation;
  }

  async requestBetween(from: string, to: string): Promise<Conversation | null> {
    const doc = await this.models.conversations
      .findOne(
        {
          directKey: pairPrefix(from, to),
          'request.from': from,
          'request.state': { $in: ['pending', 'declined'] },
        },
        PUBLIC_FIELDS,
      )
      .lean<ConversationDoc>();
    return doc ? toConversation(doc) : null;
  }

  async setBlocked(a: string, b: string, blocked: boolean): Promise<Conversation[]> {
    const filter = { directKey: pairPrefix(a, b), blocked: blocked ? { $ne: true } : true };
    const docs = await this.models.conversations
      .find(filter, PUBLIC_FIELDS)
      .limit(PAIR_CONVERSATIONS_MAX)
      .lean<ConversationDoc[]>();
    if (docs.length === 0) return [];
    await this.models.conversations.updateMany(
      { _id: { $in: docs.map((d) => d._id) } },
      { $set: { blocked } },
    );
    return docs.map((d) => toConversation({ ...d, blocked }));
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
      .find(inboxFilter(userId), { 'lastMessage.seq': 1, [`reads.${key}`]: 1 })
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
  /** The driver's own collection, typed: the send path's commands skip Mongoose's query layer. */
  private readonly conversationDocs: mongo.Collection<ConversationDoc>;

  /** The inserts of concurrent sends, as one insert command per round trip. */
  private readonly inserts: GroupCommit<MessageDoc>;
  /** Their previews and read positions, as one update command per round trip. */
  private readonly bookkeeping: GroupCommit<mongo.AnyBulkWriteOperation<ConversationDoc>[]>;

  constructor(
    private readonly models: Models,
    private readonly conversations: MongoConversations,
  ) {
    this.conversationDocs = models.conversations
      .collection as unknown as mongo.Collection<ConversationDoc>;
    const messageDocs = models.messages.collection as unknown as mongo.Collection<MessageDoc>;
    this.inserts = new GroupCommit(async (docs) => {
      try {
        if (docs.length === 1) await messageDocs.insertOne(docs[0]!);
        else await messageDocs.insertMany(docs, { ordered: false });
        return [];
      } catch (error) {
        // A duplicate clientMessageId refuses its own message, not the others.
        return errorsByStatement(error, docs.length);
      }
    }, GROUP_COMMIT);
    this.bookkeeping = new GroupCommit(async (perSend) => {
      const statements = perSend.flat();
      try {
        await this.conversationDocs.bulkWrite(statements, { ordered: false });
        return [];
      } catch (error) {
        const errors = errorsByStatement(error, statements.length);
        // A send is refused by the first of its own statements that failed.
        let at = 0;
        return perSend.map((own) =>
          errors.slice(at, (at += own.length)).find((e) => e !== undefined),
        );
      }
    }, GROUP_COMMIT);
  }

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
    const sender = draft.senderId;
    // The platform's own messages come from no member, and no block or request stops them.
    const system = draft.kind === 'system';
    // The driver's collection, not a Mongoose query: this is the hottest command there is, and
    // the schema has nothing to cast here (no defaults, no timestamps, reservations are Mixed).
    const doc = await this.conversationDocs.findOneAndUpdate(
      {
        _id: new Types.ObjectId(draft.conversationId),
        'reservations.k': { $ne: key },
        ...(!system && {
          memberIds: sender,
          blocked: { $ne: true },
          // No request, or the recipient replying, or the opener within the allowance.
          $or: [
            { 'request.state': { $nin: ['pending', 'declined'] } },
            { 'request.to': sender },
            { 'request.state': 'pending', 'request.left': { $gt: 0 } },
          ],
        }),
      },
      {
        $inc: { lastSeq: 1, version: 1, ...(!system && { 'request.left': -1 }) },
        $push: { reservations: { $each: [{ k: key, m: 1 }], $slice: -RESERVATIONS_KEPT } },
      },
      {
        returnDocument: 'after',
        projection: { lastSeq: 1, version: 1, memberIds: 1, request: 1 },
      },
    );
    if (!doc) return null;
    return {
      seq: doc.lastSeq,
      version: doc.version,
      memberIds: doc.memberIds,
      ...(!system && openRequest(doc)?.to === sender && { accepts: true }),
    };
  }

  /** After a refused reservation: the stored duplicate, the reservation to reuse, or not a member. */
  private async resolve(draft: MessageDraft, key: string): Promise<AppendResult | null> {
    const [existing, conversation] = await Promise.all([
      this.findByClientMessageId(draft),
      this.models.conversations
        .findById(draft.conversationId, {
          memberIds: 1,
          lastSeq: 1,
          version: 1,
          reservations: 1,
          request: 1,
          blocked: 1,
        })
        .lean<
          Pick<
            ConversationDoc,
            'memberIds' | 'lastSeq' | 'version' | 'reservations' | 'request' | 'blocked'
          >
        >(),
    ]);
    const system = draft.kind === 'system';
    if (!conversation || (!system && !conversation.memberIds.includes(draft.senderId))) {
      throw new NotMemberError(draft.conversationId);
    }
    const { memberIds } = conversation;
    if (existing) return { message: existing, duplicate: true, memberIds };
    const slot = reservedSlot(conversation, key);
    const request = system ? undefined : openRequest(conversation);
    // A retry keeps the position its first attempt took, whatever changed since.
    if (slot)
      return this.store(draft, {
        ...slot,
        memberIds,
        ...(request?.to === draft.senderId && { accepts: true }),
      });
    if (conversation.blocked && !system) throw new BlockedError();
    if (request && request.to !== draft.senderId) {
      if (request.state === 'declined') throw new RequestDeclinedError();
      if (request.left <= 0) throw new RequestPendingError(request.allowance ?? 0);
    }
    // No reservation: another attempt's is racing in, or ours aged out of the list. Go again.
    return null;
  }

  private async store(draft: MessageDraft, slot: Slot): Promise<AppendResult> {
    const doc: MessageDoc = {
      _id: messageId(draft.conversationId, slot.version),
      ...draft,
      kind: draft.kind ?? 'user',
      seq: slot.seq,
      version: slot.version,
    };
    const [insert, bookkeeping] = await Promise.allSettled([
      this.inserts.submit(doc),
      this.recordSend(doc, slot.accepts === true),
    ]);
    if (insert.status === 'rejected') {
      if (!isDuplicateKey(insert.reason)) throw insert.reason;
      // The same clientMessageId raced in on another socket or instance, and it won.
      const winner = await this.findByClientMessageId(draft);
      if (!winner) throw new UnavailableError('message could not be stored, not sent');
      return { message: winner, duplicate: true, memberIds: slot.memberIds };
    }
    if (bookkeeping.status === 'rejected') throw bookkeeping.reason;
    return {
      message: toMessage(doc),
      duplicate: false,
      memberIds: slot.memberIds,
      ...(bookkeeping.value && { acceptedRequest: true }),
    };
  }

  /**
   * The sender's read position, and the preview while this is still the newest seq. Written
   * beside the insert, not after it: every attempt at one position carries the same message id,
   * so the preview names the message that is (or, after a failed attempt, will be) stored.
   */
  private async recordSend(doc: MessageDoc, accepts: boolean): Promise<boolean> {
    const [, accepted] = await Promise.all([
      this.recordPreview(doc),
      accepts ? this.acceptByReply(doc) : false,
    ]);
    return accepted;
  }

  /** The recipient of a request replied: the request is accepted and the two are contacts. */
  private async acceptByReply(doc: MessageDoc): Promise<boolean> {
    const updated = await this.models.conversations
      .findOneAndUpdate(
        {
          _id: doc.conversationId,
          'request.to': doc.senderId,
          'request.state': { $in: ['pending', 'declined'] },
        },
        { $set: { 'request.state': 'none' } },
        { returnDocument: 'after', projection: PUBLIC_FIELDS },
      )
      .lean<ConversationDoc>();
    if (!updated) return false;
    await this.conversations.befriend(toConversation(updated));
    return true;
  }

  private async recordPreview(doc: MessageDoc): Promise<void> {
    // A system message moves nobody's read position: everyone has it unread.
    const read: Record<string, number> =
      doc.kind === 'system' ? {} : { [`reads.${readKey(doc.senderId)}`]: doc.seq };
    const preview = {
      id: doc._id.toHexString(),
      seq: doc.seq,
      senderId: doc.senderId,
      body: cutText(doc.body, LIMITS.previewLength),
      createdAt: doc.createdAt,
    };
    const _id = new Types.ObjectId(doc.conversationId);
    // Two statements of one update command (shared with concurrent sends): the preview while
    // this is still the newest seq (so statements may run in any order), and the sender's read
    // position whatever a newer message did to the preview.
    await this.bookkeeping.submit([
      {
        updateOne: {
          filter: { _id, lastSeq: doc.seq },
          update: { $set: { lastMessage: preview, lastActivityAt: doc.createdAt } },
        },
      },
      ...(Object.keys(read).length > 0
        ? [{ updateOne: { filter: { _id }, update: { $max: read } } }]
        : []),
    ]);
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

  async get(conversationId: string, messageId: string): Promise<Message | null> {
    if (!isValidObjectId(messageId)) return null;
    const doc = await this.models.messages
      .findOne({ _id: new Types.ObjectId(messageId), conversationId })
      .lean<MessageDoc>();
    return doc ? toMessage(doc) : null;
  }

  /**
   * Three round trips: the conversation's next version (reserved like a send's, so retries of
   * sends still count back right), the message's change at that version (only while the
   * expectations hold and no newer revision landed), and the preview when it shows this message.
   * A version taken by a revision that then did not apply is burned: devices see a gap, sync,
   * and find nothing missing.
   */
  async revise(
    conversationId: string,
    messageId: string,
    revision: Revision,
    expect: { senderId?: string; sentSince?: Date } = {},
  ): Promise<Message | null> {
    if (!isValidObjectId(conversationId) || !isValidObjectId(messageId)) return null;
    const key = reservationKey(`revise:${messageId}`, String(revision.at.getTime()));
    const conversation = await this.models.conversations
      .findOneAndUpdate(
        { _id: conversationId },
        {
          $inc: { version: 1 },
          $push: { reservations: { $each: [{ k: key, m: 0 }], $slice: -RESERVATIONS_KEPT } },
        },
        { returnDocument: 'after', projection: { version: 1 } },
      )
      .lean<Pick<ConversationDoc, 'version'>>();
    if (!conversation) return null;
    const version = conversation.version;
    const change =
      revision.kind === 'edit'
        ? { $set: { version, body: revision.body, editedAt: revision.at } }
        : {
            $set: { version, body: '', deletedAt: revision.at, deletedBy: revision.by },
            $unset: { attachments: 1 },
          };
    const doc = await this.models.messages
      .findOneAndUpdate(
        {
          _id: new Types.ObjectId(messageId),
          conversationId,
          deletedAt: { $exists: false },
          version: { $lt: version },
          ...(expect.senderId !== undefined && { senderId: expect.senderId }),
          ...(expect.sentSince && { createdAt: { $gte: expect.sentSince } }),
        },
        change,
        { returnDocument: 'after' },
      )
      .lean<MessageDoc>();
    if (!doc) return null;
    const message = toMessage(doc);
    await this.models.conversations.updateOne(
      {
        _id: conversationId,
        'lastMessage.id': messageId,
        $or: [{ 'lastMessage.rv': { $exists: false } }, { 'lastMessage.rv': { $lt: version } }],
      },
      {
        $set: {
          'lastMessage.body': cutText(message.body, LIMITS.previewLength),
          'lastMessage.rv': version,
          ...(message.deletedAt && { 'lastMessage.deleted': true }),
        },
      },
    );
    return message;
  }
}

class MongoContacts implements ContactStore {
  private readonly model: Models['contacts'];
  private readonly blocks: Models['blocks'];

  constructor(models: Models) {
    this.model = models.contacts;
    this.blocks = models.blocks;
  }

  async among(userId: string, candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const unique = [...new Set(candidates)];
    const [docs, blocked] = await Promise.all([
      this.model
        .find({ userId, contactId: { $in: unique } }, { contactId: 1 })
        .lean<{ contactId: string }[]>(),
      this.blockedAmong(userId, unique),
    ]);
    const excluded = new Set(blocked);
    return docs.map((d) => d.contactId).filter((id) => !excluded.has(id));
  }

  /** Up to `limit`: the newest contacts, less those behind a block. */
  async audience(userId: string, limit: number): Promise<string[]> {
    const docs = await this.model
      .find({ userId }, { contactId: 1 })
      .sort({ since: -1 })
      .limit(limit)
      .lean<{ contactId: string }[]>();
    const ids = docs.map((d) => d.contactId);
    const excluded = new Set(await this.blockedAmong(userId, ids));
    return ids.filter((id) => !excluded.has(id));
  }

  async accepted(a: string, b: string): Promise<boolean> {
    return (await this.model.exists({ userId: a, contactId: b })) !== null;
  }

  async blockedAmong(userId: string, candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const unique = [...new Set(candidates)];
    const docs = await this.blocks
      .find(
        {
          $or: [
            { blocker: userId, blocked: { $in: unique } },
            { blocked: userId, blocker: { $in: unique } },
          ],
        },
        { blocker: 1, blocked: 1 },
      )
      .lean<BlockDoc[]>();
    return [...new Set(docs.map((d) => (d.blocker === userId ? d.blocked : d.blocker)))];
  }

  async block(blocker: string, blocked: string, at: Date): Promise<boolean> {
    try {
      await this.blocks.collection.insertOne({ blocker, blocked, since: at });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async unblock(blocker: string, blocked: string): Promise<boolean> {
    return (await this.blocks.deleteOne({ blocker, blocked })).deletedCount === 1;
  }

  async blockedBy(
    userId: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ users: { userId: string; since: Date }[]; nextCursor?: string }> {
    const filter: Record<string, unknown> = { blocker: userId };
    if (page.cursor) {
      const { at, id } = decodeActivityCursor(page.cursor);
      filter['$or'] = [{ since: { $lt: at } }, { since: at, blocked: { $lt: id } }];
    }
    const docs = await this.blocks
      .find(filter, { blocked: 1, since: 1 })
      .sort({ since: -1, blocked: -1 })
      .limit(page.limit + 1)
      .lean<BlockDoc[]>();
    const users = docs.slice(0, page.limit).map((d) => ({ userId: d.blocked, since: d.since }));
    return {
      users,
      ...nextCursorOf(docs.length, page.limit, users, (i) => [i.since, i.userId]),
    };
  }
}

function toReport(doc: ReportDoc): Report {
  return {
    id: doc._id.toHexString(),
    reporterId: doc.reporterId,
    reportedUserId: doc.reportedUserId,
    conversationId: doc.conversationId,
    ...(doc.messageId && { messageId: doc.messageId }),
    reason: doc.reason as Report['reason'],
    ...(doc.note && { note: doc.note }),
    ...(doc.snapshot && { snapshot: { ...doc.snapshot } }),
    createdAt: doc.createdAt,
    status: doc.status,
    ...(doc.resolution && { resolution: doc.resolution as ReportResolution }),
    ...(doc.resolvedBy && { resolvedBy: doc.resolvedBy }),
    ...(doc.resolvedAt && { resolvedAt: doc.resolvedAt }),
  };
}

class MongoReports implements ReportStore {
  constructor(private readonly model: Models['reports']) {}

  async create(report: NewReport): Promise<Report> {
    const doc: ReportDoc = { _id: new Types.ObjectId(), ...report, status: 'open' };
    await this.model.collection.insertOne(doc);
    return toReport(doc);
  }

  async get(id: string): Promise<Report | null> {
    if (!isValidObjectId(id)) return null;
    const doc = await this.model.findById(id).lean<ReportDoc>();
    return doc ? toReport(doc) : null;
  }

  async list(query: {
    status?: Report['status'];
    limit: number;
    cursor?: string;
  }): Promise<{ reports: Report[]; nextCursor?: string }> {
    const filter: Record<string, unknown> = query.status ? { status: query.status } : {};
    if (query.cursor) {
      const { at, id } = decodeActivityCursor(query.cursor);
      if (!isValidObjectId(id)) return { reports: [] };
      filter['$or'] = [
        { createdAt: { $lt: at } },
        { createdAt: at, _id: { $lt: new Types.ObjectId(id) } },
      ];
    }
    const docs = await this.model
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .lean<ReportDoc[]>();
    const reports = docs.slice(0, query.limit).map(toReport);
    return {
      reports,
      ...nextCursorOf(docs.length, query.limit, reports, (i) => [i.createdAt, i.id]),
    };
  }

  async resolve(
    id: string,
    by: string,
    resolution: ReportResolution,
    at: Date,
  ): Promise<Report | null> {
    if (!isValidObjectId(id)) return null;
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, status: 'open' },
        { $set: { status: 'resolved', resolution, resolvedBy: by, resolvedAt: at } },
        { returnDocument: 'after' },
      )
      .lean<ReportDoc>();
    return doc ? toReport(doc) : null;
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
  readonly reports: MongoReports;
  readonly outbox: MongoOutbox;
  readonly platform: MongoPlatform;

  private constructor(readonly connection: Connection) {
    const models = defineModels(connection);
    this.conversations = new MongoConversations(models);
    this.messages = new MongoMessages(models, this.conversations);
    this.contacts = new MongoContacts(models);
    this.reports = new MongoReports(models.reports);
    // Their models are defined here too, so `connect` creates their indexes with the rest.
    this.outbox = new MongoOutbox(connection);
    this.platform = new MongoPlatform(connection, models, this.conversations);
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
