import { type Conversation } from '../entities.js';
import { NotFoundError, NotMemberError, ValidationError } from '../errors.js';
import { toConversationDto, toConversationUpdate, toMessageDto } from '../mappers.js';
import {
  type DeadLettersPage,
  type ErasureResult,
  type OfflineCheck,
  type OutboxEntry,
  type ServiceConversationPatch,
  type ServiceConversationResult,
  type ServiceOpenConversationInput,
  type ServicePrincipal,
  type SystemMessageInput,
  type UserExportDto,
  type WebhookEvent,
  SYSTEM_SENDER,
} from '../platform.js';
import { type ActionCard, type ActionMessageInput } from '../actions.js';
import { MODERATION_LIMITS } from '../moderation.js';
import { type AppendResult, type MessageDraft } from '../ports.js';
import { type ConversationUpdate, type SendResult } from '../responses.js';
import { LIMITS, directKey, memberIds, organisationOf, readPosition } from '../rules.js';
import { type ChatDeps, announceStored, markIfUnavailable } from './context.js';
import { conversationSummary, webhookEvent } from './platform-events.js';
import { auditLog, setSlowMode, userRestriction } from './moderation.js';
import { assertNoBlockAmong } from './presence.js';
import { postActionMessage } from './actions.js';
import { conversationResponseTimes, subjectResponseTimes } from './response-times.js';
import { type ResponseSubject } from '../response-times.js';
import { companyTemplateUseCases } from './templates.js';
import { ownerKey } from '../templates.js';

/** Caps of the server API: every call's cost is bounded, whatever the store holds. */
export const PLATFORM_LIMITS = {
  /** Erasure: messages per store step, and steps per call (the caller repeats until complete). */
  erasureStepMessages: 100,
  erasureStepsPerCall: 10,
  /** Erasure: files discarded per call (before any message). */
  erasureStepFiles: 100,
  exportConversations: 1_000,
  exportMessages: 10_000,
} as const;

/** The live form of a change of the conversation itself, for every device of its members. */
export function conversationChanged(c: Conversation): ConversationUpdate {
  return {
    ...toConversationUpdate(c),
    version: c.version,
    ...(c.title !== undefined && { title: c.title }),
    archived: c.archived === true,
    memberIds: memberIds(c),
  };
}

/** The conversation as the service sees it: through its owner's eyes. */
function asService(c: Conversation) {
  return toConversationDto(c, c.createdBy);
}

/**
 * Opens the conversation of an application on behalf of its people: accepted from the start
 * (no request; they become contacts). A direct one is one per pair and job context, as when
 * people open it; a group is one per idempotency key of the calling service. A request one of them sent before is
 * accepted by this.
 */
export async function openForUsers(
  deps: ChatDeps,
  service: ServicePrincipal,
  input: ServiceOpenConversationInput,
): Promise<ServiceConversationResult> {
  const createdAt = deps.clock.now();
  const owner = input.createdBy ?? input.memberIds[0]!;
  const context = {
    ...(input.jobId && { jobId: input.jobId }),
    ...(input.applicationId && { applicationId: input.applicationId }),
  };
  const ordered = [owner, ...input.memberIds.filter((id) => id !== owner)];
  const members = ordered.map((userId) => ({
    userId,
    role: userId === owner ? ('owner' as const) : ('member' as const),
    joinedAt: createdAt,
  }));
  // A direct conversation carries its block itself; a group never seats a blocked pair.
  if (input.kind === 'group') await assertNoBlockAmong(deps, ordered);
  const key =
    input.kind === 'direct'
      ? directKey(ordered[0]!, ordered[1]!, context)
      : // Each service's keys are its own: another service's key opens another group.
        `svc:${service.service}:${input.idempotencyKey}`;
  const opened = await deps.store.conversations.create({
    kind: input.kind,
    ...(input.title !== undefined && { title: input.title }),
    ...context,
    members,
    createdBy: owner,
    createdAt,
    directKey: key,
  });
  const { created } = opened;
  let { conversation } = opened;
  if (conversation.request) {
    const accepted = await deps.store.conversations.answerRequest(
      conversation.id,
      conversation.request.to,
      'accept',
    );
    if (accepted) {
      conversation = accepted;
      deps.fanout.toUsers(
        memberIds(accepted),
        'conversation:updated',
        toConversationUpdate(accepted),
      );
    }
  }
  if (created) {
    deps.fanout.toUsers(memberIds(conversation), 'conversation:created', asService(conversation));
  }
  return { conversation: asService(conversation), created };
}

