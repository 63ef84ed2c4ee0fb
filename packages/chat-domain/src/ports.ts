import {
  type Conversation,
  type JobContext,
  type Member,
  type Message,
  type MessageAttachment,
  type MessageKind,
  type MessageSafety,
  type Report,
  type ReportResolution,
  type ReportStatus,
} from './entities.js';
import { type ActionAnswer, type ActionCard } from './actions.js';
import { type ServerToClientEvents } from './events.js';
import { type ModerationStore } from './moderation.js';
import { type OutboxStore, type PlatformStore } from './platform.js';
import { type ReactionChange, type ReactionSettings } from './reactions.rules.js';
import { type ScheduledSendStore } from './scheduled.js';
import { type ResponseTimeStore } from './response-times.js';
import { type TemplateStore } from './templates.js';

export interface NewConversation extends JobContext {
  kind: Conversation['kind'];
  title?: string;
  members: Omit<Member, 'lastReadSeq'>[];
  createdBy: string;
  createdAt: Date;
  /** Set for direct conversations: unique, makes creation idempotent. */
  directKey?: string;
  /** A direct conversation opened with a stranger: the recipient gets it as a request. */
  request?: { from: string; to: string };
  /** Messages the opener may send while the request is pending. */
  requestAllowance?: number;
}

/**
 * Which of a member's conversations: the usual list (neither pinned nor archived by them), the
 * requests strangers sent, those they pinned, or those they archived (see `isArchivedFor`).
 */
export type ConversationBox = 'inbox' | 'requests' | 'pinned' | 'archived';

/** A change to a member's own organisation; what is left out stays, null clears. */
export interface OrganisationChange {
  muted?: boolean;
  pinnedAt?: Date | null;
  archivedSeq?: number | null;
  markedUnread?: boolean;
}

export interface ConversationPage {
  conversations: Conversation[];
  nextCursor?: string;
}

export interface UnreadSummary {
  /** Unread messages over the member's `scanned` most recent conversations. */
  total: number;
  /** True when the member has more conversations than were counted (the total is a floor). */
  capped: boolean;
}

/**
 * Conversations and their members' read positions. Every query is bounded by its arguments,
 * never by how many conversations a user has.
 */
export interface ConversationStore {
  /**
   * Inserts, or returns the existing conversation with the same directKey (`created: false`),
   * also when two creations race. Unless it is a request, its members are accepted contacts of
   * each other afterwards, except members added with an open invitation (they become contacts
   * when they accept). A new direct conversation between people one of whom blocked the other
   * starts blocked.
   */
  create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }>;
  /** Null for unknown and malformed ids alike. */
  get(id: string): Promise<Conversation | null>;
  /** The ones that exist, in any order; the caller bounds `ids`. */
  getMany(ids: string[]): Promise<Conversation[]>;
  /**
   * The member's conversations, most recent activity first; the cursor is opaque to callers.
   * The inbox leaves out requests the member received and groups whose invitation the member
   * has not accepted (pending or declined); `requests` holds the pending ones of both only.
   * The inbox also leaves out what the member pinned or archived (`pinned`, `archived`). A page
   * of the inbox or the archive may hold fewer than `limit` (a store that cannot compare two
   * fields in a query thins it afterwards); keep paging while `nextCursor` is set.
   */
  listForMember(
    userId: string,
    page: { limit: number; cursor?: string; box?: ConversationBox },
  ): Promise<ConversationPage>;
  /**
   * The recipient answers a request: accepted, the conversation is an ordinary one and the two
   * are contacts; declined, it leaves the recipient's lists and the opener can send no more.
   * Null when `userId` has no such request to answer (a declined one can still be accepted).
   */
  answerRequest(
    conversationId: string,
    userId: string,
    answer: 'accept' | 'decline',
  ): Promise<Conversation | null>;
  /**
   * A request `from` sent `to` that is still pending or was declined, in any job context:
   * one stranger gets one request to a person at a time. Null when there is none.
   */
  requestBetween(from: string, to: string): Promise<Conversation | null>;
  /**
   * Moves a member's read position forward to `seq` (never back); returns the resulting
   * position, or null when the user is not a member. The caller checks `seq` against the
   * newest message.
   */
  advanceRead(conversationId: string, userId: string, seq: number): Promise<number | null>;
  /**
   * Moves a member's delivered position forward to `seq` (never back), apart from the read one;
   * returns the resulting delivered position, or null when the user is not a member. The caller
   * checks `seq` against the newest message.
   */
  advanceDelivered(conversationId: string, userId: string, seq: number): Promise<number | null>;
  /**
   * Changes a member's own organisation of the conversation; returns the conversation after, or
   * null when the user is not a member.
   */
  organise(
    conversationId: string,
    userId: string,
    change: OrganisationChange,
  ): Promise<Conversation | null>;
  /** How many conversations the member pinned, counting at most `max + 1`. */
  countPinned(userId: string, max: number): Promise<number>;
  /**
   * Unread count summed over the member's `maxConversations` most recently active inbox ones
   * (pinned and archived included, muted ones left out; one marked unread counts at least 1).
   */
  unreadSummary(userId: string, maxConversations: number): Promise<UnreadSummary>;
  /**
   * Marks every direct conversation between `a` and `b` blocked or not; returns those whose
   * state changed (at most one per job context of the pair).
   */
  setBlocked(a: string, b: string, blocked: boolean): Promise<Conversation[]>;
}

