import { type ErrorCode, type ErrorIssue } from './errors.js';
import {
  type ConversationKind,
  type MemberRole,
  type MessageAttachment,
  type MessageKind,
  type ReportReason,
  type ReportResolution,
} from './entities.js';
import { type z } from 'zod';
import {
  type authRefreshSchema,
  type conversationRefSchema,
  type deleteMessageSchema,
  type editMessageSchema,
  type markReadSchema,
  type userRefSchema,
  type presenceQuerySchema,
  type sendMessageSchema,
  type syncSchema,
  type typingSchema,
} from './schemas.js';

// What a client sends (before the server's normalization).
type In<S extends z.ZodType> = z.input<S>;

/** Messages as they travel (JSON): dates are ISO strings. */
export interface MessageDto {
  id: string;
  conversationId: string;
  /** Position in the conversation: order by it. */
  seq: number;
  /** The conversation's version at this message's last change: the sync cursor counts these. */
  version: number;
  senderId: string;
  clientMessageId: string;
  /** 'system' messages are posted by the platform and shown apart. */
  kind: MessageKind;
  /** Empty once the message was deleted (see `deletedAt`). */
  body: string;
  attachments?: MessageAttachment[];
  createdAt: string;
  editedAt?: string;
  deletedAt?: string;
}

/** The newest message of a conversation, as its list shows it. */
export interface MessagePreviewDto {
  id: string;
  seq: number;
  senderId: string;
  /** Cut to a preview; empty when deleted. */
  body: string;
  createdAt: string;
  deleted?: boolean;
}

/** A request as both sides see it: the opener waits, the recipient answers. */
export interface MessageRequestDto {
  from: string;
  to: string;
  state: 'pending' | 'declined';
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
  /** The newest message, its body cut to a preview. */
  lastMessage?: MessagePreviewDto;
  /** Set while this is a request (pending) or after its recipient declined it. */
  request?: MessageRequestDto;
  /** One of the two people of this direct conversation blocked the other. */
  blocked: boolean;
  /** Seq of the newest message (0 when empty). */
  lastSeq: number;
  /** The change cursor: a device that holds this conversation up to here syncs from it. */
  version: number;
  /** The caller's read position and unread count. */
  lastReadSeq: number;
  unreadCount: number;
}

/** Something about a conversation changed that a device shows: a request answered, a block. */
export interface ConversationUpdate {
  conversationId: string;
  blocked: boolean;
  request: MessageRequestDto | null;
}

export interface BlockedUsersPage {
  users: { userId: string; since: string }[];
  nextCursor?: string;
}

export interface ReportDto {
  id: string;
  status: 'open' | 'resolved';
  reason: ReportReason;
  note?: string;
  conversationId: string;
  messageId?: string;
  reporterId: string;
  reportedUserId: string;
  snapshot?: { senderId: string; body: string; createdAt: string };
  createdAt: string;
  resolution?: ReportResolution;
  resolvedBy?: string;
  resolvedAt?: string;
}

/** What the reporter is told: the report was taken, nothing about what happens to it. */
export interface ReportReceipt {
  id: string;
  status: 'open';
  createdAt: string;
}

export interface ReportsPage {
  reports: ReportDto[];
  nextCursor?: string;
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

export interface SyncEntry {
  conversationId: string;
  /** Changes after the version asked for, ascending by version, each in its current state. */
  messages: MessageDto[];
  /** Where to resume: call `sync` again from here while `hasMore`, and store it after. */
  version: number;
  hasMore: boolean;
  lastReadSeq: number;
  /** Set when the caller is not (or no longer) a member: drop the conversation. */
  error?: ErrorBody;
}

export interface SyncResult {
  conversations: SyncEntry[];
}

export interface ConversationList {
  conversations: ConversationDto[];
  nextCursor?: string;
  /** Unread messages over the caller's most recently active conversations (see `totalUnreadCapped`). */
  totalUnread: number;
  /** True when the caller has more conversations than `totalUnread` counts: it is a floor. */
  totalUnreadCapped: boolean;
}

export interface HistoryPage {
  /** Ascending by seq. */
  messages: MessageDto[];
  /** More messages exist beyond this page in the direction asked for. */
  hasMore: boolean;
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
  'message:send': (payload: In<typeof sendMessageSchema>, ack: AckCallback<SendResult>) => void;
  sync: (payload: In<typeof syncSchema>, ack: AckCallback<SyncResult>) => void;
  'conversation:read': (payload: In<typeof markReadSchema>, ack: AckCallback<ReadResult>) => void;
  'typing:start': (payload: In<typeof typingSchema>, ack?: AckCallback<null>) => void;
  'typing:stop': (payload: In<typeof typingSchema>, ack?: AckCallback<null>) => void;
  'presence:query': (
    payload: In<typeof presenceQuerySchema>,
    ack: AckCallback<{ users: PresenceDto[] }>,
  ) => void;
  'auth:refresh': (
    payload: In<typeof authRefreshSchema>,
    ack: AckCallback<{ expiresAt: string }>,
  ) => void;
  /** Own messages only, within the edit window. */
  'message:edit': (payload: In<typeof editMessageSchema>, ack: AckCallback<MessageDto>) => void;
  /** Own messages at any time. */
  'message:delete': (payload: In<typeof deleteMessageSchema>, ack: AckCallback<MessageDto>) => void;
  /** The recipient of a request accepts or declines it. */
  'conversation:accept': (
    payload: In<typeof conversationRefSchema>,
    ack: AckCallback<ConversationDto>,
  ) => void;
  'conversation:decline': (
    payload: In<typeof conversationRefSchema>,
    ack: AckCallback<ConversationDto>,
  ) => void;
  'user:block': (payload: In<typeof userRefSchema>, ack: AckCallback<{ blocked: true }>) => void;
  'user:unblock': (payload: In<typeof userRefSchema>, ack: AckCallback<{ blocked: false }>) => void;
}

export interface ServerToClientEvents {
  'message:new': (message: MessageDto) => void;
  /** A message was edited or deleted: replace it by id (its version is newer). */
  'message:updated': (message: MessageDto) => void;
  /** A request was answered, or a block put on or lifted. */
  'conversation:updated': (update: ConversationUpdate) => void;
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
  'message:edit',
  'message:delete',
  'conversation:accept',
  'conversation:decline',
  'user:block',
  'user:unblock',
] as const satisfies readonly (keyof ClientToServerEvents)[];

/** The room every socket of one user joins; fan-out is an emit to members' rooms. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}
