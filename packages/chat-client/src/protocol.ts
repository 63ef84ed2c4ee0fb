// The socket and REST contract as this client speaks it: the shapes of @jobsphere/chat-domain
// plus the per-conversation change cursor (`version`) and the `sync` by version that the
// gateway adopts in issue 13's contract (notes/contract.md). When chat-domain carries these
// fields itself, the aliases below collapse to its types.
import type {
  ConversationDto as DomainConversationDto,
  ErrorBody,
  MessageDto as DomainMessageDto,
  PresenceDto,
  ReadEvent,
  ReadResult,
  TypingEvent,
} from '@jobsphere/chat-domain';

export type { ErrorBody, PresenceDto, ReadEvent, ReadResult, TypingEvent };

export interface MessageDto extends DomainMessageDto {
  /** The conversation's version at this message's last change (append, edit, delete). */
  version: number;
  kind?: 'user' | 'system';
  editedAt?: string;
  /** Deleted messages keep their place with an empty body. */
  deletedAt?: string;
}

export interface ConversationDto extends DomainConversationDto {
  /** Bumped by every change a device must see: the cursor to `sync` from. */
  version: number;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export interface SendResult {
  message: MessageDto;
  duplicate: boolean;
}

export interface SyncRequest {
  conversations: { conversationId: string; afterVersion: number }[];
  limit?: number;
}

export interface SyncConversationPage {
  conversationId: string;
  /** Changed after `afterVersion`, ascending by version, each in its current state. */
  messages: MessageDto[];
  /** The cursor to store. */
  version: number;
  hasMore: boolean;
  lastReadSeq: number;
  /** Set when the caller is not (or no longer) a member: the conversation is dropped. */
  error?: ErrorBody;
}

export interface SyncResponse {
  conversations: SyncConversationPage[];
}

export interface ConversationListPage {
  conversations: ConversationDto[];
  nextCursor?: string;
  totalUnread: number;
}

export interface HistoryPage {
  messages: MessageDto[];
  hasMore: boolean;
}

/** What the client emits, with the ack data each answers with. */
export interface ClientRequests {
  'message:send': {
    payload: { conversationId: string; clientMessageId: string; body: string };
    data: SendResult;
  };
  sync: { payload: SyncRequest; data: SyncResponse };
  'conversation:read': { payload: { conversationId: string; seq: number }; data: ReadResult };
  'typing:start': { payload: { conversationId: string }; data: null };
  'typing:stop': { payload: { conversationId: string }; data: null };
  'presence:query': { payload: { userIds: string[] }; data: { users: PresenceDto[] } };
  'auth:refresh': { payload: { token: string }; data: { expiresAt: string } };
}

/** Every server event this client listens to. */
export const SERVER_EVENTS = [
  'message:new',
  'message:updated',
  'conversation:created',
  'conversation:read',
  'typing',
  'presence',
  'sync:required',
  'server:draining',
  'auth:expiring',
  'chat:error',
] as const;
export type ServerEventName = (typeof SERVER_EVENTS)[number];
