import { toActionCardDto } from './actions.js';
import { type Conversation, type Message, type MessagePreview, type Report } from './entities.js';
import {
  type ConversationDto,
  type ConversationUpdate,
  type MessageDto,
  type ReceiptDto,
  type ReportDto,
} from './responses.js';
import {
  type ConversationMemberDto,
  type InvitationDto,
  type MessageRequestDto,
} from './responses.js';
import {
  cutText,
  deliveredPosition,
  lastMessageSeq,
  LIMITS,
  readPosition,
  sharesReceipts,
  unreadCount,
} from './rules.js';

/** What the conversation list shows of a message: the body cut to a preview. */
export function toPreview(message: Message): MessagePreview {
  return {
    id: message.id,
    seq: message.seq,
    senderId: message.senderId,
    body: cutText(message.body, LIMITS.previewLength),
    createdAt: message.createdAt,
    ...(message.deletedAt && { deleted: true }),
  };
}

export function toMessageDto(m: Message): MessageDto {
  return {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    version: m.version,
    senderId: m.senderId,
    clientMessageId: m.clientMessageId,
    kind: m.kind,
    body: m.body,
    ...(m.attachments && m.attachments.length > 0 && { attachments: m.attachments }),
    createdAt: m.createdAt.toISOString(),
    ...(m.editedAt && { editedAt: m.editedAt.toISOString() }),
    ...(m.deletedAt && { deletedAt: m.deletedAt.toISOString() }),
    ...(m.action && !m.deletedAt && { action: toActionCardDto(m.action) }),
  };
}

/**
 * A message sent by someone behind a block with the viewer, in a group: the viewer sees that
 * something is there (its place, its sender), never what.
 */
export function toHiddenMessageDto(m: Message): MessageDto {
  return {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    version: m.version,
    senderId: m.senderId,
    clientMessageId: m.clientMessageId,
    kind: m.kind,
    body: '',
    createdAt: m.createdAt.toISOString(),
    hidden: true,
  };
}

/** The message as `apart` (the people behind a block with the viewer) lets the viewer see it. */
export function toVisibleMessageDto(m: Message, apart: ReadonlySet<string>): MessageDto {
  return apart.has(m.senderId) ? toHiddenMessageDto(m) : toMessageDto(m);
}

function toRequestDto(r: NonNullable<Conversation['request']>): MessageRequestDto {
  return { from: r.from, to: r.to, state: r.state };
}

export function toConversationUpdate(c: Conversation): ConversationUpdate {
  return {
    conversationId: c.id,
    blocked: c.blocked,
    request: c.request ? toRequestDto(c.request) : null,
  };
}

export function toReportDto(r: Report): ReportDto {
  return {
    id: r.id,
    status: r.status,
    reason: r.reason,
    ...(r.note !== undefined && { note: r.note }),
    conversationId: r.conversationId,
    ...(r.messageId !== undefined && { messageId: r.messageId }),
    reporterId: r.reporterId,
    reportedUserId: r.reportedUserId,
    ...(r.snapshot && {
      snapshot: { ...r.snapshot, createdAt: r.snapshot.createdAt.toISOString() },
    }),
    createdAt: r.createdAt.toISOString(),
    ...(r.resolution && { resolution: r.resolution }),
    ...(r.resolvedBy && { resolvedBy: r.resolvedBy }),
    ...(r.resolvedAt && { resolvedAt: r.resolvedAt.toISOString() }),
    history: r.history.map((t) => ({ ...t, at: t.at.toISOString() })),
  };
}

/**
 * The conversation as `viewerId` sees it: the read positions it may see (not a request's
 * recipient's to its opener, nothing across a block, including `apart`: the people behind a
 * block with the viewer in a group, nothing to or from an open invitation), and the viewer's
 * unread count. An invitee sees the group, its members and who invited them, nothing of its
 * messages. `hiding`: who turned receipts off (their positions are 0 to others, and others' are 0
 * to them).
 */
export function toConversationDto(
  c: Conversation,
  viewerId: string,
  apart: ReadonlySet<string> = new Set(),
  hiding: ReadonlySet<string> = new Set(),
): ConversationDto {
  const own = c.members.find((m) => m.userId === viewerId)?.invitation;
  const lastSeq = own ? 0 : lastMessageSeq(c);
  const lastReadSeq = Math.min(readPosition(c, viewerId), lastSeq);
  const preview = own ? undefined : c.lastMessage;
  const hidden = preview !== undefined && apart.has(preview.senderId);
  return {
    id: c.id,
    kind: c.kind,
    ...(c.title !== undefined && { title: c.title }),
    ...(c.jobId !== undefined && { jobId: c.jobId }),
    ...(c.applicationId !== undefined && { applicationId: c.applicationId }),
    members: c.members.map((m): ConversationMemberDto => {
      const shared = sharesReceipts(c, m.userId, viewerId, apart, hiding);
      return {
        userId: m.userId,
        role: m.role,
        joinedAt: m.joinedAt.toISOString(),
        lastReadSeq: shared ? Math.min(m.lastReadSeq, lastSeq) : 0,
        ...(m.invitation && { invitation: invitationAs(m.invitation, m.userId === viewerId) }),
        lastDeliveredSeq: shared ? Math.min(deliveredPosition(c, m.userId), lastSeq) : 0,
        ...(m.userId !== viewerId && hiding.has(m.userId) && { receipts: false as const }),
      };
    }),
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    lastActivityAt: (own ? c.createdAt : c.lastActivityAt).toISOString(),
    ...(preview && {
      lastMessage: {
        id: preview.id,
        seq: preview.seq,
        senderId: preview.senderId,
        body: hidden ? '' : preview.body,
        createdAt: preview.createdAt.toISOString(),
        ...(preview.deleted && !hidden && { deleted: true }),
        ...(hidden && { hidden: true as const }),
      },
    }),
    ...(c.request && { request: toRequestDto(c.request) }),
    ...(own && { invitation: invitationAs(own, true) }),
    blocked: c.blocked,
    lastSeq,
    version: own ? 0 : c.version,
    lastReadSeq,
    unreadCount: unreadCount(lastSeq, lastReadSeq),
    ...(c.archived && { archived: true }),
  };
}

/** A decline is the invitee's own business: the others see the invitation as pending. */
function invitationAs(
  invitation: NonNullable<Conversation['members'][number]['invitation']>,
  ownView: boolean,
): InvitationDto {
  return { from: invitation.from, state: ownView ? invitation.state : 'pending' };
}

/** The other members' positions `viewerId` may see, those above 0 (a sync entry's `receipts`). */
export function toReceipts(
  c: Conversation,
  viewerId: string,
  apart: ReadonlySet<string>,
  hiding: ReadonlySet<string>,
): ReceiptDto[] {
  const lastSeq = lastMessageSeq(c);
  const receipts: ReceiptDto[] = [];
  for (const m of c.members) {
    if (m.userId === viewerId || !sharesReceipts(c, m.userId, viewerId, apart, hiding)) continue;
    const lastDeliveredSeq = Math.min(deliveredPosition(c, m.userId), lastSeq);
    if (lastDeliveredSeq > 0)
      receipts.push({
        userId: m.userId,
        lastReadSeq: Math.min(m.lastReadSeq, lastSeq),
        lastDeliveredSeq,
      });
  }
  return receipts;
}
