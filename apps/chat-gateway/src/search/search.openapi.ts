import { SEARCH_LIMITS, searchPageSchema, searchQuerySchema } from '@jobsphere/chat-domain';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, operation } from '../openapi/openapi.operation.js';

/** The routes of search.controller.ts. */
export const searchPaths: ZodOpenApiPathsObject = {
  '/search': {
    get: operation({
      operationId: 'searchMessages',
      summary: 'Find messages by words, newest first',
      description:
        `Messages holding every word of \`q\` (case and accents ignored; whole words), in your ` +
        `${SEARCH_LIMITS.maxConversations} most recently active conversations or in ` +
        '`conversationId` only, each with the matched words’ ranges. Deleted and erased ' +
        'messages never match; a request you received is searched only once you accept it; in ' +
        'groups, nothing from someone behind a block. Regular-expression characters, more than ' +
        `${SEARCH_LIMITS.maxTerms} words or ${SEARCH_LIMITS.maxQueryLength} characters: 400.`,
      tag: 'conversations',
      query: searchQuerySchema,
      answers: { 200: { description: 'A page of hits.', schema: searchPageSchema } },
      errors: [...AUTHED, 400, 404],
    }),
  },
};
