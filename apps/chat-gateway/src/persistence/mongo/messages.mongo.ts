import {
  ConflictError,
  decideReaction,
  decideAnswer,
  decideSend,
  keptMentions,
  MENTION_LIMITS,
  NotMemberError,
  replyRefusal,
  replyRefusalError,
  type ReactionChange,
  type ReactionSettings,
  repliesToRequest,
  sendRefusalError,
  UnavailableError,
  type ActionAnswer,
  ValidationError,
  type AppendResult,
  type ChangePage,
  type Conversation,
  type Message,
  type MessageDraft,
  type MessageSearch,
  type MessageStore,
  type Revision,
  type RevisionExpectation,
  type SendAttempt,
} from '@jobsphere/chat-domain';
import { createHash } from 'node:crypto';
import { isValidObjectId, Types, type mongo } from 'mongoose';
import { addContacts } from './contacts.mongo.js';
import { isDuplicateKey } from './driver-errors.js';
import { errorsByStatement, GroupCommit } from './group-commit.js';
import {
  audienceOfDoc,
  PUBLIC_FIELDS,
  requestRecordOf,
  sendSubjectOf,
  toConversation,
  toMessage,
  toActionCard,
  toPreviewDoc,
} from './mappers.js';
import { NO_LIMITS, commandTimeMs, timeLeft, type StoreLimits } from './store-limits.js';
import {
  readKey,
  searchKey,
  searchKeysOf,
  type ConversationDoc,
  type MessageDoc,
  type Models,
} from './models.js';
import { answerChange, answerGuard } from './answer-guard.js';
import { sendChanges, sendGuard } from './send-guard.js';
import { reservationKey, reservedSlot, type VersionAllocator } from './version-allocator.js';

/**
 * Writes of concurrent sends that share one command (group-commit.ts): a batch is bounded so
 * one command stays small, and so is what may wait for one (past it: UNAVAILABLE at once).
 */
const GROUP_COMMIT = { maxBatch: 200, maxWaiting: 5_000 };

/** Read-decide-write rounds of one reaction: of n racing ones, the last lands by round n. */
const REACT_ROUNDS = 8;

interface Slot {
  seq: number;
  version: number;
  kind: ConversationDoc['kind'];
  /** Who the message goes to: the members less open invitations. */
  memberIds: string[];
  /** This send is the reply of a request's recipient: it accepts the request. */
  accepts?: boolean;
  /** The mentions kept (`keptMentions`). */
  mentions: string[];
  /** The message replied to, admitted by `replyRefusal`. */
  replyTarget?: Message;
}

/** What a send reads of its conversation: the decision's fields, and who joined when. */
type SendView = Pick<
  ConversationDoc,
  | 'lastSeq'
  | 'version'
  | 'memberIds'
  | 'invited'
  | 'declinedInvites'
  | 'request'
  | 'kind'
  | 'blocked'
  | 'members'
>;

/**
 * The id of the message at one position: the same for every attempt at it, so a retry and a
 * late first attempt cannot store two messages, and the preview always names the stored one.
 */
function messageId(conversationId: string, version: number): Types.ObjectId {
  const digest = createHash('sha256').update(`${conversationId}:${version}`).digest();
  return new Types.ObjectId(digest.subarray(0, 12));
}

/**
 * A send in two sequential round trips on the common path:
 *   1. one findOneAndUpdate on the conversation: the sender is a member, this clientMessageId
 *      holds no reservation yet, and the next seq and version are taken and reserved for it;
 *   2. the insert of the message, and beside it the preview and the sender's read position
 *      (the preview only moves while this is still the newest seq).
 * A retry, a race on the same clientMessageId or a non-member take the slower path.
 */
export class MongoMessages implements MessageStore {
  /** The driver's own collection, typed: the send path's commands skip Mongoose's query layer. */
  private readonly conversationDocs: mongo.Collection<ConversationDoc>;
  private readonly messageDocs: mongo.Collection<MessageDoc>;

  /** The inserts of concurrent sends, as one insert command per round trip. */
  private readonly inserts: GroupCommit<MessageDoc>;
  /** Their previews and read positions, as one update command per round trip. */
  private readonly bookkeeping: GroupCommit<mongo.AnyBulkWriteOperation<ConversationDoc>[]>;