export interface MessageDraft {
  conversationId: string;
  senderId: string;
  clientMessageId: string;
  body: string;
  createdAt: Date;
  /** Default 'user'. */
  kind?: MessageKind;
  attachments?: MessageAttachment[];
  /** What the content policy and the pre-send hook decided (stored with the message). */
  safety?: MessageSafety;
  /** A message of the same conversation the sender can see (`replyRefusal`), else refused. */
  replyTo?: string;
  /** Ids named by the sender; the store keeps those `keptMentions` keeps. */
  mentions?: string[];
  /** An action message's card (system messages only). */
  action?: ActionCard;
  /**
   * The sender is shadow-banned: stored with a seq and a version like any message (the sender's
   * devices sync it), but the conversation's preview and activity time stay as they were.
   */
  shadow?: boolean;
}

export interface AppendResult {
  message: Message;
  /** The conversation's kind (a group's audience is narrowed by blocks, per sender). */
  kind: Conversation['kind'];
  /** True when (conversation, sender, clientMessageId) was stored before: nothing changed. */
  duplicate: boolean;
  /** Member ids at the time of the append, less open invitations: who the message goes to. */
  memberIds: string[];
  /** This send was the recipient's reply to a request: the conversation is accepted now. */
  acceptedRequest?: boolean;
  /** The message replied to, as read beside the append (for the quoted preview). */
  replyTarget?: Message;
}

/** A change to a stored message: new text, or its removal (the body goes, a tombstone stays). */
export type Revision =
  | {
      kind: 'edit';
      body: string;
      at: Date;
      /** The edit's `safety` replaces the message's (none: removed). */
      safety?: MessageSafety;
      /** Edited by a shadow-banned sender: the message becomes theirs alone; the preview stays. */
      shadow?: true;
    }
  | { kind: 'delete'; by: string; at: Date }
  /** A member answers the message's card: applied only where `decideAnswer` admits it. */
  | ({ kind: 'answer' } & ActionAnswer);

export interface RevisionExpectation {
  senderId?: string;
  sentSince?: Date;
  /** Who revises (not a moderator): the conversation's rule for that person is applied. */
  actor?: string;
  /** The allowance a refusal names (REQUEST_PENDING). */
  allowance?: number;
}

export interface ChangePage {
  /** Messages whose version is above the one asked for, ascending by version, current state. */
  messages: Message[];
  hasMore: boolean;
}

/** A word search over some conversations' messages (`search.ts` folds the words). */
export interface MessageSearch {
  /** The caller's conversations to search; the caller bounds them. */
  conversationIds: string[];
  /** Folded words, each of which a message must hold. */
  terms: string[];
  /** Whose messages never match in these conversations (people behind a block, in groups). */
  exclude?: { conversationIds: string[]; senderIds: string[] };
  /** Strictly older than this position (time, then id), newest first. */
  before?: { at: Date; id: string };
  limit: number;
}

/**
 * The messages of conversations. `append` owns the whole rule of a send, so every store
 * proves it in the shared contract suite; the rule is `decideSend(conversation, { senderId,
 * kind })`, executed atomically with the append:
 * - the sender must be a member, else `NotMemberError` and nothing changes; a member whose
 *   invitation is open cannot send (`InvitationPendingError`);
 * - nobody may send in a blocked conversation, the opener of a request only up to its
 *   allowance and not once it was declined (`ForbiddenError`, nothing changes); the request's
 *   recipient sending accepts it (`acceptedRequest`);
 * - idempotent per (conversation, sender, clientMessageId): a repeat, also a concurrent one,
 *   returns the stored message with `duplicate: true` and changes nothing;
 * - `seq` and `version` strictly increase in append order per conversation; a retry after a
 *   failed attempt reuses the position reserved for it, so retries leave no gaps;
 * - once it resolves, the conversation shows the message as its last one (unless a newer one
 *   is there), its activity time and version moved, and the sender has read up to it;
 * - it resolves only once the message is durable: a rejection means "not known to be stored",
 *   and a retry with the same clientMessageId is always safe.
 */