/**
 * A message from the platform ("Interview scheduled for Thursday 10:00"): kind 'system', in
 * the conversation's order, counted as unread, delivered and synced like any other.
 * Idempotent by the caller's key.
 */
export async function postSystemMessage(
  deps: ChatDeps,
  conversationId: string,
  input: SystemMessageInput,
): Promise<SendResult> {
  return postAsPlatform(deps, conversationId, input.idempotencyKey, input.body);
}

/** A system message, optionally carrying an action card (see actions.ts). */
export async function postAsPlatform(
  deps: ChatDeps,
  conversationId: string,
  idempotencyKey: string,
  body: string,
  action?: ActionCard,
): Promise<SendResult> {
  const draft: MessageDraft = {
    conversationId,
    senderId: SYSTEM_SENDER,
    clientMessageId: idempotencyKey,
    body,
    kind: 'system' as const,
    createdAt: deps.clock.now(),
    ...(action && { action }),
  };
  const announce = (landed: AppendResult) => {
    deps.fanout.toUsers(landed.memberIds, 'message:new', toMessageDto(landed.message));
    return Promise.resolve();
  };
  const result = await deps.store.messages.append(draft).catch(async (error: unknown) => {
    if (error instanceof NotMemberError) throw new NotFoundError('no such conversation');
    await markIfUnavailable(deps, error, draft, announce);
    throw error;
  });
  const dto = toMessageDto(result.message);
  await announceStored(deps, draft, result, announce);
  return { message: dto, duplicate: result.duplicate };
}

async function changed(
  deps: ChatDeps,
  conversationId: string,
  change: Parameters<ChatDeps['store']['platform']['change']>[1],
) {
  const result = await deps.store.platform.change(conversationId, change);
  if (!result) throw new NotFoundError('no such conversation');
  return result;
}

/** Title and archive: every member's devices learn it live, and through sync later. */
export async function changeConversation(
  deps: ChatDeps,
  conversationId: string,
  patch: ServiceConversationPatch,
) {
  const result = await changed(deps, conversationId, {
    at: deps.clock.now(),
    ...(patch.title !== undefined && { title: patch.title }),
    ...(patch.archived !== undefined && { archived: patch.archived }),
  });
  const c = result.conversation;
  if (result.changed)
    deps.fanout.toUsers(memberIds(c), 'conversation:updated', conversationChanged(c));
  return asService(c);
}

/** Adds people to a group: they receive from now on and see the conversation appear. */
export async function addMembers(deps: ChatDeps, conversationId: string, userIds: string[]) {
  const current = await deps.store.conversations.get(conversationId);
  if (!current) throw new NotFoundError('no such conversation');
  if (current.kind !== 'group')
    throw new ValidationError('a direct conversation keeps its two people', [
      { path: 'conversationId', message: 'must be a group' },
    ]);
  const joining = [...new Set(userIds)].filter((id) => !memberIds(current).includes(id));
  if (current.members.length + joining.length > LIMITS.maxGroupMembers)
    throw new ValidationError(`a group has at most ${LIMITS.maxGroupMembers} members`, [
      { path: 'userIds', message: 'too many' },
    ]);
  await assertNoBlockAmong(deps, [...memberIds(current), ...joining], new Set(joining));
  const joinedAt = deps.clock.now();
  const result = await changed(deps, conversationId, {
    at: joinedAt,
    add: joining.map((userId) => ({ userId, role: 'member' as const, joinedAt })),
  });
  const c = result.conversation;
  if (result.changed) {
    const added = new Set(result.added.map((m) => m.userId));
    deps.fanout.toUsers(
      memberIds(c).filter((id) => !added.has(id)),
      'conversation:updated',
      conversationChanged(c),
    );
    for (const userId of added)
      deps.fanout.toUsers([userId], 'conversation:created', toConversationDto(c, userId));
  }
  return asService(c);
}

