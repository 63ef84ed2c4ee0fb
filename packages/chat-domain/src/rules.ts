import {
  type Conversation,
  type JobContext,
  type Member,
  type MemberOrganisation,
  type Message,
  type Principal,
  type ReportResolution,
  type ReportStatus,
} from './entities.js';
import { ForbiddenError, NotMemberError, ValidationError } from './errors.js';

export const LIMITS = {
  /** Length of a message body in UTF-16 code units (JavaScript's `length`, a browser's maxlength). */
  maxBodyLength: 4000,
  /** Length of a group title, in UTF-16 code units. */
  maxTitleLength: 120,
  /** A conversation's last message is shown cut to this many UTF-16 code units. */
  previewLength: 280,
  /** Members of a group, creator included. */
  maxGroupMembers: 50,
  minGroupMembers: 2,
  maxClientMessageIdLength: 64,
  maxPageSize: 100,
  defaultPageSize: 50,
  /** Distinct conversations one `sync` request may name (repeats are collapsed first). */
  maxSyncConversations: 100,
  /** A store epoch as a client echoes it back (the stores issue 32 hex digits). */
  maxEpochLength: 64,
  /** Messages per conversation in one `sync` answer: the default and the most a client may ask. */
  defaultSyncMessagesPerConversation: 50,
  maxSyncMessagesPerConversation: 200,
  /** The whole `sync` answer: messages, and bytes (JSON, approximately) over all conversations. */
  maxSyncMessagesPerAnswer: 500,
  maxAnswerBytes: 512 * 1024,
  maxPresenceQuery: 200,
  /** `totalUnread` counts the most recently active conversations only; beyond it is a floor. */
  unreadScanConversations: 100,
  maxAttachmentsPerMessage: 5,
  /** A report's free-text note, in UTF-16 code units. */
  maxReportNoteLength: 500,
  /** Conversations one delivery acknowledgement may name (the SDK sends one per batch). */
  maxDeliveredBatch: 100,
  /** Conversations one person may pin (listed first). */
  maxPinned: 10,
} as const;

/** Defaults of the trust settings (the gateway's config can change them). */
export const TRUST_DEFAULTS = {
  /** Messages the opener of a request may send before the recipient replies or accepts. */
  requestAllowance: 3,
  /** How long after sending a message may still be edited. */
  editWindowMs: 15 * 60_000,
} as const;

/** True while `conversation` is a request `userId` received (pending or declined). */
export function isRequestFor(conversation: Conversation, userId: string): boolean {
  return conversation.request?.to === userId;
}

const NOBODY: ReadonlySet<string> = new Set();

/**
 * Whether `viewerId` may see `subjectId`'s activity in this conversation (read position,
 * typing): not across a block (a direct conversation's own, or `apart`: the people behind a
 * block with the viewer, for groups), not from or to someone whose invitation is open, and not
 * from the recipient of a request to its opener.
 */
export function sharesActivity(
  conversation: Conversation,
  subjectId: string,
  viewerId: string,
  apart: ReadonlySet<string> = NOBODY,
): boolean {
  if (subjectId === viewerId) return true;
  if (conversation.blocked || apart.has(subjectId)) return false;
  for (const m of conversation.members)
    if ((m.userId === subjectId || m.userId === viewerId) && m.invitation) return false;
  return !(conversation.request && conversation.request.to === subjectId);
}

/**
 * Whether `viewerId` sees `subjectId`'s read and delivery positions: when they share activity and
 * neither of them turned receipts off (`hiding`), since whoever hides theirs sees nobody's
 * (Stream's `read_events` privacy). Own positions are always one's own.
 */
export function sharesReceipts(
  conversation: Conversation,
  subjectId: string,
  viewerId: string,
  apart: ReadonlySet<string> = NOBODY,
  hiding: ReadonlySet<string> = NOBODY,
): boolean {
  if (subjectId === viewerId) return true;
  if (hiding.has(subjectId) || hiding.has(viewerId)) return false;
  return sharesActivity(conversation, subjectId, viewerId, apart);
}

/** Delivered is at least read: a member who read a message has it. */
export function deliveredPosition(conversation: Conversation, userId: string): number {
  const m = conversation.members.find((member) => member.userId === userId);
  return Math.max(m?.lastDeliveredSeq ?? 0, m?.lastReadSeq ?? 0);
}

/** Whether a member has answered being added (no open invitation). */
export function hasJoined(member: Pick<Member, 'invitation'>): boolean {
  return member.invitation === undefined;
}

/**
 * Who a conversation's messages, edits and activity go to: its members less those whose
 * invitation is open. (In a group, blocks narrow it further per sender: see the use cases.)
 */
export function audienceOf(conversation: Pick<Conversation, 'members'>): string[] {
  return conversation.members.filter(hasJoined).map((m) => m.userId);
}

export function isMember(conversation: Conversation, userId: string): boolean {
  return conversation.members.some((m) => m.userId === userId);
}

