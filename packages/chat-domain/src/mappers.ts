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

export function toConversationDto(c: Conversation, lastReadSeq: number): ConversationDto {
  const lastSeq = lastMessageSeq(c);
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
    lastReadSeq: Math.min(lastReadSeq, lastSeq),
    unreadCount: unreadCount(lastSeq, lastReadSeq),
  };
}