  constructor(
    private readonly models: Models,
    private readonly allocator: VersionAllocator,
    private readonly limits: StoreLimits = NO_LIMITS,
  ) {
    this.conversationDocs = models.conversations
      .collection as unknown as mongo.Collection<ConversationDoc>;
    const messageDocs = models.messages.collection as unknown as mongo.Collection<MessageDoc>;
    this.messageDocs = messageDocs;
    const commit = { ...GROUP_COMMIT, minCommandMs: limits.roundTripMs };
    this.inserts = new GroupCommit(async (docs, maxTimeMS) => {
      const options = maxTimeMS === undefined ? {} : { maxTimeMS };
      try {
        if (docs.length === 1) await messageDocs.insertOne(docs[0]!, options);
        else await messageDocs.insertMany(docs, { ordered: false, ...options });
        return [];
      } catch (error) {
        // A duplicate clientMessageId refuses its own message, not the others.
        return errorsByStatement(error, docs.length);
      }
    }, commit);
    this.bookkeeping = new GroupCommit(async (perSend, maxTimeMS) => {
      const statements = perSend.flat();
      try {
        await this.conversationDocs.bulkWrite(statements, {
          ordered: false,
          ...(maxTimeMS !== undefined && { maxTimeMS }),
        });
        return [];
      } catch (error) {
        const errors = errorsByStatement(error, statements.length);
        // A send is refused by the first of its own statements that failed.
        let at = 0;
        return perSend.map((own) =>
          errors.slice(at, (at += own.length)).find((e) => e !== undefined),
        );
      }
    }, commit);
  }

  async append(draft: MessageDraft): Promise<AppendResult> {
    if (!isValidObjectId(draft.conversationId)) throw new NotMemberError(draft.conversationId);
    const key = reservationKey(draft.senderId, draft.clientMessageId);
    // When the caller stops waiting: no write of this send may land after it.
    const deadline = Date.now() + this.limits.deadlineMs;
    // Bounded: every pass either finishes or met a state another attempt just changed.
    for (let attempt = 0; attempt < 3; attempt++) {
      const reserved = await this.reserve(draft, key, deadline);
      if (reserved) return this.store(draft, reserved, deadline);
      const resolved = await this.resolve(draft, key, deadline);
      if (resolved) return resolved;
    }
    throw new UnavailableError('message could not be stored, not sent');
  }

  /**
   * Takes the next position for a first attempt the domain admits (its guard compiled into the
   * filter); null when this key was seen or the guard refused. The document comes back as it
   * was before, which is what the decision saw: asked again, it says what the send changes.
   */
  private async reserve(draft: MessageDraft, key: string, deadline: number): Promise<Slot | null> {
    const attempt = { senderId: draft.senderId, kind: draft.kind ?? 'user' };
    // The message replied to is read beside the update that takes the position, never before
    // it: a reply costs no round trip more than a send (a refused one leaves a gap).
    const [before, target] = await Promise.all([
      this.allocator.take<SendView>(
        {
          _id: new Types.ObjectId(draft.conversationId),
          // Not `'reservations.k': {$ne: key}`: the same on MongoDB and DocumentDB, but FerretDB
          // v1 matches $ne through an array of documents when any element differs.
          $nor: [{ 'reservations.k': key }],
          ...sendGuard(attempt),
        },
        [{ key, message: true }],
        {
          alongside: sendChanges(attempt),
          projection: {
            lastSeq: 1,
            version: 1,
            memberIds: 1,
            invited: 1,
            declinedInvites: 1,
            request: 1,
            kind: 1,
            blocked: 1,
            members: 1,
          },
          returnDocument: 'before',
          ...timeLeft(deadline, this.limits),
        },
      ),
      this.replyTarget(draft, deadline),
    ]);
    if (!before) return null;
    const decision = decideSend(sendSubjectOf(before), attempt);
    // The guard and the decision disagree: the decision stands (the position taken is a gap).
    if (!decision.ok) throw sendRefusalError(decision.refusal, draft.conversationId);
    return {
      seq: before.lastSeq + 1,
      version: before.version + 1,
      ...this.admitted(draft, before, target),
      ...(decision.changes.acceptsRequest && { accepts: true }),
    };
  }

  /** The message `draft` replies to, if any (null: not there). */
  private async replyTarget(draft: MessageDraft, deadline: number): Promise<Message | null> {
    if (draft.replyTo === undefined || !isValidObjectId(draft.replyTo)) return null;
    const doc = await this.messageDocs.findOne(
      { _id: new Types.ObjectId(draft.replyTo), conversationId: draft.conversationId },
      timeLeft(deadline, this.limits),
    );
    return doc ? toMessage(doc) : null;
  }

