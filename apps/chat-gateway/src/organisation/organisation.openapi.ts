import { idSchema, organiseBodySchema, organisedDtoSchema } from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';

const conversationId = z.object({ id: idSchema.meta({ description: 'The conversation id.' }) });

/** The routes of organisation.controller.ts. */
export const organisationPaths: ZodOpenApiPathsObject = {
  '/conversations/{id}/me': {
    patch: operation({
      operationId: 'organiseConversation',
      summary: 'Mute, pin, archive or mark unread a conversation, for me only',
      description:
        'Per person, nobody else sees it. Muted: no offline notification, left out of ' +
        '`totalUnread`, still listed. Pinned: listed first in the inbox, at most 10 (409 past ' +
        'the cap, nothing changed). Archived: out of the inbox (`box=archived` lists it) until a ' +
        'new message arrives, unless muted; pinning unarchives and archiving unpins. `unread`: ' +
        'marked unread until read. Your other devices get `conversation:organised`; `sync` ' +
        'carries it too. Socket: `conversation:organise`.',
      tag: 'conversations',
      path: conversationId,
      body: organiseBodySchema,
      answers: { 200: { description: 'My organisation now.', schema: organisedDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 404, 409],
    }),
  },
};
