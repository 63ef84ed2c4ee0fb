import { type Conversation, type Principal } from '../entities.js';
import {
  BlockedError,
  ConflictError,
  NotMemberError,
  RequestDeclinedError,
  RequestPendingError,
  ValidationError,
} from '../errors.js';
import { type ConversationDto, type ConversationList } from '../responses.js';
import { toConversationDto, toConversationUpdate } from '../mappers.js';
import { type ConversationChange } from '../platform.js';
import { type ConversationBox } from '../ports.js';
import {
  LIMITS,
  assertCanCreateGroup,
  assertCanOpenDirect,
  audienceOf,
  directKey,
  hasJoined,
  memberIds,
  readPosition,
} from '../rules.js';
import { type CreateConversationInput, type LeaveConversationInput } from '../schemas.js';
import { type ChatDeps, memberConversation, trustOf } from './context.js';
import { conversationChanged } from './platform.js';
import { standing } from './moderation.js';
import { apartFrom, apartIn, assertNoBlockAmong } from './presence.js';
import { withPinnedFirst } from './organisation.js';
import { hidingAmong, membersOf, receiptAudience } from './receipts.js';

/**
 * Opens a direct conversation (one per pair and job context) or a group. A direct one with
 * someone who is not a contact yet is a request for them; nothing opens across a block.
 */
export async function openConversation(
  deps: ChatDeps,
  principal: Principal,
  input: CreateConversationInput,
): Promise<{ conversation: ConversationDto; created: boolean }> {
  await standing(deps, principal.userId);
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
    await assertNoBlockAmong(deps, [principal.userId, ...others]);
    // Someone who is not the creator's contact yet is invited: nothing of the group reaches
    // them, and no contact is made, until they accept.
    const contacts = new Set(await deps.store.contacts.among(principal.userId, others));
    result = await deps.store.conversations.create({
      kind: 'group',
      title: input.title,
      ...context,
      members: [
        owner,
        ...others.map((userId) => ({
          userId,
          role: 'member' as const,
          joinedAt: createdAt,
          ...(!contacts.has(userId) && {
            invitation: { from: principal.userId, state: 'pending' as const },
          }),
        })),
      ],
      createdBy: principal.userId,
      createdAt,
    });
  }
  const { conversation, created } = result;
  if (created) {
    // A new conversation looks the same to every member: nothing read, nothing unread. An
    // invitee gets the invitation as they see it.
    deps.fanout.toUsers(
      audienceOf(conversation),
      'conversation:created',
      toConversationDto(conversation, conversation.createdBy),
    );
    for (const m of conversation.members.filter((member) => !hasJoined(member)))
      deps.fanout.toUsers(
        [m.userId],
        'conversation:created',
        toConversationDto(conversation, m.userId),
      );
  }
  return { conversation: toConversationDto(conversation, principal.userId), created };
}

export async function listConversations(
  deps: ChatDeps,
  principal: Principal,
  query: { limit: number; cursor?: string; box?: ConversationBox },
): Promise<ConversationList> {
  const [listed, unread, epoch] = await Promise.all([
    deps.store.conversations.listForMember(principal.userId, query),
    deps.store.conversations.unreadSummary(principal.userId, LIMITS.unreadScanConversations),
    deps.store.epoch(),
  ]);
  const page = await withPinnedFirst(deps, principal.userId, query, listed);
  const [apart, hiding] = await Promise.all([
    apartFrom(deps, principal.userId, page.conversations),
    hidingAmong(deps, membersOf(page.conversations)),
  ]);
  return {
    conversations: page.conversations.map((c) =>
      toConversationDto(c, principal.userId, apartIn(c, apart), hiding),
    ),
    ...(page.nextCursor && { nextCursor: page.nextCursor }),
    totalUnread: unread.total,
    totalUnreadCapped: unread.capped,
    epoch,
  };
}

export async function getConversation(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
): Promise<ConversationDto> {
  const conversation = await memberConversation(deps, principal, conversationId);
  const [apart, hiding] = await Promise.all([
    apartFrom(deps, principal.userId, [conversation]),
    hidingAmong(deps, membersOf([conversation])),
  ]);
  return toConversationDto(conversation, principal.userId, apartIn(conversation, apart), hiding);
}

