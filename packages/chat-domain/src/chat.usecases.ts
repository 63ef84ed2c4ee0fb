import { type Conversation, type Message, type Principal } from './entities.js';
import { NotMemberError, ValidationError } from './errors.js';
import {
  type ConversationDto,
  type ConversationList,
  type HistoryPage,
  type ReadResult,
  type SendResult,
  type SyncEntry,
  type SyncResult,
} from './events.js';
import { toConversationDto, toMessageDto } from './mappers.js';
import { type ChatStore, type Clock, type FanOut } from './ports.js';
import {
  LIMITS,
  approximateBytes,
  assertCanCreateGroup,
  assertCanOpenDirect,
  assertMember,
  directKey,
  lastMessageSeq,
  memberIds,
  nextReadSeq,
  readPosition,
  unreadCount,
} from './rules.js';
import {
  type CreateConversationInput,
  type HistoryQuery,
  type SendMessageInput,
  type SyncInput,
} from './schemas.js';

export interface ChatDeps {
  store: ChatStore;
  fanout: FanOut;
  clock: Clock;
  /**
   * How long a change may still be on its way into the store after its version was taken.
   * A sync cursor never passes a change younger than this, so a device resuming from it
   * misses nothing that was in flight. Default 10 s.
   */
  settleMs?: number;
}

/** Where a request came from, so its own device is not sent its own echo. */
export interface Origin {
  socketId?: string;
}

const DEFAULT_SETTLE_MS = 10_000;

export async function openConversation(
  deps: ChatDeps,
  principal: Principal,
  input: CreateConversationInput,
): Promise<{ conversation: ConversationDto; created: boolean }> {
  const createdAt = deps.clock.now();
  const context = {
    ...(input.jobId && { jobId: input.jobId }),
    ...(input.applicationId && { applicationId: input.applicationId }),
  };
  const owner = { userId: principal.userId, role: 'owner' as const, joinedAt: createdAt };
  let result: { conversation: Conversation; created: boolean };
  if (input.kind === 'direct') {
    assertCanOpenDirect(principal, input.userId);
    result = await deps.store.conversations.create({
      kind: 'direct',
      ...context,
      members: [owner, { userId: input.userId, role: 'member', joinedAt: createdAt }],
      createdBy: principal.userId,
      createdAt,
      directKey: directKey(principal.userId, input.userId, context),
    });
  } else {
    const others = [...new Set(input.memberIds)].filter((id) => id !== principal.userId);
    assertCanCreateGroup(principal, [principal.userId, ...others]);
    result = await deps.store.conversations.create({
      kind: 'group',
      title: input.title,
      ...context,
      members: [
        owner,
        ...others.map((userId) => ({ userId, role: 'member' as const, joinedAt: createdAt })),
      ],
      createdBy: principal.userId,
      createdAt,
    });
  }
  const { conversation, created } = result;
  if (created) {
    // A new conversation looks the same to every member: nothing read, nothing unread.
    deps.fanout.toUsers(
      memberIds(conversation),
      'conversation:created',
      toConversationDto(conversation, conversation.createdBy),
    );
  }
  return { conversation: toConversationDto(conversation, principal.userId), created };
}

export async function listConversations(
  deps: ChatDeps,
  principal: Principal,
  query: { limit: number; cursor?: string },
): Promise<ConversationList> {
  const [page, unread] = await Promise.all([
    deps.store.conversations.listForMember(principal.userId, query),
    deps.store.conversations.unreadSummary(principal.userId, LIMITS.unreadScanConversations),
  ]);
  return {
    conversations: page.conversations.map((c) => toConversationDto(c, principal.userId)),
    ...(page.nextCursor && { nextCursor: page.nextCursor }),
    totalUnread: unread.total,
    totalUnreadCapped: unread.capped,
  };
}

/** The conversation, if the principal is a member; the same error whether it exists or not. */
export async function memberConversation(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
): Promise<Conversation> {
  return assertMember(
    await deps.store.conversations.get(conversationId),
    principal.userId,
    conversationId,
  );
}

export async function getConversation(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
): Promise<ConversationDto> {
  return toConversationDto(
    await memberConversation(deps, principal, conversationId),
    principal.userId,
  );
}

