import { type Conversation, type Message } from './entities.js';
import { type ConversationDto, type MessageDto } from './events.js';
import { lastMessageSeq, readPosition, unreadCount } from './rules.js';

export function toMessageDto(m: Message): MessageDto {
  return {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    version: m.version,
    senderId: m.senderId,
    clientMessageId: m.clientMessageId,
    body: m.body,
    createdAt: m.createdAt.toISOString(),
  };
}

/** The conversation as `viewerId` sees it: every member's read position, and the viewer's unread count. */
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
      lastReadSeq: Math.min(m.lastReadSeq, lastSeq),
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
    version: c.version,
    lastReadSeq,
    unreadCount: unreadCount(lastSeq, lastReadSeq),
  };
}
