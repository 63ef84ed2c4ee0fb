import { type UploadRequestInput } from '../attachments.js';
import { type Principal } from '../entities.js';
import { type ConversationBox } from '../ports.js';
import {
  type CreateConversationInput,
  type DeleteMessageInput,
  type EditMessageInput,
  type HistoryQuery,
  type LeaveConversationInput,
  type ListReportsQuery,
  type MarkDeliveredInput,
  type OrganiseInput,
  type SettingsUpdate,
  type ReactInput,
  type ReportInput,
  type SendMessageInput,
  type SyncInput,
} from '../schemas.js';
import { attachmentLink, requestUpload } from './attachments.js';
import { type ChatDeps, type Origin, memberConversation } from './context.js';
import {
  answerRequest,
  getConversation,
  leaveConversation,
  listConversations,
  openConversation,
} from './conversations.js';
import {
  deleteMessage,
  editMessage,
  history,
  markRead,
  sendMessage,
  syncChanges,
} from './messages.js';
import {
  auditLog,
  liftRestriction,
  listModeration,
  moderatorOf,
  restrictUser,
  setSlowMode,
  standing,
  userRestriction,
} from './moderation.js';
import { presenceAudience, typingAudience, visibleContacts } from './presence.js';
import { organiseConversation } from './organisation.js';
import { DeliveredAcks, getSettings, updateSettings } from './receipts.js';
import { react } from './reactions.js';
import { answerAction } from './actions.js';
import {
  cancelScheduled,
  editScheduled,
  listScheduled,
  runDueScheduled,
  scheduleMessage,
} from './scheduled.js';
import { type ScheduleMessageInput, type ScheduledPatch } from '../scheduled.js';
import { type AnswerActionInput } from '../actions.js';
import { searchMessages } from './search.js';
import { templateUseCases } from './templates.js';
import { type SearchQuery } from '../search.js';
import {
  type AuditLogQuery,
  type ModerationListQuery,
  type RestrictionKind,
} from '../moderation.js';
import {
  blockUser,
  blockedUsers,
  listReports,
  moderateDelete,
  report,
  resolveReport,
  unblockUser,
} from './trust.js';

export type { ChatDeps, Origin } from './context.js';
export { memberConversation } from './context.js';
export * from './attachments.js';
export * from './conversations.js';
export * from './messages.js';
export * from './organisation.js';
export * from './presence.js';
export * from './receipts.js';
export * from './reactions.js';
export * from './search.js';
export * from './trust.js';
export { answerAction, postActionMessage, answerRefusalError } from './actions.js';
export {
  scheduleMessage,
  listScheduled,
  editScheduled,
  cancelScheduled,
  deliverScheduled,
  runDueScheduled,
  SCHEDULE_MAX_ATTEMPTS,
} from './scheduled.js';
export * from './moderation.js';
export {
  recordResponseTime,
  conversationResponseTimes,
  subjectResponseTimes,
} from './response-times.js';

type Page = { limit: number; cursor?: string };

