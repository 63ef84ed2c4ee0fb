import { type Conversation, type Member } from './entities.js';

export const MENTION_LIMITS = {
  /** Distinct user ids one message may mention (more is refused by the schema). */
  maxMentionsPerMessage: 20,
  /** Mentions of one member kept per conversation: the counter reads "at least this many" past it. */
  maxMentionSeqsKept: 50,
} as const;

/**
 * The mentions a message keeps: only in a group, only members who joined (not open
 * invitations), never the sender, each once. Anyone else named is dropped, not refused: a
 * member may leave between the picker and the send, and the message is still worth sending;
 * the ack shows what was kept.
 */
export function keptMentions(
  mentions: readonly string[] | undefined,
  kind: Conversation['kind'],
  audience: readonly string[],
  senderId: string,
): string[] {
  if (!mentions || kind !== 'group') return [];
  const members = new Set(audience);
  return [...new Set(mentions)].filter((id) => id !== senderId && members.has(id));
}

/** Appends a mention's seq to a member's kept list (oldest dropped past the cap). */
export function withMentionSeq(kept: readonly number[] | undefined, seq: number): number[] {
  return [...(kept ?? []), seq].slice(-MENTION_LIMITS.maxMentionSeqsKept);
}

/** The member's unread mentions: those after their read position (reading resets it). */
export function mentionCount(member: Pick<Member, 'mentionSeqs' | 'lastReadSeq'> | undefined) {
  if (!member?.mentionSeqs) return 0;
  return member.mentionSeqs.filter((seq) => seq > member.lastReadSeq).length;
}