  /** The reply's target and the mentions, as the domain admits them on the conversation read. */
  private admitted(
    draft: MessageDraft,
    conversation: Omit<SendView, 'lastSeq' | 'version'>,
    target: Message | null,
  ): Omit<Slot, 'seq' | 'version'> {
    if (draft.replyTo !== undefined) {
      const joined = conversation.members.find((m) => m.userId === draft.senderId)?.joinedAt;
      const refusal = replyRefusal(target, draft.conversationId, joined, draft.senderId);
      if (refusal) throw replyRefusalError(refusal);
    }
    const memberIds = audienceOfDoc(conversation);
    return {
      kind: conversation.kind,
      memberIds,
      mentions: keptMentions(draft.mentions, conversation.kind, memberIds, draft.senderId),
      ...(target && { replyTarget: target }),
    };
  }

  /**
   * After a refused reservation: the stored duplicate, the reservation to reuse, or the
   * decision's refusal, named by the decision on the conversation as it is now.
   */
  private async resolve(
    draft: MessageDraft,
    key: string,
    deadline: number,
  ): Promise<AppendResult | null> {
    const [existing, conversation, target] = await Promise.all([
      this.findByClientMessageId(draft),
      this.models.conversations
        .findById(draft.conversationId, {
          kind: 1,
          memberIds: 1,
          invited: 1,
          declinedInvites: 1,
          lastSeq: 1,
          version: 1,
          reservations: 1,
          request: 1,
          blocked: 1,
          members: 1,
        })
        .lean<SendView & Pick<ConversationDoc, 'reservations'>>(),
      this.replyTarget(draft, deadline),
    ]);
    if (!conversation) throw new NotMemberError(draft.conversationId);
    const attempt = { senderId: draft.senderId, kind: draft.kind ?? 'user' };
    const decision = decideSend(sendSubjectOf(conversation), attempt);
    // Someone who is not a member learns nothing, not even that the message exists.
    if (!decision.ok && decision.refusal.reason === 'not-member')
      throw sendRefusalError(decision.refusal, draft.conversationId);
    const { kind } = conversation;
    const memberIds = audienceOfDoc(conversation);
    if (existing) return { message: existing, duplicate: true, kind, memberIds };
    const slot = reservedSlot(conversation, key);
    // A retry keeps the position its first attempt took, whatever changed since; its reply is
    // judged again (a first attempt refused for its reply left its position behind).
    if (slot)
      return this.store(
        draft,
        {
          ...slot,
          ...this.admitted(draft, conversation, target),
          ...(attempt.kind !== 'system' &&
            repliesToRequest(requestRecordOf(conversation), draft.senderId) && { accepts: true }),
        },
        deadline,
      );
    if (!decision.ok) throw sendRefusalError(decision.refusal, draft.conversationId);
    // No reservation: another attempt's is racing in, or ours aged out of the list. Go again.
    return null;
  }

  private async store(draft: MessageDraft, slot: Slot, deadline: number): Promise<AppendResult> {
    const { mentions: _named, ...written } = draft;
    const doc: MessageDoc = {
      _id: messageId(draft.conversationId, slot.version),
      ...written,
      ...(slot.mentions.length > 0 && { mentions: slot.mentions }),
      kind: draft.kind ?? 'user',
      seq: slot.seq,
      version: slot.version,
      ...((draft.kind ?? 'user') === 'user' && {
        searchKeys: searchKeysOf(draft.conversationId, draft.body),
      }),
    };
    const [insert, bookkeeping] = await Promise.allSettled([
      this.inserts.submit(doc, deadline),
      this.recordSend(doc, slot.accepts === true, deadline),
    ]);
    if (insert.status === 'rejected') {
      if (isDuplicateKey(insert.reason)) {
        // The same clientMessageId raced in on another socket or instance, and it won.
        const winner = await this.findByClientMessageId(draft);
        if (!winner) throw new UnavailableError('message could not be stored, not sent');
        return { message: winner, duplicate: true, kind: slot.kind, memberIds: slot.memberIds };
      }
      // No answer (a connection reset, a timeout): the insert may have been written. Ask while
      // the caller still waits: a stored message is acked and announced like any other, not
      // left for a retry that would find a duplicate nobody was told about.
      const landed =
        deadline - Date.now() > 2 * this.limits.roundTripMs
          ? await this.findByClientMessageId(draft, deadline).catch(() => null)
          : null;
      if (landed?.id !== toMessage(doc).id) throw insert.reason;
    }
    // The message is stored: it is acked and announced even when its preview or read position
    // failed (the next send rewrites the preview; a reply that failed to accept accepts again).
    const accepted = bookkeeping.status === 'fulfilled' && bookkeeping.value;
    return {
      message: toMessage(doc),
      duplicate: false,
      kind: slot.kind,
      memberIds: slot.memberIds,
      ...(accepted && { acceptedRequest: true }),
      ...(slot.replyTarget && { replyTarget: slot.replyTarget }),
    };
  }

