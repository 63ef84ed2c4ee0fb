import { type Principal, type ReportResolution, type ReportStatus } from '../entities.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import {
  type BlockedUsersPage,
  type MessageDto,
  type ReportDto,
  type ReportReceipt,
  type ReportsPage,
} from '../responses.js';
import { toConversationUpdate, toReportDto } from '../mappers.js';
import { memberIds, reportSources, reportTarget } from '../rules.js';
import { type DeleteMessageInput, type ListReportsQuery, type ReportInput } from '../schemas.js';
import { type ChatDeps, memberConversation } from './context.js';
import { deleteMessage } from './messages.js';
import { recordModeration } from './moderation.js';

function assertNotSelf(principal: Principal, userId: string): void {
  if (userId === principal.userId)
    throw new ValidationError('that is you', [{ path: 'userId', message: 'must be someone else' }]);
}

/**
 * Blocks a user: from now on nothing goes between the two, either way, on every instance:
 * their direct conversations are blocked (no sends, edits or typing), no new ones open,
 * presence and read receipts stop. Both sides' devices are told at once.
 */
export async function blockUser(
  deps: ChatDeps,
  principal: Principal,
  userId: string,
): Promise<{ blocked: true }> {
  assertNotSelf(principal, userId);
  // Blocking back someone who already blocked (or blocking twice) changes nothing either sees.
  const alreadyApart =
    (await deps.store.contacts.blockedAmong(principal.userId, [userId])).length > 0;
  await deps.store.contacts.block(principal.userId, userId, deps.clock.now());
  if (alreadyApart) return { blocked: true };
  for (const conversation of await deps.store.conversations.setBlocked(
    principal.userId,
    userId,
    true,
  )) {
    deps.fanout.toUsers(
      memberIds(conversation),
      'conversation:updated',
      toConversationUpdate(conversation),
    );
  }
  // Each side stops seeing the other: shown offline, without a last-seen time.
  deps.fanout.toUsers([userId], 'presence', { userId: principal.userId, online: false });
  deps.fanout.toUsers([principal.userId], 'presence', { userId, online: false });
  return { blocked: true };
}

/** Lifts the principal's block; conversations open again unless the other side blocks too. */
export async function unblockUser(
  deps: ChatDeps,
  principal: Principal,
  userId: string,
): Promise<{ blocked: false }> {
  assertNotSelf(principal, userId);
  if (!(await deps.store.contacts.unblock(principal.userId, userId))) return { blocked: false };
  if ((await deps.store.contacts.blockedAmong(principal.userId, [userId])).length > 0)
    return { blocked: false };
  for (const conversation of await deps.store.conversations.setBlocked(
    principal.userId,
    userId,
    false,
  )) {
    deps.fanout.toUsers(
      memberIds(conversation),
      'conversation:updated',
      toConversationUpdate(conversation),
    );
  }
  return { blocked: false };
}

export async function blockedUsers(
  deps: ChatDeps,
  principal: Principal,
  page: { limit: number; cursor?: string },
): Promise<BlockedUsersPage> {
  const result = await deps.store.contacts.blockedBy(principal.userId, page);
  return {
    users: result.users.map((u) => ({ userId: u.userId, since: u.since.toISOString() })),
    ...(result.nextCursor && { nextCursor: result.nextCursor }),
  };
}

/**
 * Reports a message, or a direct conversation's other side, to the moderators. Stored with a
 * snapshot of the message; the reported user is told nothing, the reporter only that it was taken.
 */
export async function report(
  deps: ChatDeps,
  principal: Principal,
  input: ReportInput,
): Promise<ReportReceipt> {
  const conversation = await memberConversation(deps, principal, input.conversationId);
  let reportedUserId: string;
  let snapshot: { senderId: string; body: string; createdAt: Date } | undefined;
  if (input.messageId) {
    const message = await deps.store.messages.get(conversation.id, input.messageId);
    if (!message) throw new NotFoundError('no such message in this conversation');
    if (message.senderId === principal.userId)
      throw new ValidationError('you cannot report your own message', [
        { path: 'messageId', message: 'a message of someone else' },
      ]);
    reportedUserId = message.senderId;
    snapshot = { senderId: message.senderId, body: message.body, createdAt: message.createdAt };
  } else {
    const other = conversation.members.find((m) => m.userId !== principal.userId);
    if (conversation.kind !== 'direct' || !other)
      throw new ValidationError('in a group, report a message', [
        { path: 'messageId', message: 'required for a group conversation' },
      ]);
    reportedUserId = other.userId;
  }
  const stored = await deps.store.reports.create({
    reporterId: principal.userId,
    reportedUserId,
    conversationId: conversation.id,
    ...(input.messageId && { messageId: input.messageId }),
    reason: input.reason,
    ...(input.note && { note: input.note }),
    ...(snapshot && { snapshot }),
    createdAt: deps.clock.now(),
  });
  // On the moderation list beside the content policy's and the hook's flags.
  await deps.store.moderation.flag({
    id: reportFlagId(stored.id),
    source: 'report',
    reason: stored.reason,
    at: stored.createdAt,
    userId: stored.reportedUserId,
    conversationId: stored.conversationId,
    ...(stored.messageId && { messageId: stored.messageId }),
    ...(stored.note && { detail: stored.note }),
  });
  return { id: stored.id, status: 'open', createdAt: stored.createdAt.toISOString() };
}