export interface MessageStore {
  /**
   * Also, beside the rule of a send: a `replyTo` that `replyRefusal` refuses (read in the same
   * round trip as the send's decision, never before it) throws `replyRefusalError` and stores
   * nothing; the mentions kept are `keptMentions` of the audience, and each one kept adds the
   * message's seq to that member's `mentionSeqs` (capped) with the append.
   */
  append(draft: MessageDraft): Promise<AppendResult>;
  /** The ones of `ids` in this conversation, in any order; the caller bounds `ids`. */
  getMany(conversationId: string, ids: string[]): Promise<Message[]>;
  /**
   * Puts one person's reaction on or off a message that is not deleted, evaluating
   * `decideReaction` atomically with the write (racing reactions each see the other's). A
   * change takes a new version of the conversation (so `changesSince` returns the message);
   * no change (already so) takes none. The reactor passes `decideSend(..., { action: 'react' })`
   * with it, refusal thrown as its error. Null when the message is not there or deleted.
   */
  react(
    conversationId: string,
    messageId: string,
    change: ReactionChange,
    settings: ReactionSettings,
  ): Promise<{ message: Message; changed: boolean } | null>;
  /** seq < before (the newest ones, returned ascending), or seq > after (ascending). */
  page(
    conversationId: string,
    query: { before?: number; after?: number; limit: number },
  ): Promise<Message[]>;
  /**
   * Users' messages of `conversationIds` holding every one of `terms` as a word (folded as
   * `searchWords` folds them), newest first (time, then id), at most `limit`. Deleted and
   * erased messages, and system messages, never match; an edit matches by its new text.
   */
  search(query: MessageSearch): Promise<Message[]>;
  /** What changed after `afterVersion`, ascending by version, at most `limit` messages. */
  changesSince(conversationId: string, afterVersion: number, limit: number): Promise<ChangePage>;
  get(conversationId: string, messageId: string): Promise<Message | null>;
  /** The message `senderId` stored with `clientMessageId` (a send's idempotency key), if any. */
  sent(conversationId: string, senderId: string, clientMessageId: string): Promise<Message | null>;
  /**
   * Edits or deletes a message at a new version of its conversation (so it comes back through
   * `changesSince`), and keeps the conversation's preview in step. Applied only while the
   * message is not deleted and, when given, was sent by `senderId` no earlier than
   * `sentSince`; null when those no longer hold (a race the caller checked before). With
   * `actor`, `decideSend(conversation, { senderId: actor, kind: 'user', action: revision.kind })` is executed atomically with
   * taking the version, like a send's (an edit of a pending request's opener takes one of its
   * allowance): refused, it throws the refusal's error and changes nothing.
   */
  revise(
    conversationId: string,
    messageId: string,
    revision: Revision,
    expect?: RevisionExpectation,
  ): Promise<Message | null>;
}

/**
 * Who may see whom: accepted contacts (people in a group together, or a request accepted)
 * share presence, typing and read receipts; a block, either way, stops all of it at once.
 */
export interface ContactStore {
  /** Those of `candidates` who are accepted, unblocked contacts of `userId`; bounded by `candidates`. */
  among(userId: string, candidates: string[]): Promise<string[]>;
  /** Up to `limit` accepted, unblocked contacts of `userId`, newest first: who hears their presence. */
  audience(userId: string, limit: number): Promise<string[]>;
  /** Whether `a` and `b` are accepted contacts (a new direct conversation is then no request). */
  accepted(a: string, b: string): Promise<boolean>;
  /** Those of `candidates` with a block between them and `userId`, either way; bounded by `candidates`. */
  blockedAmong(userId: string, candidates: string[]): Promise<string[]>;
  /**
   * The pairs of `userIds` one of whom blocked the other (blocker first), at most one per pair;
   * bounded by `userIds` (a group's members).
   */
  blockedPairs(userIds: string[]): Promise<[string, string][]>;
  /** `blocker` blocks `blocked`; false when it already did. */
  block(blocker: string, blocked: string, at: Date): Promise<boolean>;
  /** Lifts `blocker`'s block of `blocked`; false when there was none. */
  unblock(blocker: string, blocked: string): Promise<boolean>;
  /** Whom `userId` blocks, newest first, paged. */
  blockedBy(
    userId: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ users: { userId: string; since: Date }[]; nextCursor?: string }>;
}

