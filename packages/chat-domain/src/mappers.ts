import { type Conversation, type Message } from './entities.js';
import { type ConversationDto, type MessageDto } from './events.js';
import { lastMessageSeq, unreadCount } from './rules.js';

export function toMessageDto(m: Message): MessageDto {
  return {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    senderId: m.senderId,
    clientMessageId: m.clientMessageId,
    body: m.body,
    createdAt: m.createdAt.toISOString(),
  };
}

/**
 * The conversation as `viewerId` sees it. `positions` holds read positions by user id
 * (missing = 0), shown per member and as the viewer's own unread count.
 */
export function toConversationDto(
  c: Conversation,
  viewerId: string,
  positions: ReadonlyMap<string, number> = new Map(),
): ConversationDto {
  const lastSeq = lastMessageSeq(c);
  const readBy = (userId: string) => Math.min(positions.get(userId) ?? 0, lastSeq);
  const lastReadSeq = positions.get(viewerId) ?? 0;
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
      lastReadSeq: readBy(m.userId),
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
      },
    }),
    lastSeq,
    lastReadSeq: readBy(viewerId),
    unreadCount: unreadCount(lastSeq, lastReadSeq),
  };
}