function assertAdmin(principal: Principal): void {
  if (principal.role !== 'admin') throw new ForbiddenError('moderation is for admins');
}

export async function listReports(
  deps: ChatDeps,
  principal: Principal,
  query: ListReportsQuery,
): Promise<ReportsPage> {
  assertAdmin(principal);
  const page = await deps.store.reports.list({
    ...(query.status && { status: query.status }),
    limit: query.limit,
    ...(query.cursor && { cursor: query.cursor }),
  });
  return {
    reports: page.reports.map(toReportDto),
    ...(page.nextCursor && { nextCursor: page.nextCursor }),
  };
}

/**
 * Moves a report along open → dismissed | actioned (actioned is final); every step is kept on
 * it. `message_deleted` deletes the reported message for everyone before the report reads
 * actioned; a report that reads dismissed never has its message deleted under it. Repeating the
 * step a report already took answers it as it is.
 */
export async function resolveReport(
  deps: ChatDeps,
  principal: Principal,
  reportId: string,
  resolution: ReportResolution,
): Promise<ReportDto> {
  assertAdmin(principal);
  const found = await deps.store.reports.get(reportId);
  if (!found) throw new NotFoundError('no such report');
  const to = reportTarget(resolution);
  if (found.status === to && found.resolution === resolution) return toReportDto(found);
  const from = reportSources(to);
  if (!from.includes(found.status)) throw refusedStep(found.status, to);
  if (resolution === 'message_deleted') {
    if (!found.messageId)
      throw new ValidationError('this report is about a conversation, not a message', [
        { path: 'resolution', message: 'use dismissed' },
      ]);
    await deleteMessage(
      deps,
      principal,
      { conversationId: found.conversationId, messageId: found.messageId },
      {},
      true,
    );
  }
  const moved = await deps.store.reports.transition(reportId, {
    from,
    to,
    resolution,
    by: principal.userId,
    at: deps.clock.now(),
  });
  if (moved) {
    await reportMoved(deps, principal, moved.id, to);
    if (to === 'actioned') await actionReportsAbout(deps, principal, found.messageId!);
    return toReportDto(moved);
  }
  // Another moderator moved it meanwhile.
  const now = await deps.store.reports.get(reportId);
  if (now?.status === to && now.resolution === resolution) return toReportDto(now);
  throw refusedStep(now?.status ?? found.status, to);
}

/** Caps the reports one deletion moves (each reporter's reports are budgeted). */
const REPORTS_PER_MESSAGE = 100;

/**
 * A message deleted by moderation: every report about it that is open or dismissed becomes
 * actioned too (none reads as untouched over a deleted message), each step audited.
 */
async function actionReportsAbout(
  deps: ChatDeps,
  principal: Principal,
  messageId: string,
): Promise<void> {
  const from = reportSources('actioned');
  for (const r of await deps.store.reports.aboutMessage(messageId, from, REPORTS_PER_MESSAGE)) {
    const moved = await deps.store.reports.transition(r.id, {
      from,
      to: 'actioned',
      resolution: 'message_deleted',
      by: principal.userId,
      at: deps.clock.now(),
    });
    if (moved) await reportMoved(deps, principal, moved.id, 'actioned');
  }
}

const reportFlagId = (reportId: string) => `report:${reportId}`;

/** A report's step, on its flag in the moderation list and in the audit log. */
async function reportMoved(
  deps: ChatDeps,
  principal: Principal,
  reportId: string,
  to: ReportStatus,
): Promise<void> {
  if (to !== 'open') await deps.store.moderation.resolveFlag(reportFlagId(reportId), to);
  const report = await deps.store.reports.get(reportId);
  await recordModeration(deps, { actor: principal.userId }, 'report.resolved', {
    reportId,
    reason: to,
    ...(report && { subjectUserId: report.reportedUserId, conversationId: report.conversationId }),
    ...(report?.messageId && { messageId: report.messageId }),
  });
}

/** An admin deletes any message (a tombstone stays); the reports about it read actioned. */
export async function moderateDelete(
  deps: ChatDeps,
  principal: Principal,
  input: DeleteMessageInput,
): Promise<MessageDto> {
  const deleted = await deleteMessage(deps, principal, input, {}, true);
  await recordModeration(deps, { actor: principal.userId }, 'message.deleted', {
    subjectUserId: deleted.senderId,
    conversationId: input.conversationId,
    messageId: input.messageId,
  });
  await actionReportsAbout(deps, principal, input.messageId);
  return deleted;
}

function refusedStep(from: ReportStatus, to: ReportStatus): ConflictError {
  return new ConflictError(
    from === 'actioned'
      ? 'this report was actioned: that is final'
      : `a report that is ${from} cannot become ${to}`,
  );
}
