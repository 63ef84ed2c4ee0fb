import {
  decodeActivityCursor,
  isArchivedFor,
  nextCursorOf,
  newRequestRecord,
  type Conversation,
  type ConversationBox,
  type ConversationPage,
  type ConversationStore,
  type NewConversation,
  type OrganisationChange,
  type UnreadSummary,
} from '@jobsphere/chat-domain';
import { isValidObjectId, Types } from 'mongoose';
import { addContacts } from './contacts.mongo.js';
import { isDuplicateKey } from './driver-errors.js';
import { PUBLIC_FIELDS, toConversation } from './mappers.js';
import { readKey, type ConversationDoc, type Models } from './models.js';
import { unallocated } from './version-allocator.js';

/** Direct conversations of one pair a block or unblock updates (one per job context). */
const PAIR_CONVERSATIONS_MAX = 1_000;

/**
 * Filter: the inbox leaves out requests the user received (pending or declined) and groups
 * whose invitation the user has not accepted.
 */
function inboxFilter(userId: string): Record<string, unknown> {
  return {
    memberIds: userId,
    $nor: [
      { 'request.to': userId, 'request.state': { $in: ['pending', 'declined'] } },
      { invited: userId },
      { declinedInvites: userId },
    ],
  };
}

/**
 * Filter: one box of the user's conversations. Whether an archive still holds compares two
 * fields of a document (its newest seq and the archived one), which FerretDB and the emulator
 * cannot do in a query (`$expr`): for the inbox and the archive the filter takes a superset,
 * and `listForMember` keeps those `isArchivedFor` says belong (see `stillArchivedDecides`).
 */
function boxFilter(userId: string, box: ConversationBox): Record<string, unknown> {
  if (box === 'requests') return requestsFilter(userId);
  const own = `organised.${readKey(userId)}`;
  const pinned = { [`${own}.pinnedAt`]: { $exists: true } };
  const archived = { [`${own}.archivedSeq`]: { $exists: true } };
  if (box === 'pinned') return { $and: [inboxFilter(userId), pinned] };
  if (box === 'archived') return { $and: [inboxFilter(userId), archived] };
  // Archived and muted stays archived whatever arrives: left out by the query itself.
  const mutedArchive = { ...archived, [`${own}.muted`]: true };
  return { $and: [inboxFilter(userId), { $nor: [pinned, mutedArchive] }] };
}

/** For the boxes `boxFilter` over-selects: whether a conversation found belongs. */
function stillArchivedDecides(
  box: ConversationBox,
  userId: string,
): ((c: Conversation) => boolean) | undefined {
  if (box === 'archived') return (c) => isArchivedFor(c, userId);
  if (box === 'inbox') return (c) => !isArchivedFor(c, userId);
  return undefined;
}

/** Filter: the pending requests and group invitations the user received. */
function requestsFilter(userId: string): Record<string, unknown> {
  return { $or: [{ 'request.to': userId, 'request.state': 'pending' }, { invited: userId }] };
}

/**
 * The direct keys of a pair (see `directKey` in the domain's rules): they all start with
 * `direct:x:y:`, so they lie in [`direct:x:y:`, `direct:x:y;`) (';' follows ':'). A range, not a
 * regular expression, so any server walks the index; `$exists: true` because DocumentDB uses a
 * sparse index only for a query that says so (otherwise it scans every conversation).
 */
function pairKeys(a: string, b: string): { $gte: string; $lt: string; $exists: true } {
  const [x, y] = a < b ? [a, b] : [b, a];
  const prefix = ['direct', x, y].map((part) => encodeURIComponent(part)).join(':');
  return { $gte: `${prefix}:`, $lt: `${prefix};`, $exists: true };
}

export class MongoConversations implements ConversationStore {
  constructor(private readonly models: Models) {}

  async create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    const { request, requestAllowance, ...rest } = input;
    const memberIds = input.members.map((m) => m.userId);
    // A block set between the caller's check and this insert still holds.
    const blocked =
      input.kind === 'direct' &&
      (await this.models.blocks.exists({
        $or: [
          { blocker: memberIds[0], blocked: memberIds[1] },
          { blocker: memberIds[1], blocked: memberIds[0] },
        ],
      })) !== null;
    const invitations = Object.fromEntries(
      input.members.flatMap((m) => (m.invitation ? [[readKey(m.userId), m.invitation]] : [])),
    );
    const invited = input.members.filter((m) => m.invitation).map((m) => m.userId);
    const doc: ConversationDoc = {
      _id: new Types.ObjectId(),
      ...rest,
      members: input.members.map((m) => ({ userId: m.userId, role: m.role, joinedAt: m.joinedAt })),
      memberIds,
      ...(invited.length > 0 && { invitations, invited }),
      reads: {},
      ...unallocated(),
      lastActivityAt: input.createdAt,
      request: newRequestRecord(request, requestAllowance),
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
        .findOne({ directKey: { $eq: input.directKey, $exists: true } }, PUBLIC_FIELDS)
        .lean<ConversationDoc>();
      if (!existing) throw error;
      result = { conversation: toConversation(existing), created: false };
    }
    if (!result.conversation.request) await addContacts(this.models.contacts, result.conversation);
    return result;
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
    const box = boxFilter(userId, page.box ?? 'inbox');
    const belongs = stillArchivedDecides(page.box ?? 'inbox', userId);
    let filter: Record<string, unknown> = box;
    if (page.cursor) {
      const { at, id } = decodeActivityCursor(page.cursor);
      if (!isValidObjectId(id)) return { conversations: [] };
      const beyond = {
        $or: [
          { lastActivityAt: { $lt: at } },
          { lastActivityAt: at, _id: { $lt: new Types.ObjectId(id) } },
        ],
      };
      filter = { $and: [box, beyond] };
    }
    const docs = await this.models.conversations
      .find(filter, PUBLIC_FIELDS)
      .sort({ lastActivityAt: -1, _id: -1 })
      .limit(page.limit + 1)
      .lean<ConversationDoc[]>();
    const scanned = docs.slice(0, page.limit).map(toConversation);
    return {
      conversations: belongs ? scanned.filter(belongs) : scanned,
      // From the last one scanned: a page the archive thinned still leads on.
      ...nextCursorOf(docs.length, page.limit, scanned, (i) => [i.lastActivityAt, i.id]),
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
    if (answer === 'accept') await addContacts(this.models.contacts, conversation);
    return conversation;
  }