/**
 * The recipient accepts (the two become contacts) or declines a request; both sides are told.
 * An invitee to a group answers the invitation the same way: accepted, the group opens with its
 * history and they become contacts of its members; declined, it leaves their lists (nobody
 * else is told).
 */
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
    const current = await memberConversation(deps, principal, conversationId); // NOT_A_MEMBER
    if (current.members.some((m) => m.userId === principal.userId && m.invitation))
      return answerInvitation(deps, principal, current, answer);
    throw new ConflictError('there is no request of yours to answer in this conversation');
  }
  if (!answered.members.some((m) => m.userId === principal.userId))
    throw new NotMemberError(conversationId);
  deps.fanout.toUsers(memberIds(answered), 'conversation:updated', toConversationUpdate(answered));
  // What the recipient read while it was a request was kept from the opener; accepted, it is
  // shared like any read ("Seen" without waiting for the next message).
  const lastReadSeq = readPosition(answered, principal.userId);
  const others =
    answer === 'accept' && lastReadSeq > 0
      ? await receiptAudience(deps, answered, principal.userId)
      : [];
  if (others.length > 0)
    deps.fanout.toUsers(others, 'conversation:read', {
      conversationId,
      userId: principal.userId,
      lastReadSeq,
    });
  return toConversationDto(answered, principal.userId);
}

async function answerInvitation(
  deps: ChatDeps,
  principal: Principal,
  conversation: Conversation,
  answer: 'accept' | 'decline',
): Promise<ConversationDto> {
  const result = await deps.store.platform.change(conversation.id, {
    at: deps.clock.now(),
    answer: { userId: principal.userId, accept: answer === 'accept' },
  });
  if (!result) throw new NotMemberError(conversation.id);
  const c = result.conversation;
  if (result.changed) {
    // Accepted: the members see who joined; the invitee's devices get the group as it is now.
    // Declined: only the invitee's devices hear it.
    if (answer === 'accept')
      deps.fanout.toUsers(
        audienceOf(c).filter((id) => id !== principal.userId),
        'conversation:updated',
        conversationChanged(c),
      );
    const apart = await apartFrom(deps, principal.userId, [c]);
    deps.fanout.toUsers(
      [principal.userId],
      'conversation:created',
      toConversationDto(c, principal.userId, apart),
    );
  }
  const apart = await apartFrom(deps, principal.userId, [c]);
  return toConversationDto(c, principal.userId, apart);
}

/**
 * Any member leaves a group: from then on nothing of it reaches them, live or through sync.
 * The last owner hands it over to a member who joined (`handOverTo`), or it is archived. A
 * direct conversation is not left: it is declined or blocked.
 */
export async function leaveConversation(
  deps: ChatDeps,
  principal: Principal,
  input: LeaveConversationInput,
): Promise<{ left: true }> {
  const conversation = await memberConversation(deps, principal, input.conversationId);
  if (conversation.kind !== 'group')
    throw new ConflictError('a direct conversation cannot be left: decline it or block instead');
  const me = conversation.members.find((m) => m.userId === principal.userId)!;
  const lastOwner =
    me.role === 'owner' &&
    !conversation.members.some((m) => m.userId !== me.userId && m.role === 'owner' && hasJoined(m));
  const change: ConversationChange = { at: deps.clock.now(), remove: [principal.userId] };
  if (input.handOverTo !== undefined) {
    const heir = conversation.members.find((m) => m.userId === input.handOverTo);
    if (!lastOwner || !heir || heir.userId === me.userId || !hasJoined(heir))
      throw new ValidationError('only the last owner hands a group over, to a member who joined', [
        { path: 'handOverTo', message: 'a member of this group who accepted, not you' },
      ]);
    change.owner = heir.userId;
  } else if (lastOwner) change.archived = true;
  const result = await deps.store.platform.change(conversation.id, change);
  if (!result) throw new NotMemberError(conversation.id);
  if (result.changed) {
    const c = result.conversation;
    deps.fanout.toUsers(
      [...memberIds(c), principal.userId],
      'conversation:updated',
      conversationChanged(c),
    );
  }
  return { left: true };
}
