import { type Conversation, type Message, type MessagePreview, type Report } from './entities.js';
import {
  type ConversationDto,
  type ConversationUpdate,
  type MessageDto,
  type ReportDto,
} from './responses.js';
import {
  type ConversationMemberDto,
  type InvitationDto,
  type MessageRequestDto,
} from './responses.js';
import {
  cutText,
  lastMessageSeq,
  LIMITS,
  readPosition,
  sharesActivity,
  unreadCount,
} from './rules.js';
import { mentionCount } from './mentions.rules.js';
import { summarizeReactions } from './reactions.rules.js';

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

/**
 * Who looks (their reactions say `mine`), the messages replied to that were read with this one
 * (the quoted preview in its current state), and who is behind a block with the viewer.
 */
export interface MessageView {
  viewerId?: string;
  targets?: ReadonlyMap<string, Message>;
  apart?: ReadonlySet<string>;
}

/** The quoted message as the viewer may see it; its body cut like a preview. */
function toReplyDto(id: string, view: MessageView): NonNullable<MessageDto['replyTo']> {
  const target = view.targets?.get(id);
  if (!target) return { id, body: '' };
  const hidden = view.apart?.has(target.senderId) === true;
  return {
    id,
    seq: target.seq,
    senderId: target.senderId,
    body: hidden ? '' : cutText(target.body, LIMITS.previewLength),
    ...(target.deletedAt && !hidden && { deleted: true as const }),
    ...(hidden && { hidden: true as const }),
  };
}

export function toMessageDto(m: Message, view: MessageView = {}): MessageDto {
  const reactions = summarizeReactions(m.reactions, view.viewerId);
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
    ...(m.replyTo !== undefined && { replyTo: toReplyDto(m.replyTo, view) }),
    ...(m.mentions && m.mentions.length > 0 && { mentions: m.mentions }),
    ...(reactions.length > 0 && { reactions }),
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
export function toVisibleMessageDto(
  m: Message,
  apart: ReadonlySet<string>,
  view: Omit<MessageView, 'apart'> = {},
): MessageDto {
  return apart.has(m.senderId) ? toHiddenMessageDto(m) : toMessageDto(m, { ...view, apart });
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
 * messages.
 */
export function toConversationDto(
  c: Conversation,
  viewerId: string,
  apart: ReadonlySet<string> = new Set(),
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
    members: c.members.map((m): ConversationMemberDto => ({
      userId: m.userId,
      role: m.role,
      joinedAt: m.joinedAt.toISOString(),
      lastReadSeq: sharesActivity(c, m.userId, viewerId, apart)
        ? Math.min(m.lastReadSeq, lastSeq)
        : 0,
      ...(m.invitation && { invitation: invitationAs(m.invitation, m.userId === viewerId) }),
    })),
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
    mentionCount: own ? 0 : mentionCount(c.members.find((m) => m.userId === viewerId)),
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
