import { idSchema, messageDtoSchema, reactBodySchema } from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';

const messageRef = z.object({
  id: idSchema.meta({ description: 'The conversation id.' }),
  messageId: idSchema.meta({ description: 'The message id.' }),
});

/** The REST routes of reactions.controller.ts. */
export const reactionPaths: ZodOpenApiPathsObject = {
  '/conversations/{id}/messages/{messageId}/reactions': {
    post: operation({
      operationId: 'reactToMessage',
      summary: 'Put my reaction on a message, or take it off',
      description:
        '`on: true` puts it on, `on: false` takes it off; repeating either changes nothing. One ' +
        'emoji grapheme (or one of REACTIONS_ALLOWED), at most REACTIONS_PER_PERSON (3) per ' +
        'person and REACTIONS_PER_MESSAGE (20) different ones per message (CONFLICT past them). ' +
        'Refused where typing is (BLOCKED, REQUEST_PENDING...). Members get `message:reacted`; ' +
        'the message takes a new version, so a device that was away gets it from `sync`.',
      tag: 'conversations',
      path: messageRef,
      body: reactBodySchema,
      answers: {
        200: { description: 'The message with its reactions now.', schema: messageDtoSchema },
      },
      errors: [...AUTHED, ...JSON_BODY, 403, 404, 409],
    }),
  },
};
