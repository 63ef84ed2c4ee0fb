import {
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
};
