import {
  conversationDtoSchema,
  conversationListSchema,
  createConversationSchema,
  historyQuerySchema,
  historyPageSchema,
  listConversationsQuerySchema,
  markReadBodySchema,
  readResultSchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';

const conversationId = z.object({
  id: z.string().meta({ description: 'The conversation id.' }),
});

/** The REST routes of chat.controller.ts. */
export const chatPaths: ZodOpenApiPathsObject = {
  '/conversations': {
    post: operation({
      operationId: 'createConversation',
      summary: 'Open a direct conversation or create a group',
      description:
        'A direct conversation is one per pair of people and job context (`jobId`, ' +
        '`applicationId`): opening it again returns the same one with 200, which costs no ' +
        'budget. Groups are opened by recruiters and admins (2-50 members).',
      tag: 'conversations',
      body: createConversationSchema,
      answers: {
        201: { description: 'Created.', schema: conversationDtoSchema },
        200: {
          description: 'That direct conversation already existed.',
          schema: conversationDtoSchema,
        },
      },
      errors: [...AUTHED, ...JSON_BODY, 403],
    }),
    get: operation({
      operationId: 'listConversations',
      summary: 'My conversations, most recently active first',
      description: 'Each with its last message, read positions and unread count; cursor-paged.',
      tag: 'conversations',
      query: listConversationsQuerySchema,
      answers: { 200: { description: 'A page of conversations.', schema: conversationListSchema } },
      errors: [...AUTHED, 400],
    }),
  },
  '/conversations/{id}': {
    get: operation({
      operationId: 'getConversation',
      summary: 'One conversation',
      tag: 'conversations',
      path: conversationId,
      answers: { 200: { description: 'The conversation.', schema: conversationDtoSchema } },
      errors: [...AUTHED, 404],
    }),
  },
  '/conversations/{id}/messages': {
    get: operation({
      operationId: 'listMessages',
      summary: 'Message history, ascending by seq',
      description:
        'The newest page without a cursor; `before` pages back, `after` pages forward (not both).',
      tag: 'conversations',
      path: conversationId,
      query: historyQuerySchema,
      answers: { 200: { description: 'A page of messages.', schema: historyPageSchema } },
      errors: [...AUTHED, 400, 404],
    }),
  },
  '/conversations/{id}/read': {
    post: operation({
      operationId: 'markConversationRead',
      summary: 'Move my read position forward',
      description: 'It never moves back: an older `seq` leaves it where it is.',
      tag: 'conversations',
      path: conversationId,
      body: markReadBodySchema,
      answers: { 200: { description: 'My read position now.', schema: readResultSchema } },
      errors: [...AUTHED, ...JSON_BODY, 404],
    }),
  },
};