export function assertMember(
  conversation: Conversation | null,
  userId: string,
  id: string,
): Conversation {
  if (!conversation || !isMember(conversation, userId)) throw new NotMemberError(id);
  return conversation;
}

export function memberIds(conversation: Conversation): string[] {
  return conversation.members.map((m) => m.userId);
}

/**
 * One direct conversation per pair of people and job context: the key is the same
 * whoever opens it, so creating it twice returns the first one.
 */
export function directKey(a: string, b: string, context: JobContext = {}): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return ['direct', x, y, context.jobId ?? '', context.applicationId ?? '']
    .map((part) => encodeURIComponent(part))
    .join(':');
}

export function assertCanOpenDirect(principal: Principal, otherUserId: string): void {
  if (otherUserId === principal.userId) {
    throw new ValidationError('a direct conversation needs another user', [
      { path: 'userId', message: 'must differ from your own id' },
    ]);
  }
}

/** Groups are hiring-team spaces: recruiters and admins open them, candidates are invited. */
export function assertCanCreateGroup(
  principal: Principal,
  memberIdsIncludingCreator: string[],
): void {
  if (principal.role === 'candidate')
    throw new ForbiddenError('candidates cannot create group conversations');
  const size = new Set(memberIdsIncludingCreator).size;
  if (size < LIMITS.minGroupMembers || size > LIMITS.maxGroupMembers) {
    throw new ValidationError(
      `a group has between ${LIMITS.minGroupMembers} and ${LIMITS.maxGroupMembers} members, got ${size}`,
      [
        {
          path: 'memberIds',
          message: `between ${LIMITS.minGroupMembers - 1} and ${LIMITS.maxGroupMembers - 1} other users`,
        },
      ],
    );
  }
}

/** Unread = messages after the reader's position; own messages count as read. */
export function unreadCount(lastSeq: number, lastReadSeq: number): number {
  return Math.max(0, lastSeq - lastReadSeq);
}

/** A read marker only moves forward and never past the last message. */
export function nextReadSeq(current: number, requested: number, lastSeq: number): number {
  if (requested > lastSeq) {
    throw new ValidationError(`seq ${requested} is beyond the last message (${lastSeq})`, [
      { path: 'seq', message: `must be at most ${lastSeq}` },
    ]);
  }
  return Math.max(current, requested);
}

/** The seq of the newest message, which unread counts are measured against. */
export function lastMessageSeq(conversation: Conversation): number {
  return conversation.lastMessage?.seq ?? 0;
}

/** A member's read position (0 for someone who is not a member). */
/** The member's own organisation of the conversation (mute, pin, archive, marked unread). */
export function organisationOf(
  conversation: Pick<Conversation, 'members'>,
  userId: string,
): MemberOrganisation {
  return conversation.members.find((m) => m.userId === userId)?.organisation ?? {};
}

/** Archived for this member: nothing newer arrived since, or muted (then it stays archived). */
export function isArchivedFor(
  conversation: Pick<Conversation, 'members' | 'lastMessage'>,
  userId: string,
): boolean {
  const { archivedSeq, muted } = organisationOf(conversation, userId);
  if (archivedSeq === undefined) return false;
  return muted === true || (conversation.lastMessage?.seq ?? 0) <= archivedSeq;
}

export function readPosition(conversation: Conversation, userId: string): number {
  return conversation.members.find((m) => m.userId === userId)?.lastReadSeq ?? 0;
}

/** Cuts to at most `max` UTF-16 code units without splitting a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
  return text.slice(0, end);
}

/** Approximate JSON size of a message on the wire, for the byte caps of pages and sync answers. */
export function approximateBytes(message: Pick<Message, 'body'>): number {
  // Ids, seq, version and dates are under 250 bytes; the body is what varies.
  return 250 + utf8Length(message.body);
}

/** Bytes of a string in UTF-8 (no allocation; works in browsers and Node alike). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair is one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The moderation state machine of a report: which states each may move to. Dismissing is a
 * judgement that can be revised by acting; acting (the message deleted) cannot be undone.
 */
export const REPORT_TRANSITIONS: Readonly<Record<ReportStatus, readonly ReportStatus[]>> = {
  open: ['dismissed', 'actioned'],
  dismissed: ['actioned'],
  actioned: [],
};

/** Where a resolution takes a report. */
export function reportTarget(resolution: ReportResolution): ReportStatus {
  return resolution === 'dismissed' ? 'dismissed' : 'actioned';
}

/** The states a report may reach `to` from. */
export function reportSources(to: ReportStatus): ReportStatus[] {
  return (Object.keys(REPORT_TRANSITIONS) as ReportStatus[]).filter((from) =>
    REPORT_TRANSITIONS[from].includes(to),
  );
}

/** Whether the viewer sees a message at all: a shadow-banned sender's only by that sender. */
export function seenBy(viewerId: string) {
  return (m: Pick<Message, 'shadow' | 'senderId'>) => !m.shadow || m.senderId === viewerId;
}
