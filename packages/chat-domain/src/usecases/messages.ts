import { type Conversation, type Message, type Principal } from '../entities.js';
import {
  ConflictError,
  DomainError,
  EditWindowPassedError,
  ForbiddenError,
  NotFoundError,
  NotMemberError,
  UnavailableError,
  ValidationError,
} from '../errors.js';
import {
  type HistoryPage,
  type MessageDto,
  type ReadResult,
  type SendResult,
  type SyncEntry,
  type SyncResult,
} from '../responses.js';
import {
  toConversationDto,
  toConversationUpdate,
  organisationIfAny,
  toReceipts,
  toViewerMessageDto,
  toVisibleMessageDto,
  sidesOf,
  type MessageView,
} from '../mappers.js';
import { type AppendResult, type Revision, type RevisionExpectation } from '../ports.js';
import { flagId, type ModerationFlagSource } from '../moderation.js';
import { assertAdmitted, decideSend, sendRefusalError, sendSubjectOf } from '../send-decision.js';
import {
  LIMITS,
  approximateBytes,
  audienceOf,
  lastMessageSeq,
  nextReadSeq,
  readPosition,
  seenBy,
  unreadCount,
} from '../rules.js';
import {
  type DeleteMessageInput,
  type EditMessageInput,
  type HistoryQuery,
  type SendMessageInput,
  type SyncInput,
} from '../schemas.js';
import { claimAttachments, discardAttachments, releaseAttachments } from './attachments.js';
import {
  type ChatDeps,
  DEFAULT_SETTLE_MS,
  type Origin,
  changedAt,
  except,
  memberConversation,
  trustOf,
  markIfUnavailable,
  announceStored,
} from './context.js';
import { announceMentions } from './mentions.js';
import { coverShadowSeq, gateOf, standing, takeSlowModeSlot } from './moderation.js';
import { apartFrom, apartIn, withoutBlocked } from './presence.js';
import { clearMarkedUnread } from './organisation.js';
import { hidingAmong, membersOf, receiptAudience } from './receipts.js';
import { screenDraft } from './screening.js';
import { replyTargets } from './replies.js';
import { recordResponseTime } from './response-times.js';

