import {
  auditLogSchema,
  auditQuerySchema,
  liftRestrictionSchema,
  moderationListQuerySchema,
  moderationListSchema,
  restrictionDtoSchema,
  restrictUserSchema,
  slowModeDtoSchema,
  slowModeSchema,
  blockedQuerySchema,
  blockedUsersPageSchema,
  idSchema,
  listReportsQuerySchema,
  messageDtoSchema,
  reportDtoSchema,
  reportReceiptSchema,
  reportSchema,
  reportsPageSchema,
  resolveReportSchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';

const userRef = z.object({ userId: idSchema.meta({ description: 'The other user.' }) });
const blockState = (blocked: boolean) =>
  z.object({ blocked: z.literal(blocked) }).meta({ id: blocked ? 'Blocked' : 'Unblocked' });

/** The routes of trust.controller.ts. */
export const trustPaths: ZodOpenApiPathsObject = {
  '/users/{userId}/block': {
    put: operation({
      operationId: 'blockUser',
      summary: 'Block a user',
      description:
        'From now on, in both directions and on every instance: no messages, edits, typing, ' +
        'read receipts or presence between the two, and no new conversation. Their direct ' +
        'conversations turn `blocked` (both sides get `conversation:updated`). Repeating it ' +
        'changes nothing.',
      tag: 'trust',
      path: userRef,
      answers: { 200: { description: 'Blocked.', schema: blockState(true) } },
      errors: [...AUTHED, 400],
    }),
    delete: operation({
      operationId: 'unblockUser',
      summary: 'Lift my block of a user',
      description: 'Their conversations open again, unless the other one blocks too.',
      tag: 'trust',
      path: userRef,
      answers: { 200: { description: 'Not blocked by the caller.', schema: blockState(false) } },
      errors: [...AUTHED, 400],
    }),
  },
  '/blocks': {
    get: operation({
      operationId: 'listBlockedUsers',
      summary: 'Whom I block, newest first',
      tag: 'trust',
      query: blockedQuerySchema,
      answers: { 200: { description: 'A page of blocked users.', schema: blockedUsersPageSchema } },
      errors: [...AUTHED, 400],
    }),
  },
  '/reports': {
    post: operation({
      operationId: 'report',
      summary: 'Report a message or a direct conversation to the moderators',
      description:
        'Stored with a snapshot of the message; the reported user is told nothing, the reporter ' +
        'gets a receipt. In a group, name a message.',
      tag: 'trust',
      body: reportSchema,
      answers: { 201: { description: 'Taken.', schema: reportReceiptSchema } },
      errors: [...AUTHED, ...JSON_BODY, 404],
    }),
  },
};

const reportRef = z.object({ id: idSchema.meta({ description: 'The report id.' }) });
const messageRef = z.object({
  id: idSchema.meta({ description: 'The conversation id.' }),
  messageId: idSchema.meta({ description: 'The message id.' }),
});

/** The routes of admin.controller.ts: the admin role only (403 for anyone else). */
export const adminPaths: ZodOpenApiPathsObject = {
  '/admin/reports': {
    get: operation({
      operationId: 'listReports',
      summary: 'The moderation list, newest first',
      tag: 'moderation',
      query: listReportsQuerySchema,
      answers: { 200: { description: 'A page of reports.', schema: reportsPageSchema } },
      errors: [...AUTHED, 400, 403],
    }),
  },
  '/admin/reports/{id}/resolve': {
    post: operation({
      operationId: 'resolveReport',
      summary: 'Resolve a report',
      description:
        'A report moves open → dismissed | actioned, and dismissed → actioned; actioned is final ' +
        '(409). `message_deleted` deletes the reported message (and its files) for everyone ' +
        'first (a tombstone stays) and makes the report actioned; `dismissed` leaves it. Every ' +
        'step is kept in `history`. Repeating the step a report took answers it as it is.',
      tag: 'moderation',
      path: reportRef,
      body: resolveReportSchema,
      answers: { 200: { description: 'The report, resolved.', schema: reportDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403, 404, 409],
    }),
  },
  '/admin/conversations/{id}/messages/{messageId}': {
    delete: operation({
      operationId: 'moderateDeleteMessage',
      summary: 'Delete any message (moderation)',
      description: 'Like deleting one’s own message: a tombstone everyone sees, live and in sync.',
      tag: 'moderation',
      path: messageRef,
      answers: { 200: { description: 'The tombstone.', schema: messageDtoSchema } },
      errors: [...AUTHED, 400, 403, 404],
    }),
  },
  '/admin/moderation': {
    get: operation({
      operationId: 'listModeration',
      summary: 'The moderation list: reports, policy flags and hook flags',
      description:
        'Newest first, each with its source, reason and state; filtered by `source`, `state`, ' +
        '`userId` (whom it is about) and `conversationId`; paged by `nextCursor`, at most 100 a page.',
      tag: 'moderation',
      query: moderationListQuerySchema,
      answers: { 200: { description: 'A page of flags.', schema: moderationListSchema } },
      errors: [...AUTHED, 400, 403],
    }),
  },
  '/admin/audit': {
    get: operation({
      operationId: 'auditLog',
      summary: 'Every moderator action: who, when, what, why',
      description: 'Newest first; by the person it concerns (`userId`) or by `actor`; paged.',
      tag: 'moderation',
      query: auditQuerySchema,
      answers: { 200: { description: 'A page of the audit log.', schema: auditLogSchema } },
      errors: [...AUTHED, 400, 403],
    }),
  },
  '/admin/users/{userId}/restriction': {
    get: operation({
      operationId: 'userRestriction',
      summary: 'Whether a person is banned or shadow-banned',
      tag: 'moderation',
      path: userRef,
      answers: {
        200: { description: 'The restriction (kind null: none).', schema: restrictionDtoSchema },
      },
      errors: [...AUTHED, 400, 403],
    }),
  },
  '/admin/users/{userId}/ban': {
    post: operation({
      operationId: 'banUser',
      summary: 'Ban a person',
      description:
        'Recorded and audited with its reason. From then on, on every instance: their sockets ' +
        'get `moderation:banned` and are closed, a handshake with any token of theirs is refused ' +
        '(BANNED), and sends, edits, uploads, typing and new conversations answer BANNED (403). ' +
        'Reading stays.',
      tag: 'moderation',
      path: userRef,
      body: restrictUserSchema,
      answers: { 200: { description: 'The restriction now.', schema: restrictionDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403],
    }),
  },
  '/admin/users/{userId}/unban': {
    post: operation({
      operationId: 'unbanUser',
      summary: 'Lift a ban',
      description: 'Audited; lifting a ban that is not there changes nothing.',
      tag: 'moderation',
      path: userRef,
      body: liftRestrictionSchema,
      answers: { 200: { description: 'The restriction now.', schema: restrictionDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403],
    }),
  },
  '/admin/users/{userId}/shadow-ban': {
    post: operation({
      operationId: 'shadowBanUser',
      summary: 'Shadow-ban a person',
      description:
        'Nothing tells them. What they send from then on is stored and shown to their own ' +
        'devices (live, sync, history) and to nobody else: no delivery, sync, history, preview, ' +
        'unread count, webhook or offline notification for others; their typing reaches nobody.',
      tag: 'moderation',
      path: userRef,
      body: restrictUserSchema,
      answers: { 200: { description: 'The restriction now.', schema: restrictionDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403],
    }),
  },
  '/admin/users/{userId}/shadow-unban': {
    post: operation({
      operationId: 'shadowUnbanUser',
      summary: 'Lift a shadow-ban',
      description: 'What they sent while shadow-banned stays theirs alone.',
      tag: 'moderation',
      path: userRef,
      body: liftRestrictionSchema,
      answers: { 200: { description: 'The restriction now.', schema: restrictionDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403],
    }),
  },
  '/admin/conversations/{id}/slow-mode': {
    put: operation({
      operationId: 'setSlowMode',
      summary: 'Slow mode on a conversation',
      description:
        'At most one message per member every `seconds` (0: off), held on every instance. A ' +
        'send too soon answers SLOW_MODE (429) with `retryAfterMs`; members get ' +
        '`conversation:slow-mode`. Audited.',
      tag: 'moderation',
      path: z.object({ id: idSchema.meta({ description: 'The conversation id.' }) }),
      body: slowModeSchema,
      answers: { 200: { description: 'Slow mode now.', schema: slowModeDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403, 404],
    }),
  },
};
