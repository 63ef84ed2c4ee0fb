import {
  conversationDtoSchema,
  conversationListSchema,
  createConversationSchema,
  editMessageBodySchema,
  historyPageSchema,
  historyQuerySchema,
  idSchema,
  leaveBodySchema,
  listConversationsQuerySchema,
  markReadBodySchema,
  messageDtoSchema,
  readResultSchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';

const conversationId = z.object({
  id: idSchema.meta({ description: 'The conversation id.' }),
});
const messageRef = conversationId.extend({
  messageId: idSchema.meta({ description: 'The message id.' }),
});

const answerRequest = (answer: 'accept' | 'decline') =>
  operation({
    operationId: `${answer}Request`,
    summary:
      answer === 'accept'
        ? 'Accept a message request or a group invitation'
        : 'Decline a message request or a group invitation',
    description:
      answer === 'accept'
        ? 'The recipient accepts: the conversation joins the inbox, the two are contacts (presence, ' +
          'typing and read receipts are shared) and the opener may send freely. Replying accepts too. ' +
          'An invitee to a group accepts the same way: the group opens with its history and its ' +
          'members become contacts.'
        : 'The recipient declines: the conversation leaves the requests and the opener can send, ' +
          'edit and type no more (REQUEST_DECLINED). It can still be accepted later. Both sides get ' +
          '`conversation:updated`. An invitee who declines a group keeps receiving nothing of it; ' +
          'the group is not told.',
    tag: 'conversations',
    path: conversationId,
    answers: { 200: { description: 'The conversation now.', schema: conversationDtoSchema } },
    errors: [...AUTHED, 404, 409],
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
      description:
        'Each with its last message, read positions and unread count; cursor-paged. ' +
        '`box=requests` lists the message requests strangers sent the caller (pending ones), ' +
        'which the inbox leaves out until they are accepted or answered.',
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
  '/conversations/{id}/accept': { post: answerRequest('accept') },
  '/conversations/{id}/decline': { post: answerRequest('decline') },
  '/conversations/{id}/leave': {
    post: operation({
      operationId: 'leaveConversation',
      summary: 'Leave a group',
      description:
        'Any member, invitees included. From then on nothing of the group reaches the caller, ' +
        'live or through `sync` (NOT_A_MEMBER). The last owner hands it over (`handOverTo`, a ' +
        'member who joined) or, without it, the group is archived. A direct conversation is not ' +
        'left (409): decline it or block.',
      tag: 'conversations',
      path: conversationId,
      body: leaveBodySchema,
      answers: {
        200: {
          description: 'Left.',
          schema: z.object({ left: z.literal(true) }).meta({ id: 'LeftConversation' }),
        },
      },
      errors: [...AUTHED, ...JSON_BODY, 404, 409],
    }),
  },
  '/conversations/{id}/messages/{messageId}': {
    patch: operation({
      operationId: 'editMessage',
      summary: 'Edit my message',
      description:
        'Own messages only, within TRUST_EDIT_WINDOW_MS of sending (EDIT_WINDOW_PASSED after), ' +
        'refused wherever a send is (BLOCKED, REQUEST_DECLINED, REQUEST_PENDING: an edit by the ' +
        'opener of a pending request takes one of its allowance). Every device of every member gets `message:updated`; a device that ' +
        'was offline gets it from `sync`.',
      tag: 'conversations',
      path: messageRef,
      body: editMessageBodySchema,
      answers: { 200: { description: 'The message as edited.', schema: messageDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403, 404, 409],
    }),
    delete: operation({
      operationId: 'deleteMessage',
      summary: 'Delete my message',
      description:
        'Own messages, at any time: the body leaves storage and a tombstone (body empty, ' +
        '`deletedAt`) keeps its place, live (`message:updated`) and in history and `sync`. ' +
        'Deleting it again answers the same tombstone.',
      tag: 'conversations',
      path: messageRef,
      answers: { 200: { description: 'The tombstone.', schema: messageDtoSchema } },
      errors: [...AUTHED, 400, 403, 404],
    }),
  },
};
