import { type z } from 'zod';
import { type answerActionSchema } from './actions.js';
import { type BannedEvent, type SlowModeEvent } from './moderation.js';
import {
  type ConversationDto,
  type ConversationUpdate,
  type ErrorBody,
  type MessageDto,
  type PresenceDto,
  type DeliveredResult,
  type OrganisedDto,
  type ReadResult,
  type SettingsDto,
  type SendResult,
  type SyncResult,
} from './responses.js';
import {
  type authRefreshSchema,
  type conversationRefSchema,
  type deleteMessageSchema,
  type editMessageSchema,
  type reactSchema,
  type leaveConversationSchema,
  type markDeliveredSchema,
  type markReadSchema,
  type organiseSchema,
  type settingsUpdateSchema,
  type userRefSchema,
  type presenceQuerySchema,
  type sendMessageSchema,
  type syncSchema,
  type typingSchema,
} from './schemas.js';

// What a client sends (before the server's normalization).
type In<S extends z.ZodType> = z.input<S>;

/** Every acknowledgement: success with data, or a stable error code. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type AckCallback<T> = (response: Ack<T>) => void;

export interface ReadEvent {
  conversationId: string;
  userId: string;
  lastReadSeq: number;
}

/** A member's devices hold the conversation up to `lastDeliveredSeq` ("delivered"). */
export interface DeliveredEvent {
  conversationId: string;
  userId: string;
  lastDeliveredSeq: number;
}

export interface TypingEvent {
  conversationId: string;
  userId: string;
  typing: boolean;
  /** With `typing: true`: treat the indicator as gone after this long without a refresh. */
  expiresInMs?: number;
}

/** A reaction put on or taken off: the message with its new counts (no `mine`: set it from `userId`). */
export interface ReactionEvent {
  message: MessageDto;
  userId: string;
  emoji: string;
  on: boolean;
}

/** The recipient was mentioned in a group message (their `mentionCount` grew by one). */
export interface MentionEvent {
  conversationId: string;
  messageId: string;
  seq: number;
  senderId: string;
}

export interface ClientToServerEvents {
  'message:send': (payload: In<typeof sendMessageSchema>, ack: AckCallback<SendResult>) => void;
  sync: (payload: In<typeof syncSchema>, ack: AckCallback<SyncResult>) => void;
  'conversation:read': (payload: In<typeof markReadSchema>, ack: AckCallback<ReadResult>) => void;
  /** What this device holds, per conversation (batched; see markDeliveredSchema). */
  'conversation:delivered': (
    payload: In<typeof markDeliveredSchema>,
    ack: AckCallback<DeliveredResult>,
  ) => void;
  /** Mutes, pins, archives or marks unread a conversation for the caller only. */
  'conversation:organise': (
    payload: In<typeof organiseSchema>,
    ack: AckCallback<OrganisedDto>,
  ) => void;
  /** Changes the caller's own settings (receipts on or off). */
  'settings:update': (
    payload: In<typeof settingsUpdateSchema>,
    ack: AckCallback<SettingsDto>,
  ) => void;
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
  /** The caller's reaction on (`on: true`) or off a message; repeating is harmless. */
  'message:react': (payload: In<typeof reactSchema>, ack: AckCallback<MessageDto>) => void;
  /** Own messages at any time. */
  'message:delete': (payload: In<typeof deleteMessageSchema>, ack: AckCallback<MessageDto>) => void;
  /** Answer an action message (one of its actions); acked with the message as answered. */
  'message:action': (payload: In<typeof answerActionSchema>, ack: AckCallback<MessageDto>) => void;
  /** The recipient of a request, or an invitee to a group, accepts or declines it. */
  'conversation:accept': (
    payload: In<typeof conversationRefSchema>,
    ack: AckCallback<ConversationDto>,
  ) => void;
  'conversation:decline': (
    payload: In<typeof conversationRefSchema>,
    ack: AckCallback<ConversationDto>,
  ) => void;
  /** Any member leaves a group (the last owner hands it over, or it is archived). */
  'conversation:leave': (
    payload: In<typeof leaveConversationSchema>,
    ack: AckCallback<{ left: true }>,
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
  /** Someone's reaction was put on or taken off a message (its version is newer). */
  'message:reacted': (event: ReactionEvent) => void;
  /** The receiving user was mentioned in a group message. */
  'mention:new': (event: MentionEvent) => void;
  'conversation:read': (event: ReadEvent) => void;
  'conversation:delivered': (event: DeliveredEvent) => void;
  /** The user organised a conversation (on another device): take it. */
  'conversation:organised': (event: OrganisedDto) => void;
  /** The user's own settings changed (on another device): take them. */
  'settings:updated': (settings: SettingsDto) => void;
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
  /** A moderator banned this user: every socket of theirs is closed next; reconnecting is refused. */
  'moderation:banned': (event: BannedEvent) => void;
  /** A conversation's slow mode changed (0: off): at most one message per member every N s. */
  'conversation:slow-mode': (event: SlowModeEvent) => void;
  /** An event the server did not understand, or one sent without an ack callback, failed. */
  'chat:error': (event: { event: string; error: ErrorBody }) => void;
}

/** Every event name a client may send, for validation of unknown events. */
export const CLIENT_EVENTS = [
  'message:send',
  'sync',
  'conversation:read',
  'conversation:delivered',
  'conversation:organise',
  'settings:update',
  'typing:start',
  'typing:stop',
  'presence:query',
  'auth:refresh',
  'message:edit',
  'message:delete',
  'message:react',
  'message:action',
  'conversation:accept',
  'conversation:decline',
  'conversation:leave',
  'user:block',
  'user:unblock',
] as const satisfies readonly (keyof ClientToServerEvents)[];

/** The room every socket of one user joins; fan-out is an emit to members' rooms. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}
