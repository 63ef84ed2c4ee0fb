// @jobsphere/chat-client: the typed JobSphere Chat client for browsers and Node.
export { ChatClient, createChatClient } from './client.js';
export {
  DEFAULT_LIMITS,
  DEFAULT_TIMINGS,
  type ChatClientOptions,
  type ChatClientLimits,
  type ChatClientTimings,
} from './options.js';
export type {
  ChatClientEvents,
  ChatChange,
  ConversationView,
  MemberView,
  MessageSource,
} from './state.js';
export type { ConnectionState, ConnectionStatus, TokenProvider } from './connection.js';
export {
  ChatError,
  ChatConnectError,
  ChatApiError,
  isRetryable,
  type ChatErrorCode,
} from './errors.js';
export type { OutboxEntry, OutboxState } from './outbox.js';
export { memoryStorage, type StorageAdapter } from './storage.js';
export {
  xhrUploader,
  fetchUploader,
  type AttachmentLink,
  type Uploader,
  type UploadOptions,
  type UploadProgress,
  type UploadSlot,
} from './attachments.js';
export { tokenUser } from './identity.js';
export {
  socketIoFactory,
  type SocketFactory,
  type SocketLike,
  type SocketOptions,
} from './transport.js';
export { systemClock, type Clock, type Random, type BackoffOptions } from './clock.js';
export type {
  FetchLike,
  OpenDirectInput,
  CreateGroupInput,
  ReportInput,
  ScheduleInput,
  SearchInput,
  UploadRequest,
} from './rest.js';
export type { Templates, TemplateInput } from './templates.js';
export type {
  MessageDto,
  ScheduledSendDto,
  TemplateDto,
  ConversationDto,
  ConversationUpdate,
  MessageRequestDto,
  BlockedUsersPage,
  SearchPage,
  ReportReceipt,
  PresenceDto,
  ReadEvent,
  DeliveredEvent,
  DeliveredResult,
  SettingsDto,
  OrganiseChange,
  OrganisationDto,
  OrganisedDto,
  TypingEvent,
  ErrorBody,
  SyncRequest,
  SyncResponse,
  SyncConversationPage,
  ConversationListPage,
  HistoryPage,
} from './protocol.js';
