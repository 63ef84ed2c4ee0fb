import { type ErrorCode, type ErrorIssue } from './errors.js';
import { type ConversationKind, type MemberRole } from './entities.js';
import {
  type AuthRefreshInput,
  type MarkReadInput,
  type PresenceQueryInput,
  type SendMessageInput,
  type SyncInput,
  type TypingInput,
} from './schemas.js';

/** Messages as they travel (JSON): dates are ISO strings. */
export interface MessageDto {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  clientMessageId: string;
  body: string;
  createdAt: string;
}

export interface ConversationDto {
  id: string;
  kind: ConversationKind;
  title?: string;
  jobId?: string;
  applicationId?: string;
  /** `lastReadSeq` per member: what each has read, so a client can show "seen" after a reload. */
  members: { userId: string; role: MemberRole; joinedAt: string; lastReadSeq: number }[];
  createdBy: string;
  createdAt: string;
  lastActivityAt: string;
  lastMessage?: Omit<MessageDto, 'conversationId' | 'clientMessageId'>;
  /** Seq of the newest stored message (0 when empty). */
  lastSeq: number;
  /** The caller's read position and unread count. */
  lastReadSeq: number;
  unreadCount: number;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  issues?: ErrorIssue[];
  retryAfterMs?: number;
}

/** Every acknowledgement: success with data, or a stable error code. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type AckCallback<T> = (response: Ack<T>) => void;

export interface SendResult {
  message: MessageDto;
  /** True when this clientMessageId was already stored: nothing new was created. */
  duplicate: boolean;
}

export interface SyncResult {
  conversations: {
    conversationId: string;
    messages: MessageDto[];
    hasMore: boolean;
    lastReadSeq: number;
  }[];
}

export interface ReadResult {
  conversationId: string;
  lastReadSeq: number;
  unreadCount: number;
}

export interface PresenceDto {
  userId: string;
  online: boolean;
  lastSeenAt?: string;
}

export interface ReadEvent {
  conversationId: string;
  userId: string;
  lastReadSeq: number;
}

export interface TypingEvent {
  conversationId: string;
  userId: string;
  typing: boolean;
  /** With `typing: true`: treat the indicator as gone after this long without a refresh. */
  expiresInMs?: number;
}

export interface ClientToServerEvents {
  'message:send': (payload: SendMessageInput, ack: AckCallback<SendResult>) => void;
  sync: (payload: SyncInput, ack: AckCallback<SyncResult>) => void;
  'conversation:read': (payload: MarkReadInput, ack: AckCallback<ReadResult>) => void;
  'typing:start': (payload: TypingInput, ack?: AckCallback<null>) => void;
  'typing:stop': (payload: TypingInput, ack?: AckCallback<null>) => void;
  'presence:query': (
    payload: PresenceQueryInput,
    ack: AckCallback<{ users: PresenceDto[] }>,
  ) => void;
  'auth:refresh': (payload: AuthRefreshInput, ack: AckCallback<{ expiresAt: string }>) => void;
}

export interface ServerToClientEvents {
  'message:new': (message: MessageDto) => void;
  'conversation:created': (conversation: ConversationDto) => void;
  'conversation:read': (event: ReadEvent) => void;
  typing: (event: TypingEvent) => void;
  presence: (event: PresenceDto) => void;
  /**
   * This instance lost Redis for a while: events from other instances may have been
   * dropped. Run `sync` from the last seq of each conversation.
   */
  'sync:required': (event: { reason: 'redis-reconnected' }) => void;
  /** The instance is shutting down: reconnect (the load balancer picks another one) and sync. */
  'server:draining': (event: { reconnectAfterMs: number }) => void;
  /** The access token expired; the socket is disconnected unless it sends `auth:refresh` first. */
  'auth:expiring': (event: { expiresAt: string; graceMs: number }) => void;
  /** An event the server did not understand, or one sent without an ack callback, failed. */
  'chat:error': (event: { event: string; error: ErrorBody }) => void;
}

/** Every event name a client may send, for validation of unknown events. */
export const CLIENT_EVENTS = [
  'message:send',
  'sync',
  'conversation:read',
  'typing:start',
  'typing:stop',
  'presence:query',
  'auth:refresh',
] as const satisfies readonly (keyof ClientToServerEvents)[];

/** The room every socket of one user joins; fan-out is an emit to members' rooms. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}