/**
 * Removes someone: from this change on nothing of the conversation reaches them (fan-out
 * goes to the members the store holds), their sync of it answers NOT_A_MEMBER, and their
 * devices are told so live (the update's memberIds leave them out).
 */
export async function removeMember(deps: ChatDeps, conversationId: string, userId: string) {
  const current = await deps.store.conversations.get(conversationId);
  if (!current) throw new NotFoundError('no such conversation');
  // A direct conversation is one per pair: without one of them it would be nobody's.
  if (current.kind !== 'group')
    throw new ValidationError('a direct conversation keeps its two people', [
      { path: 'conversationId', message: 'must be a group' },
    ]);
  const result = await changed(deps, conversationId, {
    at: deps.clock.now(),
    remove: [userId],
  });
  const c = result.conversation;
  if (result.changed)
    deps.fanout.toUsers([...memberIds(c), userId], 'conversation:updated', conversationChanged(c));
  return asService(c);
}

/**
 * Erases a person: their messages become tombstones at new versions (devices see it through
 * sync), their memberships and read positions end, report texts and contacts of theirs go,
 * and that it happened is recorded without what was erased. Bounded per call: `complete:
 * false` asks the caller to call again (every step is idempotent).
 */
export async function eraseUser(
  deps: ChatDeps,
  service: ServicePrincipal,
  userId: string,
): Promise<ErasureResult> {
  let messages = 0;
  let conversations = 0;
  const at = deps.clock.now();
  // The person's files first: their links are refused at once, whatever else takes longer.
  const files = await deps.attachments?.store.discardUploader(
    userId,
    PLATFORM_LIMITS.erasureStepFiles,
  );
  if (files === PLATFORM_LIMITS.erasureStepFiles)
    return { userId, complete: false, messagesRedacted: 0, conversationsLeft: 0 };
  for (let step = 0; step < PLATFORM_LIMITS.erasureStepsPerCall; step++) {
    const done = await deps.store.platform.eraseUserStep(
      userId,
      at,
      PLATFORM_LIMITS.erasureStepMessages,
    );
    messages += done.messages;
    conversations += done.conversations;
    if (done.done) {
      await deps.store.outbox.forgetAuthor(userId);
      await deps.store.templates.forgetOwner(ownerKey({ kind: 'recruiter', userId }));
      await deps.store.platform.recordErasure({
        userId,
        requestedBy: service.service,
        at,
        messages,
        conversations,
      });
      return {
        userId,
        complete: true,
        messagesRedacted: messages,
        conversationsLeft: conversations,
      };
    }
  }
  return { userId, complete: false, messagesRedacted: messages, conversationsLeft: conversations };
}

/** A person's conversations and own messages, as JSON, each list capped. */
export async function exportUser(deps: ChatDeps, userId: string): Promise<UserExportDto> {
  const data = await deps.store.platform.exportUser(userId, {
    conversations: PLATFORM_LIMITS.exportConversations,
    messages: PLATFORM_LIMITS.exportMessages,
  });
  const [restriction, actions] = await Promise.all([
    userRestriction(deps, userId),
    auditLog(deps, { userId, limit: MODERATION_LIMITS.exportAuditEntries }),
  ]);
  return {
    userId,
    exportedAt: deps.clock.now().toISOString(),
    conversations: data.conversations.map((c) => toConversationDto(c, userId)),
    messages: data.messages.map((m) => toMessageDto(m)),
    truncated: data.truncated || actions.nextCursor !== undefined,
    moderation: { restriction, actions: actions.entries },
  };
}

export function toDeadLetter(entry: OutboxEntry) {
  return {
    id: entry.id,
    endpoint: entry.endpoint ?? '',
    attempts: entry.attempts,
    ...(entry.lastError && { lastError: entry.lastError }),
    createdAt: entry.createdAt.toISOString(),
    event: JSON.parse(entry.payload) as Record<string, unknown>,
  };
}

