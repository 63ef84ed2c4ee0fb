import { randomBytes } from 'node:crypto';
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
import { decodeActivityCursor, encodeActivityCursor } from '../cursor.js';

const PROCESS_UNIQUE = randomBytes(5).toString('hex');
let counter = randomBytes(3).readUIntBE(0, 3);

/**
 * Laid out like a MongoDB ObjectId (seconds, process, counter), so ids look the same in
 * both stores and increase in creation order, which the conversation list's tie-break uses.
 */
function newId(): string {
  counter = (counter + 1) % 0xffffff;
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return seconds + PROCESS_UNIQUE + counter.toString(16).padStart(6, '0');
}

// Stored objects are copied in and out so callers can never mutate the "database".
const clone = <T>(value: T): T => structuredClone(value);

class MemoryConversations implements ConversationRepository {
  readonly byId = new Map<string, Conversation & { directKey?: string }>();
  private readonly byDirectKey = new Map<string, string>();

  async create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    if (input.directKey) {
      const existing = this.byDirectKey.get(input.directKey);
      if (existing) return { conversation: clone(this.byId.get(existing)!), created: false };
    }
    const { directKey, ...rest } = input;
    const conversation: Conversation = {
      ...rest,
      id: newId(),
      lastSeq: 0,
      lastActivityAt: input.createdAt,
    };
    this.byId.set(conversation.id, { ...clone(conversation), ...(directKey && { directKey }) });
    if (directKey) this.byDirectKey.set(directKey, conversation.id);
    return { conversation: clone(conversation), created: true };
  }

  async findById(id: string): Promise<Conversation | null> {
    const found = this.byId.get(id);
    return found ? strip(found) : null;
  }

  async findByIds(ids: string[]): Promise<Conversation[]> {
    return ids.flatMap((id) => {
      const found = this.byId.get(id);
      return found ? [strip(found)] : [];
    });
  }

  async listForUser(
    userId: string,
    page: { limit: number; cursor?: string },
  ): Promise<ConversationPage> {
    const after = page.cursor ? decodeActivityCursor(page.cursor) : undefined;
    const mine = [...this.byId.values()]
      .filter((c) => c.members.some((m) => m.userId === userId))
      .sort(
        (a, b) => b.lastActivityAt.getTime() - a.lastActivityAt.getTime() || (a.id < b.id ? 1 : -1),
      )
      .filter(
        (c) =>
          !after ||
          c.lastActivityAt.getTime() < after.at.getTime() ||
          (c.lastActivityAt.getTime() === after.at.getTime() && c.id < after.id),
      );
    const conversations = mine.slice(0, page.limit).map(strip);
    const last = conversations.at(-1);
    return {
      conversations,
      ...(mine.length > page.limit &&
        last && { nextCursor: encodeActivityCursor(last.lastActivityAt, last.id) }),
    };
  }

  async allocateSeq(conversationId: string): Promise<number> {
    const c = this.byId.get(conversationId);
    if (!c) throw new Error(`conversation ${conversationId} not found`);
    c.lastSeq += 1;
    return c.lastSeq;
  }

  async recordLastMessage(conversationId: string, preview: MessagePreview): Promise<void> {
    const c = this.byId.get(conversationId);
    if (!c || (c.lastMessage && c.lastMessage.seq >= preview.seq)) return;
    c.lastMessage = clone(preview);
    c.lastActivityAt = preview.createdAt;
  }
}

function strip(stored: Conversation & { directKey?: string }): Conversation {
  const { directKey: _, ...conversation } = clone(stored);
  return conversation;
}

class MemoryMessages implements MessageRepository {
  private readonly byConversation = new Map<string, Message[]>();
  private readonly seqs = new Map<string, Set<number>>();
  private readonly byClientKey = new Map<string, Message>();

  async insert(input: Omit<Message, 'id'>): Promise<Message> {
    const clientKey = `${input.conversationId}\u0000${input.senderId}\u0000${input.clientMessageId}`;
    if (this.byClientKey.has(clientKey)) throw new DuplicateKeyError('clientMessageId');
    const list = this.byConversation.get(input.conversationId) ?? [];
    const seqs = this.seqs.get(input.conversationId) ?? new Set<number>();
    // A set, not a scan of the history: the bench showed the scan growing with every message.
    if (seqs.has(input.seq)) throw new DuplicateKeyError('seq');
    const message: Message = { ...clone(input), id: newId() };
    // Kept sorted by seq: inserts arrive almost always in order, so this is cheap.
    let i = list.length;
    while (i > 0 && list[i - 1]!.seq > message.seq) i--;
    list.splice(i, 0, message);
    this.byConversation.set(input.conversationId, list);
    seqs.add(message.seq);
    this.seqs.set(input.conversationId, seqs);
    this.byClientKey.set(clientKey, message);
    return clone(message);
  }

  async findByClientMessageId(
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<Message | null> {
    const found = this.byClientKey.get(
      `${conversationId}\u0000${senderId}\u0000${clientMessageId}`,
    );
    return found ? clone(found) : null;
  }

  async list(
    conversationId: string,
    query: { before?: number; after?: number; limit: number },
  ): Promise<Message[]> {
    const list = this.byConversation.get(conversationId) ?? [];
    // The list is sorted by seq: find the page's edge by binary search, not by a scan.
    if (query.after !== undefined) {
      const start = firstIndex(list, (m) => m.seq > query.after!);
      return list.slice(start, start + query.limit).map(clone);
    }
    const end =
      query.before === undefined ? list.length : firstIndex(list, (m) => m.seq >= query.before!);
    return list.slice(Math.max(0, end - query.limit), end).map(clone);
  }
}

/** The first index whose element satisfies a predicate that is false, then true, along the list. */
function firstIndex<T>(list: T[], predicate: (item: T) => boolean): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (predicate(list[mid]!)) high = mid;
    else low = mid + 1;
  }
  return low;
}

class MemoryReadStates implements ReadStateRepository {
  /** conversationId -> userId -> lastReadSeq */
  private readonly positions = new Map<string, Map<string, number>>();

  async advance(conversationId: string, userId: string, seq: number): Promise<number> {
    const members = this.positions.get(conversationId) ?? new Map<string, number>();
    const next = Math.max(members.get(userId) ?? 0, seq);
    members.set(userId, next);
    this.positions.set(conversationId, members);
    return next;
  }

  async forConversations(conversationIds: string[]): Promise<ReadState[]> {
    return conversationIds.flatMap((conversationId) =>
      [...(this.positions.get(conversationId) ?? [])].map(([userId, lastReadSeq]) => ({
        conversationId,
        userId,
        lastReadSeq,
      })),
    );
  }

  async forUser(userId: string, conversationIds: string[]): Promise<Map<string, number>> {
    return new Map(conversationIds.map((id) => [id, this.positions.get(id)?.get(userId) ?? 0]));
  }
}

/** The embedded default: one process, nothing survives a restart. */
export class MemoryChatStore implements ChatStore {
  readonly kind = 'memory' as const;
  readonly conversations = new MemoryConversations();
  readonly messages = new MemoryMessages();
  readonly readStates = new MemoryReadStates();

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
