// The socket and REST contract as this client speaks it: @jobsphere/chat-domain's shapes (the
// per-conversation change cursor `version` and `sync` by version, notes/contract.md), plus the
// fields issue 14 adds to messages (edits, deletions, system messages), read when present.
import type {
  Ack,
  BlockedUsersPage,
  ConversationDto,
  ConversationList,
  ConversationUpdate,
  DeliveredEvent,
  DeliveredResult,
  ErrorBody,
  MessageDto as DomainMessageDto,
  MessageRequestDto,
  OrganisationDto,
  OrganisedDto,
  PresenceDto,
  ReadEvent,
  ReadResult,
  ReportReceipt,
  ScheduledSendDto,
  TemplateDto,
  SearchPage,
  SettingsDto,
  SyncEntry,
  TypingEvent,
} from '@jobsphere/chat-domain';

export type {
  ScheduledSendDto,
  TemplateDto,
  Ack,
  BlockedUsersPage,
  ConversationDto,
  ConversationUpdate,
  DeliveredEvent,
  DeliveredResult,
  ErrorBody,
  MessageRequestDto,
  OrganisationDto,
  OrganisedDto,
  PresenceDto,
  ReadEvent,
  ReadResult,
  ReportReceipt,
  SearchPage,
  SettingsDto,
  TypingEvent,
};

/** A stored message; a deleted one keeps its place with an empty body and `deletedAt`. */
export type MessageDto = DomainMessageDto;

export interface SendResult {
  message: MessageDto;
  duplicate: boolean;
}

export interface SyncRequest {
  conversations: { conversationId: string; afterVersion: number }[];
  limit?: number;
  /** The store epoch the versions were read in (from the last answer). */
  epoch?: string;
}

/** One conversation of a `sync` answer: changes after `afterVersion`, the cursor to store. */
export type SyncConversationPage = Omit<SyncEntry, 'messages'> & { messages: MessageDto[] };

export interface SyncResponse {
  conversations: SyncConversationPage[];
  /** The store's epoch; absent from servers before epochs. */
  epoch?: string;
}

export type ConversationListPage = Omit<ConversationList, 'totalUnreadCapped' | 'epoch'> & {
  totalUnreadCapped?: boolean;
  /** Absent from servers before epochs. */
  epoch?: string;
};

export interface HistoryPage {
  messages: MessageDto[];
  hasMore: boolean;
}

/** A change to this user's own organisation of a conversation; what is left out stays. */
export interface OrganiseChange {
  muted?: boolean;
  pinned?: boolean;
  archived?: boolean;
  unread?: boolean;
}

/** What the client emits, with the ack data each answers with. */
export interface ClientRequests {
  'message:send': {
    payload: {
      conversationId: string;
      clientMessageId: string;
      body: string;
      attachmentIds?: string[];
      replyTo?: string;
      mentions?: string[];
    };
    data: SendResult;
  };
  'message:react': {
    payload: { conversationId: string; messageId: string; emoji: string; on: boolean };
    data: MessageDto;
  };
  sync: { payload: SyncRequest; data: SyncResponse };
  'conversation:read': { payload: { conversationId: string; seq: number }; data: ReadResult };
  'conversation:delivered': {
    payload: { positions: { conversationId: string; seq: number }[] };
    data: DeliveredResult;
  };
  'settings:update': { payload: { receipts?: boolean }; data: SettingsDto };
  'conversation:organise': {
    payload: { conversationId: string } & OrganiseChange;
    data: OrganisedDto;
  };
  'typing:start': { payload: { conversationId: string }; data: null };
  'typing:stop': { payload: { conversationId: string }; data: null };
  'presence:query': { payload: { userIds: string[] }; data: { users: PresenceDto[] } };
  'auth:refresh': { payload: { token: string }; data: { expiresAt: string } };
}

/** Every server event this client listens to. */
export const SERVER_EVENTS = [
  'message:new',
  'message:updated',
  'message:reacted',
  'mention:new',
  'conversation:created',
  'conversation:updated',
  'conversation:read',
  'conversation:delivered',
  'conversation:organised',
  'settings:updated',
  'typing',
  'presence',
  'sync:required',
  'server:draining',
  'auth:expiring',
  'moderation:banned',
  'conversation:slow-mode',
  'chat:error',
] as const;
export type ServerEventName = (typeof SERVER_EVENTS)[number];