  /**
   * The sender's read position, and the preview while this is still the newest seq. Written
   * beside the insert, not after it: every attempt at one position carries the same message id,
   * so the preview names the message that is (or, after a failed attempt, will be) stored.
   */
  private async recordSend(doc: MessageDoc, accepts: boolean, deadline: number): Promise<boolean> {
    if (!accepts) {
      await this.recordPreview(doc, deadline);
      return false;
    }
    // A reply that accepts: the acceptance first, then the preview beside the contacts (as
    // deep as acceptance then contacts was). Two updates of one conversation are never in
    // flight together: a server without atomic single-document updates (FerretDB v1) lets the
    // later one write back the document the earlier one changed.
    const accepted = await this.acceptByReply(doc);
    await Promise.all([
      this.recordPreview(doc, deadline),
      accepted && addContacts(this.models.contacts, accepted),
    ]);
    return accepted !== null;
  }

  /** The recipient of a request replied: the request is accepted (null when already it was). */
  private async acceptByReply(doc: MessageDoc): Promise<Conversation | null> {
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
    return updated ? toConversation(updated) : null;
  }

  private async recordPreview(doc: MessageDoc, deadline: number): Promise<void> {
    // A system message moves nobody's read position: everyone has it unread.
    const read: Record<string, number> =
      doc.kind === 'system' ? {} : { [`reads.${readKey(doc.senderId)}`]: doc.seq };
    const _id = new Types.ObjectId(doc.conversationId);
    // Two statements of one update command (shared with concurrent sends): the preview while
    // this is still the newest seq (so statements may run in any order), and the sender's read
    // position whatever a newer message did to the preview.
    await this.bookkeeping.submit(
      [
        // A shadow-banned sender's message changes nothing the others see of the conversation.
        ...(doc.shadow
          ? []
          : [
              {
                updateOne: {
                  filter: { _id, lastSeq: doc.seq },
                  update: {
                    $set: {
                      lastMessage: toPreviewDoc(toMessage(doc)),
                      lastActivityAt: doc.createdAt,
                    },
                  },
                },
              },
            ]),
        ...(Object.keys(read).length > 0
          ? [{ updateOne: { filter: { _id }, update: { $max: read } } }]
          : []),
        // Each mentioned member's counter: the seq kept beside their read position (capped).
        ...(doc.mentions?.length
          ? [
              {
                updateOne: {
                  filter: { _id },
                  update: {
                    $push: Object.fromEntries(
                      doc.mentions.map((u) => [
                        `mentioned.${readKey(u)}`,
                        { $each: [doc.seq], $slice: -MENTION_LIMITS.maxMentionSeqsKept },
                      ]),
                    ),
                  },
                },
              },
            ]
          : []),
      ],
      deadline,
    );
  }