export type NewReport = Omit<
  Report,
  'id' | 'status' | 'resolution' | 'resolvedBy' | 'resolvedAt' | 'history'
>;

/** One move of a report: from whichever of `from` it is in, to `to`. */
export interface ReportStep {
  from: readonly ReportStatus[];
  to: ReportStatus;
  resolution: ReportResolution;
  by: string;
  at: Date;
}

/** Reports for moderators. The reported user never learns of them, nor who reported. */
export interface ReportStore {
  create(report: NewReport): Promise<Report>;
  get(id: string): Promise<Report | null>;
  /** Newest first, paged; `status` filters. */
  list(query: {
    status?: Report['status'];
    limit: number;
    cursor?: string;
  }): Promise<{ reports: Report[]; nextCursor?: string }>;
  /**
   * Moves a report from the state it is in, if that is one of `step.from`, to `step.to`, and
   * appends the step (with the state it actually left) to its history, in one write: of two
   * racing moves, each applies only to the state the other left. Null when the report is in
   * none of `from` (or not there): nothing changes.
   */
  transition(id: string, step: ReportStep): Promise<Report | null>;
  /** Reports about one message in one of `statuses`, oldest first, at most `limit`. */
  aboutMessage(
    messageId: string,
    statuses: readonly ReportStatus[],
    limit: number,
  ): Promise<Report[]>;
}

/** A person's own settings (receipt privacy). Unknown people have the defaults. */
export interface PreferenceStore {
  /** Those of `userIds` who turned receipts off; bounded by `userIds`. */
  hidingReceipts(userIds: string[]): Promise<string[]>;
  /** Turns a person's receipts on or off; false when they already were so. */
  setReceipts(userId: string, shown: boolean, at: Date): Promise<boolean>;
}

/** The store as the use cases see it. */
export interface ChatStore {
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly contacts: ContactStore;
  readonly reports: ReportStore;
  /** Per-person settings. */
  readonly preferences: PreferenceStore;
  /** The server API's operations (issue 15). */
  readonly platform: PlatformStore;
  /** Webhook events and offline checks waiting to be done, shared by all instances. */
  readonly outbox: OutboxStore;
  /** Scheduled and follow-up sends waiting to go, shared by all instances (issue 27). */
  readonly scheduled: ScheduledSendStore;
  /** Response-time figures, kept incrementally at send time (issue 27). */
  readonly responseTimes: ResponseTimeStore;
  /** Message templates and the values of their variables per conversation (issue 27). */
  readonly templates: TemplateStore;
  /** Restrictions, flags, slow modes and the audit log (issue 25). */
  readonly moderation: ModerationStore;
  readonly kind: 'memory' | 'mongodb';
  /**
   * The store's epoch, the second half of every sync position (centrifuge's
   * `StreamPosition{Offset, Epoch}`): versions are comparable only within one epoch. A store that
   * forgot or was wound back (reset, restored from a snapshot) answers a new one, so devices
   * holding versions from before start over instead of reading "unchanged".
   */
  epoch(): Promise<string>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

type EventName = keyof ServerToClientEvents;

/** Delivery to every connected device of some users, on every instance; at most once. */
export interface FanOut {
  toUsers<E extends EventName>(
    userIds: readonly string[],
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
    options?: { exceptSocketId?: string; volatile?: boolean },
  ): void;
}

/**
 * Sends whose sender was told UNAVAILABLE: the write may still land, and then nobody announced
 * it. A retry that finds the message stored (a duplicate) announces it when it was marked here,
 * once. Shared across instances (a retry may reach another one); best effort by contract: a
 * mark lost with Redis leaves the message to `sync`, as every missed live event is.
 */
export interface UnannouncedSends {
  /**
   * Marks a send; with `recheck`, also runs it once a little later (after the store's deadline),
   * best effort and bounded: an instance that dies or is busy leaves the mark to the retry.
   */
  mark(key: string, recheck?: () => Promise<void>): Promise<void>;
  /** True for a marked key, once (the mark is removed). */
  take(key: string): Promise<boolean>;
}

export interface Clock {
  now(): Date;
}