/** A page of history, capped in messages and in bytes; edited and deleted ones in their current state. */
export async function history(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
  query: HistoryQuery,
): Promise<HistoryPage> {
  // Both at once: the page is thrown away unless the caller turns out to be a member.
  const [conversation, messages] = await Promise.all([
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
  // An invitee reads nothing until they accept; nothing of someone apart is shown but its place.
  assertAdmitted(conversation, principal.userId, 'read', trustOf(deps).requestAllowance);
  const [apartUsers, targets] = await Promise.all([
    apartFrom(deps, principal.userId, [conversation]),
    replyTargets(deps, conversationId, page),
  ]);
  const apart = apartIn(conversation, apartUsers);
  const view = { viewerId: principal.userId, targets };
  return {
    messages: page.filter(seenBy(principal.userId)).map((m) => toVisibleMessageDto(m, apart, view)),
    hasMore: messages.length > page.length,
  };
}

/**
 * Stores first, acks after: the returned message is durable. A repeated clientMessageId from
 * the same sender returns the stored message and creates nothing; the store owns that rule,
 * and the rules of blocks and requests.
 */
export async function sendMessage(
  deps: ChatDeps,
  principal: Principal,
  input: SendMessageInput,
  origin: Origin = {},
): Promise<SendResult> {
  const { shadow } = await standing(deps, principal.userId);
  // The platform's hook and the content policy decide on the text before anything is claimed.
  const screened = await screenDraft(
    deps,
    {
      action: 'send',
      conversationId: input.conversationId,
      senderId: principal.userId,
      clientMessageId: input.clientMessageId,
      body: input.body,
    },
    () => memberConversation(deps, principal, input.conversationId),
  );
  await takeSlowModeSlot(deps, input.conversationId, principal.userId, input.clientMessageId);
  const attachments = await claimAttachments(deps, principal, input).catch(
    async (error: unknown) => {
      await releaseSlot(deps, principal, input.conversationId, input.clientMessageId);
      throw error;
    },
  );
  const draft = {
    conversationId: input.conversationId,
    senderId: principal.userId,
    clientMessageId: input.clientMessageId,
    body: screened.body,
    createdAt: deps.clock.now(),
    ...(attachments && { attachments }),
    ...(screened.safety && { safety: screened.safety }),
    ...(input.replyTo !== undefined && { replyTo: input.replyTo }),
    ...(input.mentions && input.mentions.length > 0 && { mentions: input.mentions }),
    ...(shadow && { shadow: true }),
  };
  const result = await deps.store.messages.append(draft).catch(async (error: unknown) => {
    // Refused for good: the slow-mode slot goes back (after UNAVAILABLE the retry holds it).
    if (error instanceof DomainError && !(error instanceof UnavailableError))
      await releaseSlot(deps, principal, input.conversationId, input.clientMessageId);
    // Refused for good (not a member, blocked...): the uploads may go with another message.
    // After UNAVAILABLE the client retries with the same clientMessageId: the claim stays. Its
    // write may land all the same: checked again once the store answers, and announced then.
    if (attachments && error instanceof DomainError && !(error instanceof UnavailableError))
      await releaseAttachments(deps, principal, input).catch(() => undefined);
    await markIfUnavailable(deps, error, draft, (landed) =>
      announceSend(deps, principal, landed, {}),
    );
    throw error;
  });
  // Stored: the response-time figures' write starts, and the ack does not wait for it.
  recordResponseTime(deps, principal, result);
  // A duplicate was delivered when it was first stored (devices that missed it sync), unless
  // that attempt was answered UNAVAILABLE and never announced: then this retry announces it.
  await announceStored(deps, draft, result, (landed) =>
    announceSend(deps, principal, landed, origin),
  );
  await raiseFlags(deps, result.message);
  // Best effort: the message is stored, its sender is never told otherwise.
  if (result.message.shadow && !result.duplicate)
    await coverShadowSeq(deps, result.message).catch(() => undefined);
  return {
    message: toViewerMessageDto(result.message, principal.userId, {
      viewerId: principal.userId,
      ...viewOf(result),
    }),
    duplicate: result.duplicate,
  };
}

/** The quoted message as the append read it. */
function viewOf({ replyTarget }: AppendResult): MessageView {
  return replyTarget ? { targets: new Map([[replyTarget.id, replyTarget]]) } : {};
}

/**
 * Fans a message out: one payload for everyone, or (when the content policy masked or warned)
 * the sender's own devices the sent text and the others what they may see.
 */
function toEachSide(
  deps: ChatDeps,
  audience: string[],
  message: Message,
  event: 'message:new' | 'message:updated',
  origin: Origin,
  view: MessageView = {},
): void {
  for (const side of sidesOf(message, audience, view))
    deps.fanout.toUsers(side.users, event, side.dto, except(origin));
}

async function releaseSlot(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
  sendKey: string,
): Promise<void> {
  await gateOf(deps)
    .releaseSlot(conversationId, principal.userId, sendKey)
    .catch(() => undefined);
}

/**
 * The content policy's and the pre-send hook's flags on a stored message, raised on the
 * moderation list: one per source and message (a retry or a later edit keeps the first), its
 * reasons together. Best effort: the message is stored and its flags stay on it.
 */
async function raiseFlags(deps: ChatDeps, message: Message): Promise<void> {
  const bySource = new Map<ModerationFlagSource, string[]>();
  for (const f of message.safety?.flags ?? [])
    bySource.set(f.source, [...(bySource.get(f.source) ?? []), f.reason]);
  await Promise.all(
    [...bySource].map(([source, reasons]) =>
      deps.store.moderation.flag({
        id: flagId(source, message.id),
        source,
        reason: reasons.join(', '),
        at: message.editedAt ?? message.createdAt,
        userId: message.senderId,
        conversationId: message.conversationId,
        messageId: message.id,
      }),
    ),
  ).catch(() => undefined);
}

/** A stored send, told to its audience (and a request its reply accepted, to both sides). */
async function announceSend(
  deps: ChatDeps,
  principal: Principal,
  result: AppendResult,
  origin: Origin,
): Promise<void> {
  const { message, kind, memberIds: members, acceptedRequest } = result;
  // A shadow-banned sender's message reaches their own devices only.
  if (message.shadow) {
    deps.fanout.toUsers(
      [principal.userId],
      'message:new',
      toViewerMessageDto(message, message.senderId, viewOf(result)),
      except(origin),
    );
    return;
  }
  // In a group, nobody behind a block with the sender gets it (either way).
  const audience =
    kind === 'group' ? await withoutBlocked(deps, { kind }, principal.userId, members) : members;
  // The recipient replied: the conversation is an ordinary one now, on every device. Every read
  // comes before the first event, so a store that stops answering defers all of it or none.
  const accepted = acceptedRequest
    ? await deps.store.conversations.get(message.conversationId)
    : undefined;
  toEachSide(deps, audience, message, 'message:new', origin, viewOf(result));
  announceMentions(deps, message, audience);
  if (accepted)
    deps.fanout.toUsers(audience, 'conversation:updated', toConversationUpdate(accepted));
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
  const epoch = await deps.store.epoch();
  // Versions of another epoch (the store was restored or reset) say nothing: from the start.
  const restart = input.epoch !== undefined && input.epoch !== epoch;
  const wanted = new Map<string, number>();
  for (const { conversationId, afterVersion: asked } of input.conversations) {
    const afterVersion = restart ? 0 : asked;
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
  const [apart, hiding] = await Promise.all([
    apartFrom(deps, principal.userId, [...found.values()]),
    hidingAmong(deps, membersOf([...found.values()])),
  ]);
  let messagesLeft: number = LIMITS.maxSyncMessagesPerAnswer;
  let bytesLeft: number = LIMITS.maxAnswerBytes;
  const conversations: SyncEntry[] = [];
  // One conversation at a time: the answer is built within its budget, never beyond it.
  for (const [conversationId, afterVersion] of wanted) {
    const conversation = found.get(conversationId);
    const allowance = trustOf(deps).requestAllowance;
    const decision = conversation
      ? decideSend(sendSubjectOf(conversation, allowance), {
          senderId: principal.userId,
          kind: 'user',
          action: 'read',
        })
      : ({ ok: false, refusal: { reason: 'not-member' } } as const);
    if (!conversation || !decision.ok) {
      const { code, message } = decision.ok
        ? new NotMemberError(conversationId)
        : sendRefusalError(decision.refusal, conversationId);
      conversations.push({
        ...unchanged(conversationId, afterVersion, 0),
        error: { code, message },
      });
      continue;
    }
    const hidden = apartIn(conversation, apart);
    const lastReadSeq = readPosition(conversation, principal.userId);
    // Receipts move no version: every entry carries the positions the caller may see.
    const receipts = toReceipts(conversation, principal.userId, hidden, hiding);
    // So does the caller's own organisation, when they organised it at all.
    const seen = {
      ...(receipts.length > 0 && { receipts }),
      ...organisationIfAny(conversation, principal.userId),
    };
    if (conversation.version <= afterVersion) {
      conversations.push({ ...unchanged(conversationId, afterVersion, lastReadSeq), ...seen });
      continue;
    }
    if (messagesLeft === 0 || bytesLeft <= 0) {
      conversations.push({
        ...unchanged(conversationId, afterVersion, lastReadSeq),
        hasMore: true,
        ...seen,
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
    const metaChanged = restart || (conversation.metaVersion ?? 0) > afterVersion;
    const view = {
      viewerId: principal.userId,
      targets: await replyTargets(deps, conversationId, kept),
    };
    conversations.push({
      conversationId,
      messages: kept
        .filter(seenBy(principal.userId))
        .map((m) => toVisibleMessageDto(m, hidden, view)),
      version: hasMore
        ? (kept.at(-1)?.version ?? afterVersion)
        : settledVersion(kept, afterVersion, settledBefore, conversation),
      hasMore,
      lastReadSeq,
      // Members, title or archive changed since: the device replaces what it holds.
      ...(metaChanged && {
        conversation: toConversationDto(conversation, principal.userId, hidden, hiding),
      }),
      ...seen,
    });
  }
  return { conversations, epoch };
}

function unchanged(conversationId: string, version: number, lastReadSeq: number): SyncEntry {
  return { conversationId, messages: [], version, hasMore: false, lastReadSeq };
}

/**
 * The highest version up to which nothing can still appear: changes younger than the settle
 * window may have lower-versioned neighbours still on their way into the store.
 */
function settledVersion(
  messages: Message[],
  afterVersion: number,
  settledBefore: number,
  conversation: Conversation,
): number {
  let version = afterVersion;
  let unsettled = Infinity;
  for (const m of messages) {
    if (changedAt(m) > settledBefore) {
      unsettled = m.version;
      break;
    }
    version = m.version;
  }
  // A settled change of the conversation itself (no message at its version) is passed too.
  const meta = conversation.metaVersion ?? 0;
  const metaAt = conversation.metaChangedAt?.getTime() ?? Infinity;
  if (meta > version && meta < unsettled && metaAt <= settledBefore) version = meta;
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

/**
 * Moves the reader's position forward and tells whoever may see it: the reader's other devices,
 * and the other members unless the reader is a request's recipient or behind a block.
 */
export async function markRead(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
  seq: number,
  origin: Origin = {},
): Promise<ReadResult> {
  const conversation = await memberConversation(deps, principal, conversationId);
  assertAdmitted(conversation, principal.userId, 'read', trustOf(deps).requestAllowance);
  const lastSeq = lastMessageSeq(conversation);
  const current = readPosition(conversation, principal.userId);
  // A shadow-banned reader's own newest messages lie past what the others see: no error for it.
  const asked = seq > lastSeq && (await standing(deps, principal.userId)).shadow ? lastSeq : seq;
  const target = nextReadSeq(current, asked, lastSeq);
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
  await clearMarkedUnread(deps, conversation, principal.userId, origin);
  if (lastReadSeq > current) {
    // The reader's other devices always; the others unless either side hides receipts.
    const audience = await receiptAudience(deps, conversation, principal.userId);
    deps.fanout.toUsers(
      [...audience, principal.userId],
      'conversation:read',
      { conversationId, userId: principal.userId, lastReadSeq },
      except(origin),
    );
  }
  return { conversationId, lastReadSeq, unreadCount: unreadCount(lastSeq, lastReadSeq) };
}

/** The message, if it is in a conversation the principal may act in. */
async function messageToRevise(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
  messageId: string,
  asModerator: boolean,
) {
  const [conversation, message] = await Promise.all([
    asModerator
      ? deps.store.conversations.get(conversationId)
      : memberConversation(deps, principal, conversationId),
    deps.store.messages.get(conversationId, messageId),
  ]);
  if (!conversation || !message) throw new NotFoundError('no such message in this conversation');
  return { conversation, message };
}

/**
 * Applies a revision and tells who may see it: the members who joined, less (in a group)
 * those behind a block with the author, either way. `expect.actor` makes the store execute
 * the conversation's rule for the reviser atomically with the change.
 */
async function revise(
  deps: ChatDeps,
  conversation: Conversation,
  message: Message,
  revision: Revision,
  expect: RevisionExpectation,
  origin: Origin,
  reviser: string,
): Promise<MessageDto> {
  const revised = await deps.store.messages.revise(conversation.id, message.id, revision, expect);
  if (!revised) throw new ConflictError('the message changed meanwhile; look again');
  if (revision.kind === 'edit') await raiseFlags(deps, revised);
  const view = { targets: await replyTargets(deps, conversation.id, [revised]) };
  const audience = revised.shadow
    ? [revised.senderId]
    : await withoutBlocked(deps, conversation, message.senderId, audienceOf(conversation));
  toEachSide(deps, audience, revised, 'message:updated', origin, view);
  return toViewerMessageDto(revised, reviser, view);
}

/** Edits an own message within the edit window; every device sees it live or through sync. */
export async function editMessage(
  deps: ChatDeps,
  principal: Principal,
  input: EditMessageInput,
  origin: Origin = {},
): Promise<MessageDto> {
  const { conversation, message } = await messageToRevise(
    deps,
    principal,
    input.conversationId,
    input.messageId,
    false,
  );
  if (message.senderId !== principal.userId || message.kind !== 'user')
    throw new ForbiddenError('only your own messages can be edited');
  if (message.deletedAt) throw new ConflictError('the message was deleted');
  const { shadow } = await standing(deps, principal.userId);
  // An edit of a delivered message reaches the others like a send: refused where a send is.
  const { editWindowMs, requestAllowance } = trustOf(deps);
  assertAdmitted(conversation, principal.userId, 'edit', requestAllowance);
  const now = deps.clock.now();
  const sentSince = new Date(now.getTime() - editWindowMs);
  if (message.createdAt < sentSince) throw new EditWindowPassedError(editWindowMs);
  if (message.body === input.body) return toViewerMessageDto(message, principal.userId);
  // The new text passes the platform's hook and the content policy like a send's.
  const screened = await screenDraft(
    deps,
    {
      action: 'edit',
      conversationId: conversation.id,
      senderId: principal.userId,
      messageId: message.id,
      body: input.body,
    },
    () => Promise.resolve(conversation),
  );
  return revise(
    deps,
    conversation,
    message,
    // Shadow-banned: the edit is theirs alone; the others keep the message as they had it.
    {
      kind: 'edit',
      body: screened.body,
      at: now,
      ...(screened.safety && { safety: screened.safety }),
      ...(shadow && { shadow: true as const }),
    },
    { senderId: principal.userId, sentSince, actor: principal.userId, allowance: requestAllowance },
    origin,
    principal.userId,
  );
}

/**
 * Deletes a message: the sender's own at any time, or any as an admin (moderation). The body
 * leaves storage; the message keeps its place as a tombstone everyone sees. Idempotent.
 */
export async function deleteMessage(
  deps: ChatDeps,
  principal: Principal,
  input: DeleteMessageInput,
  origin: Origin = {},
  asModerator = false,
): Promise<MessageDto> {
  if (asModerator && principal.role !== 'admin')
    throw new ForbiddenError('moderation is for admins');
  const { conversation, message } = await messageToRevise(
    deps,
    principal,
    input.conversationId,
    input.messageId,
    asModerator,
  );
  if (!asModerator && message.senderId !== principal.userId)
    throw new ForbiddenError('only your own messages can be deleted');
  if (message.deletedAt) {
    // A retry after a failed discard finishes it (the tombstone no longer lists the files).
    await discardAttachments(deps, message);
    return toViewerMessageDto(message, principal.userId);
  }
  // A tombstone is news to the other side too: nothing crosses a block but a moderator's.
  const { requestAllowance } = trustOf(deps);
  if (!asModerator) assertAdmitted(conversation, principal.userId, 'delete', requestAllowance);
  const dto = await revise(
    deps,
    conversation,
    message,
    { kind: 'delete', by: principal.userId, at: deps.clock.now() },
    asModerator
      ? {}
      : { senderId: principal.userId, actor: principal.userId, allowance: requestAllowance },
    origin,
    principal.userId,
  );
  // The files go with the message: links refused from now on, objects deleted.
  if (message.attachments?.length) await discardAttachments(deps, message);
  return dto;
}