/** A page of history, capped in messages and in bytes. */
export async function history(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
  query: HistoryQuery,
): Promise<HistoryPage> {
  // Both at once: the page is thrown away unless the caller turns out to be a member.
  const [, messages] = await Promise.all([
    memberConversation(deps, principal, conversationId),
    deps.store.messages.page(conversationId, {
      ...(query.before !== undefined && { before: query.before }),
      ...(query.after !== undefined && { after: query.after }),
      limit: query.limit + 1,
    }),
  ]);
  // The page grows away from the cursor: forwards for `after`, backwards (newest kept) otherwise.
  const forwards = query.after !== undefined;
  const ordered = forwards ? messages : [...messages].reverse();
  const kept = takeWithinBudget(ordered, query.limit, LIMITS.maxAnswerBytes, true);
  const page = forwards ? kept : kept.reverse();
  return { messages: page.map(toMessageDto), hasMore: messages.length > page.length };
}

/**
 * Stores first, acks after: the returned message is durable. A repeated clientMessageId from
 * the same sender returns the stored message and creates nothing; the store owns that rule.
 */
export async function sendMessage(
  deps: ChatDeps,
  principal: Principal,
  input: SendMessageInput,
  origin: Origin = {},
): Promise<SendResult> {
  const { message, duplicate, memberIds } = await deps.store.messages.append({
    conversationId: input.conversationId,
    senderId: principal.userId,
    clientMessageId: input.clientMessageId,
    body: input.body,
    createdAt: deps.clock.now(),
  });
  const dto = toMessageDto(message);
  // A duplicate was delivered when it was first stored; devices that missed it sync.
  if (!duplicate) {
    deps.fanout.toUsers(memberIds, 'message:new', dto, {
      ...(origin.socketId && { exceptSocketId: origin.socketId }),
    });
  }
  return { message: dto, duplicate };
}

/**
 * What a device missed, per conversation, from the version it has: every change in its current
 * state. The answer is capped in conversations, messages and bytes; `hasMore` says where to page.
 */
export async function syncChanges(
  deps: ChatDeps,
  principal: Principal,
  input: SyncInput,
): Promise<SyncResult> {
  const wanted = new Map<string, number>();
  for (const { conversationId, afterVersion } of input.conversations) {
    // A repeated id is asked once, from the lowest version named.
    wanted.set(conversationId, Math.min(afterVersion, wanted.get(conversationId) ?? afterVersion));
  }
  if (wanted.size > LIMITS.maxSyncConversations) {
    throw new ValidationError(`at most ${LIMITS.maxSyncConversations} conversations per sync`, [
      { path: 'conversations', message: `at most ${LIMITS.maxSyncConversations} distinct ids` },
    ]);
  }
  const perConversation = input.limit ?? LIMITS.defaultSyncMessagesPerConversation;
  const found = new Map(
    (await deps.store.conversations.getMany([...wanted.keys()])).map((c) => [c.id, c]),
  );
  const settledBefore = deps.clock.now().getTime() - (deps.settleMs ?? DEFAULT_SETTLE_MS);
  let messagesLeft: number = LIMITS.maxSyncMessagesPerAnswer;
  let bytesLeft: number = LIMITS.maxAnswerBytes;
  const conversations: SyncEntry[] = [];
  // One conversation at a time: the answer is built within its budget, never beyond it.
  for (const [conversationId, afterVersion] of wanted) {
    const conversation = found.get(conversationId);
    if (!conversation || !conversation.members.some((m) => m.userId === principal.userId)) {
      const { code, message } = new NotMemberError(conversationId);
      conversations.push({
        ...unchanged(conversationId, afterVersion, 0),
        error: { code, message },
      });
      continue;
    }
    const lastReadSeq = readPosition(conversation, principal.userId);
    if (conversation.version <= afterVersion) {
      conversations.push(unchanged(conversationId, afterVersion, lastReadSeq));
      continue;
    }
    if (messagesLeft === 0 || bytesLeft <= 0) {
      conversations.push({
        ...unchanged(conversationId, afterVersion, lastReadSeq),
        hasMore: true,
      });
      continue;
    }
    const page = await deps.store.messages.changesSince(
      conversationId,
      afterVersion,
      Math.min(perConversation, messagesLeft),
    );
    // The first message of an answer always fits, so paging always moves forward.
    const kept = takeWithinBudget(
      page.messages,
      page.messages.length,
      bytesLeft,
      messagesLeft === LIMITS.maxSyncMessagesPerAnswer,
    );
    messagesLeft -= kept.length;
    bytesLeft -= kept.reduce((sum, m) => sum + approximateBytes(m), 0);
    const hasMore = page.hasMore || kept.length < page.messages.length;
    conversations.push({
      conversationId,
      messages: kept.map(toMessageDto),
      version: hasMore
        ? (kept.at(-1)?.version ?? afterVersion)
        : settledVersion(kept, afterVersion, settledBefore),
      hasMore,
      lastReadSeq,
    });
  }
  return { conversations };
}

