import { type Conversation, type JobContext, type Principal } from './entities.js';
import { ForbiddenError, NotMemberError, ValidationError } from './errors.js';

export const LIMITS = {
  /** Characters (UTF-16 code units) in one message body. */
  maxBodyLength: 4000,
  maxTitleLength: 120,
  /** Members of a group, creator included. */
  maxGroupMembers: 50,
  minGroupMembers: 2,
  maxClientMessageIdLength: 64,
  maxPageSize: 100,
  defaultPageSize: 50,
  /** Conversations one `sync` request may name, and messages returned per conversation. */
  maxSyncConversations: 200,
  maxSyncMessagesPerConversation: 200,
  maxPresenceQuery: 200,
} as const;

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

/** The seq of the newest stored message, which unread counts are measured against. */
export function lastMessageSeq(conversation: Conversation): number {
  return conversation.lastMessage?.seq ?? 0;
}