  private async findByClientMessageId(
    draft: MessageDraft,
    deadline = Number.POSITIVE_INFINITY,
  ): Promise<Message | null> {
    const doc = await this.models.messages
      .findOne(
        {
          conversationId: draft.conversationId,
          senderId: draft.senderId,
          clientMessageId: draft.clientMessageId,
        },
        undefined,
        timeLeft(deadline, this.limits),
      )
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

  /**
   * One word (the longest: likely the rarest) picks the index entries, of the searcher's
   * conversations only; every other word must be a key of the message's own conversation too.
   */
  async search(query: MessageSearch): Promise<Message[]> {
    const ids = [...new Set(query.conversationIds)];
    const [lead, ...others] = [...query.terms].sort((a, b) => b.length - a.length);
    if (ids.length === 0 || lead === undefined) return [];
    const keysOf = (term: string) => ({ $in: ids.map((id) => searchKey(id, term)) });
    const and: object[] = others.map((term) => ({ searchKeys: keysOf(term) }));
    if (query.exclude)
      and.push({
        $nor: [
          {
            conversationId: { $in: query.exclude.conversationIds },
            senderId: { $in: query.exclude.senderIds },
          },
        ],
      });
    const { before } = query;
    if (before && !/^[0-9a-f]{24}$/.test(before.id))
      throw new ValidationError('invalid cursor', [
        { path: 'cursor', message: 'not a cursor this server issued' },
      ]);
    if (before)
      and.push({
        $or: [
          { createdAt: { $lt: before.at } },
          { createdAt: before.at, _id: { $lt: new Types.ObjectId(before.id) } },
        ],
      });
    const find = this.models.messages
      .find({
        searchKeys: keysOf(lead),
        deletedAt: { $exists: false },
        ...(and.length > 0 && { $and: and }),
      })
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit);
    const maxTimeMS = commandTimeMs(this.limits);
    if (maxTimeMS !== undefined) find.maxTimeMS(maxTimeMS);
    const docs = await find.lean<MessageDoc[]>();
    return docs.map(toMessage);
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

  /** One read on the send's unique index (conversationId, senderId, clientMessageId). */
  async sent(
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<Message | null> {
    const doc = await this.models.messages
      .findOne({ conversationId, senderId, clientMessageId })
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
    expect: RevisionExpectation = {},
  ): Promise<Message | null> {
    if (!isValidObjectId(conversationId) || !isValidObjectId(messageId)) return null;
    // An answer the card refuses takes no version (see answer-guard.ts).
    if (
      revision.kind === 'answer' &&
      !(await this.admitsAnswer(conversationId, messageId, revision))
    )
      return null;
    const key = reservationKey(`revise:${messageId}`, String(revision.at.getTime()));
    // With an actor, the send decision for them (`action`: the revision) is compiled into the
    // update that takes the version, like a send's: an edit of a pending request's opener
    // spends the allowance in the same update.
    const attempt =
      expect.actor === undefined
        ? undefined
        : { senderId: expect.actor, kind: 'user' as const, action: revision.kind };
    const conversation = await this.allocator.take(
      { _id: new Types.ObjectId(conversationId), ...(attempt && sendGuard(attempt)) },
      [{ key, message: false }],
      { projection: { version: 1 }, ...(attempt && { alongside: sendChanges(attempt) }) },
    );
    if (!conversation) {
      if (attempt) await this.throwRefusal(conversationId, attempt);
      return null;
    }
    const version = conversation.version;
    const change =
      revision.kind === 'edit'
        ? {
            $set: {
              version,
              body: revision.body,
              editedAt: revision.at,
              ...(revision.safety && { safety: revision.safety }),
              ...(revision.shadow && { shadow: true }),
              searchKeys: searchKeysOf(conversationId, revision.body),
            },
            ...(!revision.safety && { $unset: { safety: 1 } }),
          }
        : revision.kind === 'answer'
          ? answerChange(revision, version)
          : {
              $set: { version, body: '', deletedAt: revision.at, deletedBy: revision.by },
              // The text goes with the body; the flags stay for the moderation list.
              $unset: {
                attachments: 1,
                action: 1,
                'safety.masked': 1,
                'safety.replaced': 1,
                searchKeys: 1,
              },
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
          ...(revision.kind === 'answer' && answerGuard(revision)),
        },
        change,
        { returnDocument: 'after' },
      )
      .lean<MessageDoc>();
    if (!doc) return null;
    const message = toMessage(doc);
    // A shadow edit leaves the preview as the others saw it; a deletion clears it as ever.
    if (message.shadow && revision.kind === 'edit') return message;
    await this.models.conversations.updateOne(
      {
        _id: conversationId,
        'lastMessage.id': messageId,
        $or: [{ 'lastMessage.rv': { $exists: false } }, { 'lastMessage.rv': { $lt: version } }],
      },
      { $set: { lastMessage: toPreviewDoc(message, version) } },
    );
    return message;
  }

  /** After a guarded update matched nothing: the decision names why, on the conversation now. */
  private async throwRefusal(conversationId: string, attempt: SendAttempt): Promise<void> {
    const now = await this.models.conversations
      .findById(conversationId, {
        kind: 1,
        memberIds: 1,
        invited: 1,
        declinedInvites: 1,
        request: 1,
        blocked: 1,
      })
      .lean<ConversationDoc>();
    const decision = now && decideSend(sendSubjectOf(now), attempt);
    if (decision && !decision.ok) throw sendRefusalError(decision.refusal, conversationId);
  }

  async getMany(conversationId: string, ids: string[]): Promise<Message[]> {
    const valid = ids.filter((id) => isValidObjectId(id)).map((id) => new Types.ObjectId(id));
    if (valid.length === 0) return [];
    const docs = await this.messageDocs.find({ _id: { $in: valid }, conversationId }).toArray();
    return docs.map(toMessage);
  }

  /**
   * Read, decide (`decideReaction`), write only if the message is still at the version read:
   * racing reactions each see the other's, and a lost race decides again on the new state
   * (bounded: REACT_ROUNDS people reacting to one message at the same instant all land; past it
   * the caller is told CONFLICT, try again). A change takes a version like an edit: the
   * reactor's send decision compiled into the update that takes it; a lost race leaves a gap.
   */
  async react(
    conversationId: string,
    messageId: string,
    change: ReactionChange,
    settings: ReactionSettings,
  ): Promise<{ message: Message; changed: boolean } | null> {
    if (!isValidObjectId(conversationId) || !isValidObjectId(messageId)) return null;
    const attempt = { senderId: change.userId, kind: 'user' as const, action: 'react' as const };
    for (let round = 0; round < REACT_ROUNDS; round++) {
      const current = await this.get(conversationId, messageId);
      if (!current || current.deletedAt) return null;
      const decision = decideReaction(current.reactions, change, settings);
      if (!decision.ok) throw decision.error;
      if (!decision.changed) return { message: current, changed: false };
      const key = reservationKey(`react:${messageId}`, `${change.userId}|${current.version}`);
      const conversation = await this.allocator.take(
        { _id: new Types.ObjectId(conversationId), ...sendGuard(attempt) },
        [{ key, message: false }],
        { projection: { version: 1 } },
      );
      if (!conversation) {
        await this.throwRefusal(conversationId, attempt);
        return null;
      }
      const doc = await this.messageDocs.findOneAndUpdate(
        {
          _id: new Types.ObjectId(messageId),
          conversationId,
          version: current.version,
          deletedAt: { $exists: false },
        },
        { $set: { reactions: decision.reactions, version: conversation.version } },
        { returnDocument: 'after' },
      );
      if (doc) return { message: toMessage(doc), changed: true };
    }
    throw new ConflictError('the message changed meanwhile; try again');
  }

  /** The decision on the message as it is: what cannot change in its card is settled here. */
  private async admitsAnswer(conversationId: string, messageId: string, answer: ActionAnswer) {
    const doc = await this.models.messages
      .findOne(
        { _id: new Types.ObjectId(messageId), conversationId, deletedAt: { $exists: false } },
        { action: 1 },
      )
      .lean<Pick<MessageDoc, 'action'>>();
    return doc !== null && decideAnswer(doc.action && toActionCard(doc.action), answer).ok;
  }

  /**
   * The delete path in bulk for one conversation (erasure): as many versions as messages in
   * one update, every message a tombstone at its own version, and the preview when it shows
   * one of them.
   */
  async tombstone(conversationId: string, erased: MessageDoc[], at: Date, by: string) {
    const conversation = await this.allocator.take(
      { _id: new Types.ObjectId(conversationId) },
      erased.map(() => ({ key: 'erase', message: false })),
      { projection: { version: 1 } },
    );
    if (!conversation) return;
    const first = conversation.version - erased.length + 1;
    await this.messageDocs.bulkWrite(
      erased.map(({ _id }, i) => ({
        updateOne: {
          filter: { _id, deletedAt: { $exists: false } },
          update: {
            $set: { version: first + i, body: '', deletedAt: at, deletedBy: by },
            $unset: {
              attachments: 1,
              'safety.masked': 1,
              'safety.replaced': 1,
              searchKeys: 1,
            },
          },
        },
      })),
      { ordered: false },
    );
    const tombstones = erased.map((m, i) =>
      toMessage({ ...m, version: first + i, body: '', deletedAt: at, deletedBy: by }),
    );
    await this.conversationDocs.bulkWrite(
      tombstones.map((m) => ({
        updateOne: {
          filter: { _id: new Types.ObjectId(conversationId), 'lastMessage.id': m.id },
          update: { $set: { lastMessage: toPreviewDoc(m, conversation.version) } },
        },
      })),
      { ordered: false },
    );
  }
}
