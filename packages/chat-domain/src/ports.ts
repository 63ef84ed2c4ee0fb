import { type Conversation, type JobContext, type Member, type Message } from './entities.js';
import { type ServerToClientEvents } from './events.js';

export interface NewConversation extends JobContext {
  kind: Conversation['kind'];
  title?: string;
  members: Omit<Member, 'lastReadSeq'>[];
  createdBy: string;
  createdAt: Date;
  /** Set for direct conversations: unique, makes creation idempotent. */
  directKey?: string;
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
   * also when two creations race. Either way its members are contacts of each other afterwards.
   */
  create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }>;
  /** Null for unknown and malformed ids alike. */
  get(id: string): Promise<Conversation | null>;
  /** The ones that exist, in any order; the caller bounds `ids`. */
  getMany(ids: string[]): Promise<Conversation[]>;
  /** The member's conversations, most recent activity first; the cursor is opaque to callers. */
  listForMember(
    userId: string,
    page: { limit: number; cursor?: string },
  ): Promise<ConversationPage>;
  /**
   * Moves a member's read position forward to `seq` (never back); returns the resulting
   * position, or null when the user is not a member. The caller checks `seq` against the
   * newest message.
   */
  advanceRead(conversationId: string, userId: string, seq: number): Promise<number | null>;
  /** Unread count summed over the member's `maxConversations` most recently active ones. */
  unreadSummary(userId: string, maxConversations: number): Promise<UnreadSummary>;
}

export interface MessageDraft {
  conversationId: string;
  senderId: string;
  clientMessageId: string;
  body: string;
  createdAt: Date;
}

export interface AppendResult {
  message: Message;
  /** True when (conversation, sender, clientMessageId) was stored before: nothing changed. */
  duplicate: boolean;
  /** Member ids at the time of the append: who the message goes to. */
  memberIds: string[];
}

export interface ChangePage {
  /** Messages whose version is above the one asked for, ascending by version, current state. */
  messages: Message[];
  hasMore: boolean;
}

/**
 * The messages of conversations. `append` owns the whole rule of a send, so every store
 * proves it in the shared contract suite:
 * - the sender must be a member, else `NotMemberError` and nothing changes;
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
  append(draft: MessageDraft): Promise<AppendResult>;
  /** seq < before (the newest ones, returned ascending), or seq > after (ascending). */
  page(
    conversationId: string,
    query: { before?: number; after?: number; limit: number },
  ): Promise<Message[]>;
  /** What changed after `afterVersion`, ascending by version, at most `limit` messages. */
  changesSince(conversationId: string, afterVersion: number, limit: number): Promise<ChangePage>;
}

/** Who shares a conversation with whom: presence is visible to contacts only. */
export interface ContactStore {
  /** Those of `candidates` who are contacts of `userId`; bounded by `candidates`. */
  among(userId: string, candidates: string[]): Promise<string[]>;
  /** Up to `limit` contacts of `userId`, the most recent first: who hears about their presence. */
  audience(userId: string, limit: number): Promise<string[]>;
}

/** The store as the use cases see it. */
export interface ChatStore {
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly contacts: ContactStore;
  readonly kind: 'memory' | 'mongodb';
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

export interface Clock {
  now(): Date;
}
