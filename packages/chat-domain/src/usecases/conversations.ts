import { type Conversation, type Principal } from '../entities.js';
import {
  BlockedError,
  ConflictError,
  NotMemberError,
  RequestDeclinedError,
  RequestPendingError,
} from '../errors.js';
import { type ConversationDto, type ConversationList } from '../responses.js';
import { toConversationDto, toConversationUpdate } from '../mappers.js';
import { type ConversationBox } from '../ports.js';
import {
  LIMITS,
  assertCanCreateGroup,
  assertCanOpenDirect,
  directKey,
  memberIds,
  readPosition,
  sharesActivity,
} from '../rules.js';
import { type CreateConversationInput } from '../schemas.js';
import { type ChatDeps, memberConversation, trustOf } from './context.js';

/**
 * Opens a direct conversation (one per pair and job context) or a group. A direct one with
 * someone who is not a contact yet is a request for them; nothing opens across a block.
 */
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
    const [blocked, accepted] = await Promise.all([
      deps.store.contacts.blockedAmong(principal.userId, [input.userId]),
      deps.store.contacts.accepted(principal.userId, input.userId),
    ]);
    if (blocked.length > 0)
      throw new BlockedError('you cannot start a conversation with this user');
    if (!accepted) {
      // One request per stranger at a time, whatever the job: no flood by varying jobId.
      const earlier = await deps.store.conversations.requestBetween(principal.userId, input.userId);
      const same =
        earlier &&
        (earlier.jobId ?? '') === (input.jobId ?? '') &&
        (earlier.applicationId ?? '') === (input.applicationId ?? '');
      if (earlier && !same) {
        if (earlier.request?.state === 'declined') throw new RequestDeclinedError();
        throw new RequestPendingError(
          trustOf(deps).requestAllowance,
          'you already have a request waiting for this person: wait until they answer it',
        );
      }
    }
    result = await deps.store.conversations.create({
      kind: 'direct',
      ...context,
      members: [owner, { userId: input.userId, role: 'member', joinedAt: createdAt }],
      createdBy: principal.userId,
      createdAt,
      directKey: directKey(principal.userId, input.userId, context),
      ...(!accepted && {
        request: { from: principal.userId, to: input.userId },
        requestAllowance: trustOf(deps).requestAllowance,
      }),
    });
  } else {
    const others = [...new Set(input.memberIds)].filter((id) => id !== principal.userId);
    assertCanCreateGroup(principal, [principal.userId, ...others]);
    if ((await deps.store.contacts.blockedAmong(principal.userId, others)).length > 0) {
      throw new BlockedError('some of these people cannot be added to a conversation with you');
    }
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
  query: { limit: number; cursor?: string; box?: ConversationBox },
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

/** The recipient accepts (the two become contacts) or declines a request; both sides are told. */
export async function answerRequest(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
  answer: 'accept' | 'decline',
): Promise<ConversationDto> {
  const answered = await deps.store.conversations.answerRequest(
    conversationId,
    principal.userId,
    answer,
  );
  if (!answered) {
    await memberConversation(deps, principal, conversationId); // NOT_A_MEMBER when not one
    throw new ConflictError('there is no request of yours to answer in this conversation');
  }
  if (!answered.members.some((m) => m.userId === principal.userId))
    throw new NotMemberError(conversationId);
  deps.fanout.toUsers(memberIds(answered), 'conversation:updated', toConversationUpdate(answered));
  // What the recipient read while it was a request was kept from the opener; accepted, it is
  // shared like any read ("Seen" without waiting for the next message).
  const lastReadSeq = readPosition(answered, principal.userId);
  const others = memberIds(answered).filter(
    (id) => id !== principal.userId && sharesActivity(answered, principal.userId, id),
  );
  if (answer === 'accept' && lastReadSeq > 0 && others.length > 0)
    deps.fanout.toUsers(others, 'conversation:read', {
      conversationId,
      userId: principal.userId,
      lastReadSeq,
    });
  return toConversationDto(answered, principal.userId);
}
