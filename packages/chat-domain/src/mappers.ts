import { type Conversation, type Message, type MessagePreview, type Report } from './entities.js';
import {
  type ConversationDto,
  type ConversationUpdate,
  type MessageDto,
  type ReportDto,
} from './responses.js';
import {
  cutText,
  lastMessageSeq,
  LIMITS,
  readPosition,
  sharesActivity,
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
  };
}

export function toConversationUpdate(c: Conversation): ConversationUpdate {
  return { conversationId: c.id, blocked: c.blocked, request: c.request ? { ...c.request } : null };
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
 * recipient's to its opener, nothing across a block), and the viewer's unread count.
 */
export function toConversationDto(c: Conversation, viewerId: string): ConversationDto {
  const lastSeq = lastMessageSeq(c);
  const lastReadSeq = Math.min(readPosition(c, viewerId), lastSeq);
  return {
    id: c.id,
    kind: c.kind,
    ...(c.title !== undefined && { title: c.title }),
    ...(c.jobId !== undefined && { jobId: c.jobId }),
    ...(c.applicationId !== undefined && { applicationId: c.applicationId }),
    members: c.members.map((m) => ({
      userId: m.userId,
      role: m.role,
      joinedAt: m.joinedAt.toISOString(),
      lastReadSeq: sharesActivity(c, m.userId, viewerId) ? Math.min(m.lastReadSeq, lastSeq) : 0,
    })),
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    lastActivityAt: c.lastActivityAt.toISOString(),
    ...(c.lastMessage && {
      lastMessage: {
        id: c.lastMessage.id,
        seq: c.lastMessage.seq,
        senderId: c.lastMessage.senderId,
        body: c.lastMessage.body,
        createdAt: c.lastMessage.createdAt.toISOString(),
        ...(c.lastMessage.deleted && { deleted: true }),
      },
    }),
    ...(c.request && { request: { ...c.request } }),
    blocked: c.blocked,
    lastSeq,
    version: c.version,
    lastReadSeq,
    unreadCount: unreadCount(lastSeq, lastReadSeq),
    ...(c.archived && { archived: true }),
  };
}
