import {
  ACTION_LIMITS,
  SCHEDULE_LIMITS,
  scheduleMessageSchema,
  scheduledListSchema,
  scheduledPatchSchema,
  scheduledSendDtoSchema,
  actionMessageSchema,
  answerActionBodySchema,
  idSchema,
  messageDtoSchema,
  sendResultSchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';

const SERVICE = [401, 403, 429, 500, 503] as const;
const conversationId = z.object({ id: idSchema.meta({ description: 'The conversation id.' }) });
const messageRef = conversationId.extend({
  messageId: idSchema.meta({ description: 'The message id.' }),
});

const scheduledRef = z.object({ id: z.string().max(64).meta({ description: 'Its id.' }) });

/** The routes of hiring.controller.ts, scheduled.controller.ts and hiring-service.controller.ts. */
export const hiringPaths: ZodOpenApiPathsObject = {
  '/scheduled-messages': {
    post: operation({
      operationId: 'scheduleMessage',
      summary: 'Schedule a message, or a follow-up',
      description:
        'Goes at `sendAt` (5 s to 90 days ahead) through the ordinary send, decided then ' +
        '(membership, blocks, requests): refused then, it is listed `refused` with the code. ' +
        'A follow-up (`followUp: true`) goes only if no other member has written since it was ' +
        `scheduled, else it is listed \`skipped\`. At most ${SCHEDULE_LIMITS.maxPendingPerSender} ` +
        'wait per person (SCHEDULE_QUOTA_EXCEEDED, 429, beyond). Goes once, across instances and restarts.',
      tag: 'conversations',
      body: scheduleMessageSchema,
      answers: { 201: { description: 'Scheduled.', schema: scheduledSendDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 404],
    }),
    get: operation({
      operationId: 'listScheduledMessages',
      summary: 'My scheduled sends',
      description: `Waiting ones by time, then finished ones (kept 7 days), at most ${SCHEDULE_LIMITS.maxListed}.`,
      tag: 'conversations',
      answers: { 200: { description: 'The list.', schema: scheduledListSchema } },
      errors: [...AUTHED],
    }),
  },
  '/scheduled-messages/{id}': {
    patch: operation({
      operationId: 'editScheduledMessage',
      summary: 'Change a scheduled send’s text or time',
      description: 'Until it goes (`editable`); CONFLICT once it is on its way or finished.',
      tag: 'conversations',
      path: scheduledRef,
      body: scheduledPatchSchema,
      answers: { 200: { description: 'As changed.', schema: scheduledSendDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 404, 409],
    }),
    delete: operation({
      operationId: 'cancelScheduledMessage',
      summary: 'Cancel a scheduled send',
      description: 'Until it goes; CONFLICT once it is on its way or finished.',
      tag: 'conversations',
      path: scheduledRef,
      answers: { 200: { description: 'Cancelled.', schema: scheduledSendDtoSchema } },
      errors: [...AUTHED, 404, 409],
    }),
  },
  '/conversations/{id}/messages/{messageId}/action': {
    post: operation({
      operationId: 'answerAction',
      summary: 'Answer an action message',
      description:
        'Picks one of the card’s actions (not a link: links are opened). Stored as a change of ' +
        'the message at a new version: every device of every member gets `message:updated`, ' +
        'sync returns it, the platform gets `message.answered`. A card with `once` takes one ' +
        'answer in all, otherwise one per member: a second is refused ALREADY_ANSWERED (409); ' +
        'after `expiresAt` ACTION_EXPIRED (410). Repeating one’s own answer returns the message.',
      tag: 'conversations',
      path: messageRef,
      body: answerActionBodySchema,
      answers: { 200: { description: 'The message with the answer.', schema: messageDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 404, 409, 410],
    }),
  },
  '/service/v1/conversations/{id}/action-messages': {
    post: {
      ...operation({
        operationId: 'servicePostActionMessage',
        summary: 'Post an action message (buttons members answer)',
        description:
          `A system message with a title and up to ${ACTION_LIMITS.maxActions} actions (reply, ` +
          'interview slot, link), an optional expiry (within a year) and `once`. Only the server ' +
          'API posts one. Idempotent by `idempotencyKey`. Scope: `messages:write`.',
        tag: 'service',
        bearer: false,
        path: conversationId,
        body: actionMessageSchema,
        answers: {
          201: { description: 'Stored.', schema: sendResultSchema },
          200: { description: 'That key was stored before.', schema: sendResultSchema },
        },
        errors: [...SERVICE, ...JSON_BODY, 404],
      }),
      security: [{ serviceToken: ['messages:write'] }],
    },
  },
};
