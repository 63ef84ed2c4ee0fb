import { randomBytes } from 'node:crypto';
import {
  NotMemberError,
  toPreview,
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

interface StoredConversation extends Conversation {
  directKey?: string;
}

/** Everything in one process; each operation runs to completion before the next one starts. */
class MemoryState {
  readonly conversations = new Map<string, StoredConversation>();
  readonly byDirectKey = new Map<string, string>();
  /** userId -> ids of the conversations the user is a member of. */
  readonly memberOf = new Map<string, Set<string>>();
  /** conversationId -> messages in seq order (appends arrive in order here). */
  readonly messages = new Map<string, Message[]>();
  readonly byClientKey = new Map<string, Message>();
  /** userId -> contactId -> when they became contacts; kept in that order, oldest first. */
  readonly contacts = new Map<string, Map<string, number>>();

  conversationsOf(userId: string): StoredConversation[] {
    return [...(this.memberOf.get(userId) ?? [])]
      .map((id) => this.conversations.get(id)!)
      .sort(
        (a, b) => b.lastActivityAt.getTime() - a.lastActivityAt.getTime() || (a.id < b.id ? 1 : -1),
      );
  }
}

function strip(stored: StoredConversation): Conversation {
  const { directKey: _, ...conversation } = clone(stored);
  return conversation;
}

class MemoryConversations implements ConversationStore {
  constructor(private readonly state: MemoryState) {}

  async create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    const existingId = input.directKey ? this.state.byDirectKey.get(input.directKey) : undefined;
    if (existingId) {
      const existing = this.state.conversations.get(existingId)!;
      this.befriend(existing);
      return { conversation: strip(existing), created: false };
    }
    const { directKey, ...rest } = input;
    const stored: StoredConversation = {
      ...clone(rest),
      members: input.members.map((m) => ({ ...clone(m), lastReadSeq: 0 })),
      id: newId(),
      lastActivityAt: input.createdAt,
      version: 0,
      ...(directKey && { directKey }),
    };
    this.state.conversations.set(stored.id, stored);
    if (directKey) this.state.byDirectKey.set(directKey, stored.id);
    for (const m of stored.members) {
      const mine = this.state.memberOf.get(m.userId) ?? new Set<string>();
      mine.add(stored.id);
      this.state.memberOf.set(m.userId, mine);
    }
    this.befriend(stored);
    return { conversation: strip(stored), created: true };
  }

  private befriend(conversation: Conversation): void {
    const at = conversation.createdAt.getTime();
    for (const a of conversation.members) {
      const mine = this.state.contacts.get(a.userId) ?? new Map<string, number>();
      for (const b of conversation.members) {
        if (a.userId === b.userId) continue;
        const since = Math.max(mine.get(b.userId) ?? 0, at);
        mine.delete(b.userId); // re-inserted last: the map stays ordered by recency
        mine.set(b.userId, since);
      }
      this.state.contacts.set(a.userId, mine);
    }
  }

  async get(id: string): Promise<Conversation | null> {
    const found = this.state.conversations.get(id);
    return found ? strip(found) : null;
  }

  async getMany(ids: string[]): Promise<Conversation[]> {
    return [...new Set(ids)].flatMap((id) => {
      const found = this.state.conversations.get(id);
      return found ? [strip(found)] : [];
    });
  }

  async listForMember(
    userId: string,
    page: { limit: number; cursor?: string },
  ): Promise<ConversationPage> {
    const after = page.cursor ? decodeActivityCursor(page.cursor) : undefined;
    const mine = this.state
      .conversationsOf(userId)
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

  async advanceRead(conversationId: string, userId: string, seq: number): Promise<number | null> {
    const member = this.state.conversations
      .get(conversationId)
      ?.members.find((m) => m.userId === userId);
    if (!member) return null;
    member.lastReadSeq = Math.max(member.lastReadSeq, seq);
    return member.lastReadSeq;
  }

  async unreadSummary(userId: string, maxConversations: number): Promise<UnreadSummary> {
    const mine = this.state.conversationsOf(userId);
    let total = 0;
    for (const c of mine.slice(0, maxConversations)) {
      const read = c.members.find((m) => m.userId === userId)?.lastReadSeq ?? 0;
      total += Math.max(0, (c.lastMessage?.seq ?? 0) - read);
    }
    return { total, capped: mine.length > maxConversations };
  }
}

class MemoryMessages implements MessageStore {
  /** conversationId -> the last seq handed out (its messages may not all exist). */
  private readonly lastSeq = new Map<string, number>();

  constructor(private readonly state: MemoryState) {}

  async append(draft: MessageDraft): Promise<AppendResult> {
    const conversation = this.state.conversations.get(draft.conversationId);
    const sender = conversation?.members.find((m) => m.userId === draft.senderId);
    if (!conversation || !sender) throw new NotMemberError(draft.conversationId);
    const memberIds = conversation.members.map((m) => m.userId);
    const key = clientKey(draft.conversationId, draft.senderId, draft.clientMessageId);
    const existing = this.state.byClientKey.get(key);
    if (existing) return { message: clone(existing), duplicate: true, memberIds };

    const seq = (this.lastSeq.get(conversation.id) ?? 0) + 1;
    this.lastSeq.set(conversation.id, seq);
    conversation.version += 1;
    const message: Message = { ...clone(draft), id: newId(), seq, version: conversation.version };
    const list = this.state.messages.get(conversation.id) ?? [];
    list.push(message);
    this.state.messages.set(conversation.id, list);
    this.state.byClientKey.set(key, message);
    conversation.lastMessage = toPreview(message);
    conversation.lastActivityAt = message.createdAt;
    sender.lastReadSeq = Math.max(sender.lastReadSeq, seq);
    return { message: clone(message), duplicate: false, memberIds };
  }

  async page(
    conversationId: string,
    query: { before?: number; after?: number; limit: number },
  ): Promise<Message[]> {
    const list = this.state.messages.get(conversationId) ?? [];
    // The list is sorted by seq: find the page's edge by binary search, not by a scan.
    if (query.after !== undefined) {
      const start = firstIndex(list, (m) => m.seq > query.after!);
      return list.slice(start, start + query.limit).map(clone);
    }
    const end =
      query.before === undefined ? list.length : firstIndex(list, (m) => m.seq >= query.before!);
    return list.slice(Math.max(0, end - query.limit), end).map(clone);
  }

  async changesSince(
    conversationId: string,
    afterVersion: number,
    limit: number,
  ): Promise<ChangePage> {
    // Versions grow with seq as long as messages only get appended.
    const list = this.state.messages.get(conversationId) ?? [];
    const start = firstIndex(list, (m) => m.version > afterVersion);
    return {
      messages: list.slice(start, start + limit).map(clone),
      hasMore: list.length - start > limit,
    };
  }
}

class MemoryContacts implements ContactStore {
  constructor(private readonly state: MemoryState) {}

  async among(userId: string, candidates: string[]): Promise<string[]> {
    const mine = this.state.contacts.get(userId);
    return [...new Set(candidates)].filter((id) => mine?.has(id));
  }

  async audience(userId: string, limit: number): Promise<string[]> {
    const mine = [...(this.state.contacts.get(userId)?.keys() ?? [])];
    return mine.slice(-limit).reverse();
  }
}

function clientKey(conversationId: string, senderId: string, clientMessageId: string): string {
  return `${conversationId}|${senderId}|${clientMessageId}`;
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

/** The embedded default: one process, nothing survives a restart. */
export class MemoryChatStore implements ChatStore {
  readonly kind = 'memory' as const;
  private readonly state = new MemoryState();
  readonly conversations = new MemoryConversations(this.state);
  readonly messages = new MemoryMessages(this.state);
  readonly contacts = new MemoryContacts(this.state);

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