/** The use cases bound to their ports: what the transports call. */
export function createChat(deps: ChatDeps) {
  // Every device's delivered acknowledgements on this instance, coalesced (see DeliveredAcks).
  const delivered = new DeliveredAcks(deps);
  return {
    openConversation: (p: Principal, input: CreateConversationInput) =>
      openConversation(deps, p, input),
    listConversations: (p: Principal, query: Page & { box?: ConversationBox }) =>
      listConversations(deps, p, query),
    getConversation: (p: Principal, id: string) => getConversation(deps, p, id),
    memberConversation: (p: Principal, id: string) => memberConversation(deps, p, id),
    answerRequest: (p: Principal, id: string, answer: 'accept' | 'decline') =>
      answerRequest(deps, p, id, answer),
    leave: (p: Principal, input: LeaveConversationInput) => leaveConversation(deps, p, input),
    history: (p: Principal, id: string, query: HistoryQuery) => history(deps, p, id, query),
    search: (p: Principal, query: SearchQuery) => searchMessages(deps, p, query),
    send: (p: Principal, input: SendMessageInput, origin?: Origin) =>
      sendMessage(deps, p, input, origin),
    edit: (p: Principal, input: EditMessageInput, origin?: Origin) =>
      editMessage(deps, p, input, origin),
    delete: (p: Principal, input: DeleteMessageInput, origin?: Origin) =>
      deleteMessage(deps, p, input, origin),
    react: (p: Principal, input: ReactInput, origin?: Origin) => react(deps, p, input, origin),
    moderateDelete: (p: Principal, input: DeleteMessageInput) => moderateDelete(deps, p, input),
    sync: (p: Principal, input: SyncInput) => syncChanges(deps, p, input),
    answerAction: (p: Principal, input: AnswerActionInput, origin?: Origin) =>
      answerAction(deps, p, input, origin),
    schedule: (p: Principal, input: ScheduleMessageInput) => scheduleMessage(deps, p, input),
    listScheduled: (p: Principal) => listScheduled(deps, p),
    editScheduled: (p: Principal, id: string, patch: ScheduledPatch) =>
      editScheduled(deps, p, id, patch),
    cancelScheduled: (p: Principal, id: string) => cancelScheduled(deps, p, id),
    /** A worker's turn: the scheduled send due first, claimed under `lease` and sent. */
    runDueScheduled: (lease: string, leaseMs: number) => runDueScheduled(deps, lease, leaseMs),
    ...templateUseCases(deps),
    markRead: (p: Principal, id: string, seq: number, origin?: Origin) =>
      markRead(deps, p, id, seq, origin),
    markDelivered: (p: Principal, input: MarkDeliveredInput, origin?: Origin) =>
      delivered.mark(p, input, origin),
    organise: (p: Principal, input: OrganiseInput, origin?: Origin) =>
      organiseConversation(deps, p, input, origin),
    settings: (p: Principal) => getSettings(deps, p),
    updateSettings: (p: Principal, input: SettingsUpdate, origin?: Origin) =>
      updateSettings(deps, p, input, origin),
    visibleContacts: (userId: string, userIds: string[]) => visibleContacts(deps, userId, userIds),
    presenceAudience: (userId: string, limit: number) => presenceAudience(deps, userId, limit),
    typingAudience: (p: Principal, id: string) => typingAudience(deps, p, id),
    block: (p: Principal, userId: string) => blockUser(deps, p, userId),
    unblock: (p: Principal, userId: string) => unblockUser(deps, p, userId),
    blockedUsers: (p: Principal, page: Page) => blockedUsers(deps, p, page),
    report: (p: Principal, input: ReportInput) => report(deps, p, input),
    listReports: (p: Principal, query: ListReportsQuery) => listReports(deps, p, query),
    resolveReport: (p: Principal, id: string, resolution: 'dismissed' | 'message_deleted') =>
      resolveReport(deps, p, id, resolution),
    /** BANNED while banned (the handshake asks it); whether what they send is theirs alone. */
    standing: (userId: string) => standing(deps, userId),
    // Async, so a refused caller gets a rejection like every other use case's.
    restrictUser: async (p: Principal, userId: string, kind: RestrictionKind, reason: string) =>
      restrictUser(deps, moderatorOf(p), userId, kind, reason),
    liftRestriction: async (p: Principal, userId: string, kind: RestrictionKind, reason?: string) =>
      liftRestriction(deps, moderatorOf(p), userId, kind, reason),
    userRestriction: async (p: Principal, userId: string) => {
      moderatorOf(p);
      return userRestriction(deps, userId);
    },
    setSlowMode: async (p: Principal, conversationId: string, seconds: number, reason?: string) =>
      setSlowMode(deps, moderatorOf(p), conversationId, seconds, reason),
    listModeration: async (p: Principal, query: ModerationListQuery) => {
      moderatorOf(p);
      return listModeration(deps, query);
    },
    auditLog: async (p: Principal, query: AuditLogQuery) => {
      moderatorOf(p);
      return auditLog(deps, query);
    },
    requestUpload: (p: Principal, input: UploadRequestInput) => requestUpload(deps, p, input),
    attachmentLink: (p: Principal, conversationId: string, attachmentId: string) =>
      attachmentLink(deps, p, conversationId, attachmentId),
  };
}
export type Chat = ReturnType<typeof createChat>;
