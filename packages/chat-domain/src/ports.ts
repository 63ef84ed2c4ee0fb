import {
  type Conversation,
  type JobContext,
  type Member,
  type Message,
  type MessagePreview,
  type ReadState,
} from './entities.js';

export interface NewConversation extends JobContext {
  kind: Conversation['kind'];
  title?: string;
  members: Member[];
  createdBy: string;
  createdAt: Date;
  /** Set for direct conversations: unique, makes creation idempotent. */
  directKey?: string;
}

export interface ConversationPage {
  conversations: Conversation[];
  nextCursor?: string;
}

export interface ConversationRepository {
  /** Inserts, or returns the existing conversation with the same directKey (`created: false`). */
  create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }>;
  findById(id: string): Promise<Conversation | null>;
  findByIds(ids: string[]): Promise<Conversation[]>;
  /** Most recent activity first; the cursor is opaque to callers. */
  listForUser(userId: string, page: { limit: number; cursor?: string }): Promise<ConversationPage>;
  /** Atomically reserves the next sequence number of a conversation. */
  allocateSeq(conversationId: string): Promise<number>;
  /** Records the newest stored message; an older one never overwrites a newer one. */
  recordLastMessage(conversationId: string, preview: MessagePreview): Promise<void>;
}

export interface MessageRepository {
  /** Stores a message; throws DuplicateKeyError when (conversationId, senderId, clientMessageId) exists. */
  insert(message: Omit<Message, 'id'>): Promise<Message>;
  findByClientMessageId(
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<Message | null>;
  /** Messages with seq < before (newest first, returned in ascending order), or seq > after (ascending). */
  list(
    conversationId: string,
    query: { before?: number; after?: number; limit: number },
  ): Promise<Message[]>;
}

export interface ReadStateRepository {
  /** Moves a member's read position forward only; returns the resulting position. */
  advance(conversationId: string, userId: string, seq: number): Promise<number>;
  /** Read positions of one user, for the given conversations (missing = 0). */
  forUser(userId: string, conversationIds: string[]): Promise<Map<string, number>>;
  /** Every stored read position in the given conversations (members who never read are absent). */
  forConversations(conversationIds: string[]): Promise<ReadState[]>;
}

/** The store as the application sees it: three repositories and a health probe. */
export interface ChatStore {
  readonly conversations: ConversationRepository;
  readonly messages: MessageRepository;
  readonly readStates: ReadStateRepository;
  readonly kind: 'memory' | 'mongodb';
  ping(): Promise<void>;
  close(): Promise<void>;
}