function unchanged(conversationId: string, version: number, lastReadSeq: number): SyncEntry {
  return { conversationId, messages: [], version, hasMore: false, lastReadSeq };
}

/**
 * The highest version up to which nothing can still appear: changes younger than the settle
 * window may have lower-versioned neighbours still on their way into the store.
 */
function settledVersion(messages: Message[], afterVersion: number, settledBefore: number): number {
  let version = afterVersion;
  for (const m of messages) {
    if (m.createdAt.getTime() > settledBefore) break;
    version = m.version;
  }
  return version;
}

/** The leading messages that fit in `maxCount` and `maxBytes` (and the first one if `atLeastOne`). */
function takeWithinBudget(
  messages: Message[],
  maxCount: number,
  maxBytes: number,
  atLeastOne: boolean,
): Message[] {
  const kept: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (kept.length === maxCount) break;
    bytes += approximateBytes(m);
    if (bytes > maxBytes && !(atLeastOne && kept.length === 0)) break;
    kept.push(m);
  }
  return kept;
}

/** Moves the reader's position forward; tells the other members and the reader's other devices. */
export async function markRead(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
  seq: number,
  origin: Origin = {},
): Promise<ReadResult> {
  const conversation = await memberConversation(deps, principal, conversationId);
  const lastSeq = lastMessageSeq(conversation);
  const current = readPosition(conversation, principal.userId);
  const target = nextReadSeq(current, seq, lastSeq);
  let lastReadSeq = current;
  if (target > current) {
    const advanced = await deps.store.conversations.advanceRead(
      conversationId,
      principal.userId,
      target,
    );
    if (advanced === null) throw new NotMemberError(conversationId);
    lastReadSeq = advanced;
  }
  if (lastReadSeq > current) {
    deps.fanout.toUsers(
      memberIds(conversation),
      'conversation:read',
      { conversationId, userId: principal.userId, lastReadSeq },
      { ...(origin.socketId && { exceptSocketId: origin.socketId }) },
    );
  }
  return { conversationId, lastReadSeq, unreadCount: unreadCount(lastSeq, lastReadSeq) };
}

/** Which of `userIds` may see each other's presence with `userId`: contacts, and the user. */
export async function visibleContacts(
  deps: ChatDeps,
  userId: string,
  userIds: string[],
): Promise<string[]> {
  const others = [...new Set(userIds)].filter((id) => id !== userId);
  const contacts = new Set(
    others.length > 0 ? await deps.store.contacts.among(userId, others) : [],
  );
  if (userIds.includes(userId)) contacts.add(userId);
  return [...new Set(userIds)].filter((id) => contacts.has(id));
}

/** Who hears about a user's presence: the user's own devices and up to `limit - 1` contacts. */
export async function presenceAudience(
  deps: ChatDeps,
  userId: string,
  limit: number,
): Promise<string[]> {
  if (limit <= 1) return limit === 1 ? [userId] : [];
  return [userId, ...(await deps.store.contacts.audience(userId, limit - 1))];
}

/** The use cases bound to their ports: what the transports call. */
export function createChat(deps: ChatDeps) {
  return {
    openConversation: (p: Principal, input: CreateConversationInput) =>
      openConversation(deps, p, input),
    listConversations: (p: Principal, query: { limit: number; cursor?: string }) =>
      listConversations(deps, p, query),
    getConversation: (p: Principal, id: string) => getConversation(deps, p, id),
    memberConversation: (p: Principal, id: string) => memberConversation(deps, p, id),
    history: (p: Principal, id: string, query: HistoryQuery) => history(deps, p, id, query),
    send: (p: Principal, input: SendMessageInput, origin?: Origin) =>
      sendMessage(deps, p, input, origin),
    sync: (p: Principal, input: SyncInput) => syncChanges(deps, p, input),
    markRead: (p: Principal, id: string, seq: number, origin?: Origin) =>
      markRead(deps, p, id, seq, origin),
    visibleContacts: (userId: string, userIds: string[]) => visibleContacts(deps, userId, userIds),
    presenceAudience: (userId: string, limit: number) => presenceAudience(deps, userId, limit),
  };
}
export type Chat = ReturnType<typeof createChat>;
