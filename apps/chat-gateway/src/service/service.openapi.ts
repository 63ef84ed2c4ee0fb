import {
  slowModeDtoSchema,
  slowModeSchema,
  addMembersSchema,
  conversationDtoSchema,
  deadLettersPageSchema,
  deadLettersQuerySchema,
  erasureResultSchema,
  idSchema,
  sendResultSchema,
  serviceConversationPatchSchema,
  serviceConversationResultSchema,
  serviceOpenConversationSchema,
  type ServiceScope,
  systemMessageSchema,
  userExportSchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { JSON_BODY, operation, type OperationSpec } from '../openapi/openapi.operation.js';

/** Behind the service guard: refused tokens (401), missing scope (403), the store (503). */
const SERVICE = [401, 403, 429, 500, 503] as const;

/** An operation of the server API: the service token with one scope, not a user's token. */
export function serviceOperation(
  scope: ServiceScope,
  spec: Omit<OperationSpec, 'tag' | 'bearer'>,
): ZodOpenApiOperationObject {
  return {
    ...operation({
      ...spec,
      description: `${spec.description ?? ''}${spec.description ? ' ' : ''}Scope: \`${scope}\`.`,
      tag: 'service',
      bearer: false,
    }),
    security: [{ serviceToken: [scope] }],
  };
}

const conversationId = z.object({ id: idSchema.meta({ description: 'The conversation id.' }) });
const userId = z.object({ userId: idSchema.meta({ description: 'A user id.' }) });

/** The routes of service.controller.ts. */
export const servicePaths: ZodOpenApiPathsObject = {
  '/service/v1/conversations': {
    post: serviceOperation('conversations:write', {
      operationId: 'serviceOpenConversation',
      summary: 'Open a conversation on behalf of users, with job context',
      description:
        'Accepted from the start: no message request, the people become contacts (a request ' +
        'one of them had sent is accepted). A direct conversation is one per pair and job ' +
        "context, a group one per `idempotencyKey` of the calling service (another service's key " +
        'opens another group): repeating the call answers 200 with the same one. Members see it ' +
        'appear live (`conversation:created`).',
      body: serviceOpenConversationSchema,
      answers: {
        201: { description: 'Created.', schema: serviceConversationResultSchema },
        200: { description: 'It existed already.', schema: serviceConversationResultSchema },
      },
      errors: [...SERVICE, ...JSON_BODY],
    }),
  },
  '/service/v1/conversations/{id}': {
    patch: serviceOperation('conversations:write', {
      operationId: 'serviceChangeConversation',
      summary: 'Change the title, archive or unarchive',
      description:
        "Members' devices learn it live (`conversation:updated`) and through sync (the entry's " +
        '`conversation`).',
      path: conversationId,
      body: serviceConversationPatchSchema,
      answers: { 200: { description: 'The conversation now.', schema: conversationDtoSchema } },
      errors: [...SERVICE, ...JSON_BODY, 404],
    }),
  },
  '/service/v1/conversations/{id}/slow-mode': {
    put: serviceOperation('conversations:write', {
      operationId: 'serviceSetSlowMode',
      summary: 'Slow mode on a conversation',
      description:
        'At most one message per member every `seconds` (0: off), on every instance; audited ' +
        'as `service:<name>`. Members get `conversation:slow-mode`.',
      path: conversationId,
      body: slowModeSchema,
      answers: { 200: { description: 'Slow mode now.', schema: slowModeDtoSchema } },
      errors: [...SERVICE, ...JSON_BODY, 404],
    }),
  },
  '/service/v1/conversations/{id}/messages': {
    post: serviceOperation('messages:write', {
      operationId: 'servicePostSystemMessage',
      summary: 'Post a system message',
      description:
        "Kind 'system', from `$system`: in the conversation's order, unread for every member, " +
        'delivered live as `message:new` and returned by sync. Idempotent by `idempotencyKey`.',
      path: conversationId,
      body: systemMessageSchema,
      answers: {
        201: { description: 'Stored.', schema: sendResultSchema },
        200: { description: 'That key was stored before.', schema: sendResultSchema },
      },
      errors: [...SERVICE, ...JSON_BODY, 404],
    }),
  },
  '/service/v1/conversations/{id}/members': {
    post: serviceOperation('members:write', {
      operationId: 'serviceAddMembers',
      summary: 'Add people to a group',
      description:
        'They receive from now on, with nothing unread from before; their devices get ' +
        '`conversation:created`, the others `conversation:updated`. Members already there are ' +
        'left alone.',
      path: conversationId,
      body: addMembersSchema,
      answers: { 200: { description: 'The conversation now.', schema: conversationDtoSchema } },
      errors: [...SERVICE, ...JSON_BODY, 404],
    }),
  },
  '/service/v1/conversations/{id}/members/{userId}': {
    delete: serviceOperation('members:write', {
      operationId: 'serviceRemoveMember',
      summary: 'Remove someone',
      description:
        'Nothing of the conversation reaches them from then on; their devices are told ' +
        '(`conversation:updated` without them in `memberIds`) and their sync of it answers ' +
        'NOT_A_MEMBER. Idempotent. Groups only: a direct conversation keeps its two people (400).',
      path: conversationId.extend(userId.shape),
      answers: { 200: { description: 'The conversation now.', schema: conversationDtoSchema } },
      errors: [...SERVICE, 400, 404],
    }),
  },
  '/service/v1/users/{userId}/erasure': {
    post: serviceOperation('users:erase', {
      operationId: 'serviceEraseUser',
      summary: 'Erase a person',
      description:
        'Their tokens issued until now are refused on every instance from this call on, their ' +
        'files are deleted, their message bodies become tombstones (devices see them through ' +
        'sync), their read positions, presence, memberships, contacts and own blocks go (blocks ' +
        'others placed on them stay), the texts of their reports and of report snapshots of ' +
        'their messages go, and the erasure is recorded (who, when, how much; never what). ' +
        'Bounded per call: call again while `complete` is false.',
      path: userId,
      answers: { 200: { description: 'What was done.', schema: erasureResultSchema } },
      errors: [...SERVICE, 400],
    }),
  },
  '/service/v1/users/{userId}/export': {
    get: serviceOperation('users:export', {
      operationId: 'serviceExportUser',
      summary: "Export a person's conversations and messages",
      path: userId,
      answers: { 200: { description: 'The export.', schema: userExportSchema } },
      errors: [...SERVICE, 400],
    }),
  },
  '/service/v1/webhooks/dead-letters': {
    get: serviceOperation('webhooks:admin', {
      operationId: 'serviceListDeadLetters',
      summary: 'Webhook deliveries that were given up, newest first',
      description:
        'Kept WEBHOOK_DEAD_LETTER_TTL_MS (14 days) after they died, at most ' +
        'WEBHOOK_DEAD_LETTERS_MAX (10,000: the oldest go first). A dead letter about a message ' +
        'deleted since carries the tombstone, never the deleted words.',
      query: deadLettersQuerySchema,
      answers: { 200: { description: 'A page.', schema: deadLettersPageSchema } },
      errors: [...SERVICE, 400],
    }),
  },
  '/service/v1/webhooks/dead-letters/{id}/replay': {
    post: serviceOperation('webhooks:admin', {
      operationId: 'serviceReplayDeadLetter',
      summary: 'Deliver a dead letter again',
      description: 'Due at once, its attempts counted from zero; same `webhook-id` as before.',
      path: z.object({ id: idSchema.meta({ description: 'The dead letter id.' }) }),
      answers: { 204: { description: 'Queued again.' } },
      errors: [...SERVICE, 404],
    }),
  },
};