export async function deadLetters(
  deps: ChatDeps,
  page: { limit: number; cursor?: string },
): Promise<DeadLettersPage> {
  const result = await deps.store.outbox.listDead(page, deps.clock.now());
  return {
    entries: result.entries.filter((e) => e.kind === 'webhook').map(toDeadLetter),
    ...(result.nextCursor && { nextCursor: result.nextCursor }),
  };
}

export async function replayDeadLetter(deps: ChatDeps, id: string): Promise<void> {
  if (!(await deps.store.outbox.replay(id, deps.clock.now())))
    throw new NotFoundError('no such dead letter');
}

/**
 * Whether a recipient should hear of a message by e-mail or push: still a member, nothing
 * read up to it, no device connected, and nothing between them and the sender (a block, a
 * declined request). The event carries what a notification needs.
 */
export async function offlineNotification(
  deps: ChatDeps,
  check: OfflineCheck,
  isOnline: (userId: string) => Promise<boolean>,
): Promise<WebhookEvent | null> {
  const c = await deps.store.conversations.get(check.conversationId);
  if (!c || !c.members.some((m) => m.userId === check.recipientId)) return null;
  if (readPosition(c, check.recipientId) >= check.seq || c.blocked) return null;
  // Muted by the recipient: listed and synced, never pushed.
  if (organisationOf(c, check.recipientId).muted === true) return null;
  if (c.request?.state === 'declined') return null;
  const sender = c.lastMessage?.senderId;
  if (!sender || !c.lastMessage) return null;
  if (sender !== SYSTEM_SENDER) {
    const blocked = await deps.store.contacts.blockedAmong(check.recipientId, [sender]);
    if (blocked.length > 0) return null;
  }
  if (await isOnline(check.recipientId)) return null;
  const lastSeq = c.lastMessage.seq;
  return webhookEvent(
    `notif_${c.id}_${check.recipientId}_${check.window}`,
    'notification.offline',
    {
      recipientId: check.recipientId,
      conversation: conversationSummary(c),
      sender: { userId: sender, system: sender === SYSTEM_SENDER },
      preview: c.lastMessage.deleted ? '' : c.lastMessage.body,
      unreadCount: Math.max(0, lastSeq - readPosition(c, check.recipientId)),
      lastSeq,
    },
    deps.clock.now(),
  );
}

/** The server API's use cases bound to their ports: what the service controller calls. */
export function createPlatform(deps: ChatDeps) {
  return {
    open: (service: ServicePrincipal, input: ServiceOpenConversationInput) =>
      openForUsers(deps, service, input),
    postSystemMessage: (id: string, input: SystemMessageInput) =>
      postSystemMessage(deps, id, input),
    postActionMessage: (id: string, input: ActionMessageInput) =>
      postActionMessage(deps, id, input),
    ...companyTemplateUseCases(deps),
    change: (id: string, patch: ServiceConversationPatch) => changeConversation(deps, id, patch),
    addMembers: (id: string, userIds: string[]) => addMembers(deps, id, userIds),
    removeMember: (id: string, userId: string) => removeMember(deps, id, userId),
    eraseUser: (service: ServicePrincipal, userId: string) => eraseUser(deps, service, userId),
    exportUser: (userId: string) => exportUser(deps, userId),
    deadLetters: (page: { limit: number; cursor?: string }) => deadLetters(deps, page),
    replay: (id: string) => replayDeadLetter(deps, id),
    setSlowMode: (service: ServicePrincipal, id: string, seconds: number, reason?: string) =>
      setSlowMode(deps, { actor: `service:${service.service}` }, id, seconds, reason),
    offlineNotification: (check: OfflineCheck, isOnline: (userId: string) => Promise<boolean>) =>
      offlineNotification(deps, check, isOnline),
    conversationResponseTimes: (id: string) => conversationResponseTimes(deps, id),
    subjectResponseTimes: (subject: ResponseSubject) => subjectResponseTimes(deps, subject),
  };
}
export type Platform = ReturnType<typeof createPlatform>;
