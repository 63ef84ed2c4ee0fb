import { toActionCardDto } from './actions.js';
import { type Conversation, type Message, type MessagePreview, type Report } from './entities.js';
import {
  type ConversationDto,
  type ConversationUpdate,
  type MessageDto,
  type OrganisationDto,
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
  isArchivedFor,
  lastMessageSeq,
  LIMITS,
  organisationOf,
  readPosition,
  sharesReceipts,
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

/**
 * The message as `apart` (the people behind a block with the viewer) lets the viewer see it,
 * and, for a `view.viewerId`, as the content policy lets them see it (see `toViewerMessageDto`).
 */
export function toVisibleMessageDto(
  m: Message,
  apart: ReadonlySet<string>,
  view: Omit<MessageView, 'apart'> = {},
): MessageDto {
  if (apart.has(m.senderId)) return toHiddenMessageDto(m);
  const full = { ...view, apart };
  return view.viewerId === undefined
    ? toMessageDto(m, full)
    : toViewerMessageDto(m, view.viewerId, full);
}

/**
 * What the content policy lets `viewerId` see of a message: its sender sees what they sent
 * (and what the others see instead); the others see the masked body with its notices and the
 * warning. Flags and a replaced original are for moderators only, never in a member's view.
 * `view` is the rest of the view (the quoted messages; `view.viewerId` says whose reactions are
 * "mine", absent for an event many people get).
 */
export function toViewerMessageDto(
  m: Message,
  viewerId: string,
  view: MessageView = {},
): MessageDto {
  const dto = toMessageDto(m, view);
  const safety = m.safety;
  if (!safety || m.deletedAt) return dto;
  if (viewerId === m.senderId)
    return safety.masked ? { ...dto, safety: { recipientBody: safety.masked.body } } : dto;
  const seen = {
    ...(safety.masked && { notices: safety.masked.notices }),
    ...(safety.warning && { warning: safety.warning }),
  };
  if (!seen.notices && !seen.warning) return dto;
  return { ...dto, ...(safety.masked && { body: safety.masked.body }), safety: seen };
}

/**
 * Who sees which view of a message in an event many people get: everyone the same, or (when
 * the content policy masked or warned) its sender what was sent and the others the masked text.
 * No `view.viewerId` here: "mine" is each device's own business.
 */
export function sidesOf(
  m: Message,
  audience: readonly string[],
  view: Omit<MessageView, 'viewerId'> = {},
): { users: string[]; dto: MessageDto }[] {
  if (!seenDifferently(m)) return [{ users: [...audience], dto: toMessageDto(m, view) }];
  const others = audience.filter((id) => id !== m.senderId);
  const sides: { users: string[]; dto: MessageDto }[] = [];
  if (audience.includes(m.senderId))
    sides.push({ users: [m.senderId], dto: toViewerMessageDto(m, m.senderId, view) });
  // Every other member sees the same masked text: the viewer only has to differ from the sender.
  if (others.length > 0)
    sides.push({ users: others, dto: toViewerMessageDto(m, others[0]!, view) });
  return sides;
}

/** Whether members see a message differently (then it is fanned out per side). */
export function seenDifferently(m: Message): boolean {
  return !m.deletedAt && (m.safety?.masked !== undefined || m.safety?.warning !== undefined);
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
    mentionCount: own ? 0 : mentionCount(c.members.find((m) => m.userId === viewerId)),
    ...(c.archived && { archived: true }),
    ...organisationIfAny(c, viewerId),
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

/** The viewer's own organisation of the conversation, as their devices show it. */
export function toOrganisationDto(c: Conversation, viewerId: string): OrganisationDto {
  const own = organisationOf(c, viewerId);
  return {
    muted: own.muted === true,
    pinned: own.pinnedAt !== undefined,
    archived: isArchivedFor(c, viewerId),
    unread: own.markedUnread === true,
  };
}

/** `{ organisation }` when the viewer organised the conversation at all, else nothing. */
export function organisationIfAny(
  c: Conversation,
  viewerId: string,
): { organisation?: OrganisationDto } {
  const organisation = toOrganisationDto(c, viewerId);
  return Object.values(organisation).some(Boolean) ? { organisation } : {};
}