  async requestBetween(from: string, to: string): Promise<Conversation | null> {
    const doc = await this.models.conversations
      .findOne(
        {
          directKey: pairKeys(from, to),
          'request.from': from,
          'request.state': { $in: ['pending', 'declined'] },
        },
        PUBLIC_FIELDS,
      )
      .lean<ConversationDoc>();
    return doc ? toConversation(doc) : null;
  }

  async setBlocked(a: string, b: string, blocked: boolean): Promise<Conversation[]> {
    const filter = { directKey: pairKeys(a, b), blocked: blocked ? { $ne: true } : true };
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

  async advanceDelivered(
    conversationId: string,
    userId: string,
    seq: number,
  ): Promise<number | null> {
    if (!isValidObjectId(conversationId)) return null;
    const key = `delivered.${readKey(userId)}`;
    const doc = await this.models.conversations
      .findOneAndUpdate(
        { _id: conversationId, memberIds: userId },
        { $max: { [key]: seq } },
        { returnDocument: 'after', projection: { [key]: 1 } },
      )
      .lean<Pick<ConversationDoc, 'delivered'>>();
    return doc ? (doc.delivered?.[readKey(userId)] ?? seq) : null;
  }

  async organise(
    conversationId: string,
    userId: string,
    change: OrganisationChange,
  ): Promise<Conversation | null> {
    if (!isValidObjectId(conversationId)) return null;
    const own = `organised.${readKey(userId)}`;
    const $set: Record<string, unknown> = {};
    const $unset: Record<string, ''> = {};
    if (change.muted !== undefined) $set[`${own}.muted`] = change.muted;
    if (change.markedUnread !== undefined) $set[`${own}.markedUnread`] = change.markedUnread;
    if (change.pinnedAt === null) $unset[`${own}.pinnedAt`] = '';
    else if (change.pinnedAt) $set[`${own}.pinnedAt`] = change.pinnedAt;
    if (change.archivedSeq === null) $unset[`${own}.archivedSeq`] = '';
    else if (change.archivedSeq !== undefined) $set[`${own}.archivedSeq`] = change.archivedSeq;
    const update = {
      ...(Object.keys($set).length > 0 && { $set }),
      ...(Object.keys($unset).length > 0 && { $unset }),
    };
    const filter = { _id: conversationId, memberIds: userId };
    const doc =
      Object.keys(update).length > 0
        ? await this.models.conversations
            .findOneAndUpdate(filter, update, {
              returnDocument: 'after',
              projection: PUBLIC_FIELDS,
            })
            .lean<ConversationDoc>()
        : await this.models.conversations.findOne(filter, PUBLIC_FIELDS).lean<ConversationDoc>();
    return doc ? toConversation(doc) : null;
  }

  async countPinned(userId: string, max: number): Promise<number> {
    return this.models.conversations
      .countDocuments({
        memberIds: userId,
        [`organised.${readKey(userId)}.pinnedAt`]: { $exists: true },
      })
      .limit(max + 1);
  }

  async unreadSummary(userId: string, maxConversations: number): Promise<UnreadSummary> {
    const key = readKey(userId);
    const docs = await this.models.conversations
      .find(inboxFilter(userId), {
        'lastMessage.seq': 1,
        [`reads.${key}`]: 1,
        [`organised.${key}.muted`]: 1,
        [`organised.${key}.markedUnread`]: 1,
      })
      .sort({ lastActivityAt: -1, _id: -1 })
      .limit(maxConversations + 1)
      .lean<Pick<ConversationDoc, 'lastMessage' | 'reads' | 'organised'>[]>();
    let total = 0;
    for (const d of docs.slice(0, maxConversations)) {
      const own = d.organised?.[key];
      if (own?.muted === true) continue;
      const unread = Math.max(0, (d.lastMessage?.seq ?? 0) - (d.reads?.[key] ?? 0));
      total += own?.markedUnread === true ? Math.max(1, unread) : unread;
    }
    return { total, capped: docs.length > maxConversations };
  }
}
