import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DuplicateKeyError,
  LIMITS,
  NotMemberError,
  UnavailableError,
  assertCanCreateGroup,
  assertCanOpenDirect,
  assertMember,
  directKey,
  lastMessageSeq,
  memberIds,
  nextReadSeq,
  toConversationDto,
  toMessageDto,
  unreadCount,
  type ChatStore,
  type Conversation,
  type ConversationDto,
  type CreateConversationInput,
  type HistoryQuery,
  type Message,
  type MessageDto,
  type Principal,
  type ReadResult,
  type SendMessageInput,
  type SendResult,
  type SyncInput,
  type SyncResult,
} from '@jobsphere/chat-domain';
import { CHAT_STORE } from '../persistence/persistence.tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RealtimeBus } from '../realtime/realtime-bus.js';

export interface ConversationList {
  conversations: ConversationDto[];
  nextCursor?: string;
  /** Unread messages over all of the caller's conversations, not only this page. */
  totalUnread: number;
}

/** Where a request came from, so its own device is not sent its own echo. */
export interface Origin {
  socketId?: string;
}

/** The application service that the socket gateway and the REST controller both call. */
@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly bus: RealtimeBus,
    private readonly metrics: MetricsService,
  ) {}

  async createConversation(
    principal: Principal,
    input: CreateConversationInput,
  ): Promise<{ conversation: ConversationDto; created: boolean }> {
    const now = new Date();
    const context = {
      ...(input.jobId && { jobId: input.jobId }),
      ...(input.applicationId && { applicationId: input.applicationId }),
    };
    let result: { conversation: Conversation; created: boolean };
    if (input.kind === 'direct') {
      assertCanOpenDirect(principal, input.userId);
      result = await this.store.conversations.create({
        kind: 'direct',
        ...context,
        members: [
          { userId: principal.userId, role: 'owner', joinedAt: now },
          { userId: input.userId, role: 'member', joinedAt: now },
        ],
        createdBy: principal.userId,
        createdAt: now,
        directKey: directKey(principal.userId, input.userId, context),
      });
    } else {
      const others = [...new Set(input.memberIds)].filter((id) => id !== principal.userId);
      assertCanCreateGroup(principal, [principal.userId, ...others]);
      result = await this.store.conversations.create({
        kind: 'group',
        title: input.title,
        ...context,
        members: [
          { userId: principal.userId, role: 'owner', joinedAt: now },
          ...others.map((userId) => ({ userId, role: 'member' as const, joinedAt: now })),
        ],
        createdBy: principal.userId,
        createdAt: now,
      });
    }
    const conversation = result.conversation;
    if (result.created) {
      // Every member's devices learn about it; the read position of a new member is 0.
      this.bus.toUsers(
        memberIds(conversation),
        'conversation:created',
        toConversationDto(conversation, conversation.createdBy),
      );
    }
    const [view] = await this.views(principal.userId, [conversation]);
    return { conversation: view!, created: result.created };
  }

  async listConversations(
    principal: Principal,
    query: { limit: number; cursor?: string },
  ): Promise<ConversationList> {
    const page = await this.store.conversations.listForUser(principal.userId, query);
    return {
      conversations: await this.views(principal.userId, page.conversations),
      ...(page.nextCursor && { nextCursor: page.nextCursor }),
      totalUnread: await this.totalUnread(principal.userId),
    };
  }

  /** Sums unread over every conversation of the user, walking the list in pages. */
  async totalUnread(userId: string): Promise<number> {
    let total = 0;
    let cursor: string | undefined;
    do {
      const page = await this.store.conversations.listForUser(userId, {
        limit: LIMITS.maxPageSize,
        ...(cursor && { cursor }),
      });
      const positions = await this.store.readStates.forUser(
        userId,
        page.conversations.map((c) => c.id),
      );
      for (const c of page.conversations)
        total += unreadCount(lastMessageSeq(c), positions.get(c.id) ?? 0);
      cursor = page.nextCursor;
    } while (cursor);
    return total;
  }

  async getConversation(principal: Principal, conversationId: string): Promise<ConversationDto> {
    const conversation = await this.memberConversation(principal, conversationId);
    const [view] = await this.views(principal.userId, [conversation]);
    return view!;
  }

  /** Conversations as `viewerId` sees them, with every member's read position (one query). */
  private async views(viewerId: string, conversations: Conversation[]): Promise<ConversationDto[]> {
    const states = await this.store.readStates.forConversations(conversations.map((c) => c.id));
    const byConversation = new Map<string, Map<string, number>>();
    for (const s of states) {
      const positions = byConversation.get(s.conversationId) ?? new Map<string, number>();
      positions.set(s.userId, s.lastReadSeq);
      byConversation.set(s.conversationId, positions);
    }
    return conversations.map((c) => toConversationDto(c, viewerId, byConversation.get(c.id)));
  }

  async history(
    principal: Principal,
    conversationId: string,
    query: HistoryQuery,
  ): Promise<{ messages: MessageDto[]; hasMore: boolean }> {
    await this.memberConversation(principal, conversationId);
    const messages = await this.store.messages.list(conversationId, {
      ...(query.before !== undefined && { before: query.before }),
      ...(query.after !== undefined && { after: query.after }),
      limit: query.limit + 1,
    });
    const hasMore = messages.length > query.limit;
    // One extra row tells whether another page exists; drop it on the far side.
    const page = !hasMore
      ? messages
      : query.after !== undefined
        ? messages.slice(0, query.limit)
        : messages.slice(1);
    return { messages: page.map(toMessageDto), hasMore };
  }

  /**
   * Stores first, acks after: the returned message is durable. A repeated
   * clientMessageId from the same sender returns the stored message and creates nothing.
   */
  async send(
    principal: Principal,
    input: SendMessageInput,
    origin: Origin = {},
  ): Promise<SendResult> {
    // Both reads at once: one round trip fewer before the ack. The lookup is keyed by the
    // caller's own id, so it can only ever find the caller's own message.
    const [conversation, existing] = await Promise.all([
      this.memberConversation(principal, input.conversationId),
      this.store.messages.findByClientMessageId(
        input.conversationId,
        principal.userId,
        input.clientMessageId,
      ),
    ]);
    if (existing) return { message: toMessageDto(existing), duplicate: true };

    const seq = await this.store.conversations.allocateSeq(conversation.id);
    let message: Message;
    try {
      message = await this.store.messages.insert({
        conversationId: conversation.id,
        seq,
        senderId: principal.userId,
        clientMessageId: input.clientMessageId,
        body: input.body,
        createdAt: new Date(),
      });
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      // The same clientMessageId raced in on another socket or instance: it won, return it.
      const winner = await this.store.messages.findByClientMessageId(
        conversation.id,
        principal.userId,
        input.clientMessageId,
      );
      if (!winner) throw new UnavailableError('message could not be stored, not sent');
      return { message: toMessageDto(winner), duplicate: true };
    }

    // Both are idempotent and monotonic; a failure here leaves the message stored and
    // visible through history and sync, so it must not turn into a failed ack.
    await Promise.all([
      this.store.conversations.recordLastMessage(conversation.id, {
        id: message.id,
        seq: message.seq,
        senderId: message.senderId,
        body: message.body,
        createdAt: message.createdAt,
      }),
      this.store.readStates.advance(conversation.id, principal.userId, message.seq),
    ]).catch((error: unknown) =>
      this.logger.warn(`post-store bookkeeping failed for ${message.id}: ${String(error)}`),
    );

    const dto = toMessageDto(message);
    const recipients = memberIds(conversation);
    this.bus.toUsersExcept(recipients, origin.socketId, 'message:new', dto);
    this.metrics.messagesStored.inc();
    this.metrics.messagesDelivered.inc(recipients.length);
    return { message: dto, duplicate: false };
  }

  /** What a reconnecting device missed: messages after its last seq, per conversation. */
  async sync(principal: Principal, input: SyncInput): Promise<SyncResult> {
    const limit = input.limit ?? LIMITS.maxSyncMessagesPerConversation;
    const ids = [...new Set(input.conversations.map((c) => c.conversationId))];
    const conversations = new Map(
      (await this.store.conversations.findByIds(ids)).map((c) => [c.id, c]),
    );
    for (const id of ids) assertMember(conversations.get(id) ?? null, principal.userId, id);
    const positions = await this.store.readStates.forUser(principal.userId, ids);
    const result: SyncResult = { conversations: [] };
    for (const { conversationId, afterSeq } of input.conversations) {
      const messages = await this.store.messages.list(conversationId, {
        after: afterSeq,
        limit: limit + 1,
      });
      result.conversations.push({
        conversationId,
        messages: messages.slice(0, limit).map(toMessageDto),
        hasMore: messages.length > limit,
        lastReadSeq: positions.get(conversationId) ?? 0,
      });
    }
    return result;
  }

  /** Moves the reader's position forward; tells the other members and the reader's other devices. */
  async markRead(
    principal: Principal,
    conversationId: string,
    seq: number,
    origin: Origin = {},
  ): Promise<ReadResult> {
    const conversation = await this.memberConversation(principal, conversationId);
    const lastSeq = lastMessageSeq(conversation);
    const current =
      (await this.store.readStates.forUser(principal.userId, [conversationId])).get(
        conversationId,
      ) ?? 0;
    const target = nextReadSeq(current, seq, lastSeq);
    const lastReadSeq =
      target > current
        ? await this.store.readStates.advance(conversationId, principal.userId, target)
        : current;
    if (lastReadSeq > current) {
      this.bus.toUsersExcept(memberIds(conversation), origin.socketId, 'conversation:read', {
        conversationId,
        userId: principal.userId,
        lastReadSeq,
      });
    }
    return { conversationId, lastReadSeq, unreadCount: unreadCount(lastSeq, lastReadSeq) };
  }

  /**
   * Which of `userIds` share a conversation with `userId` (and `userId` itself): presence
   * is only visible to contacts. Walks at most `maxConversations` recent conversations.
   */
  async contactsAmong(
    userId: string,
    userIds: string[],
    maxConversations = 1_000,
  ): Promise<string[]> {
    const wanted = new Set(userIds);
    const found = new Set<string>(wanted.has(userId) ? [userId] : []);
    let cursor: string | undefined;
    let seen = 0;
    do {
      const page = await this.store.conversations.listForUser(userId, {
        limit: LIMITS.maxPageSize,
        ...(cursor && { cursor }),
      });
      for (const c of page.conversations)
        for (const m of c.members) if (wanted.has(m.userId)) found.add(m.userId);
      seen += page.conversations.length;
      cursor = page.nextCursor;
    } while (cursor && found.size < wanted.size && seen < maxConversations);
    return userIds.filter((id) => found.has(id));
  }

  /** The conversation, if the principal is a member; the same error whether it exists or not. */
  async memberConversation(principal: Principal, conversationId: string): Promise<Conversation> {
    const conversation = await this.store.conversations.findById(conversationId);
    if (!conversation) throw new NotMemberError(conversationId);
    return assertMember(conversation, principal.userId, conversationId);
  }
}
