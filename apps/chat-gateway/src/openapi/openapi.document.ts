import {
  createConversationSchema,
  historyQuerySchema,
  listConversationsQuerySchema,
  markReadBodySchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';

// The request schemas are the ones the controller validates with, so the document
// cannot drift from what the server accepts.
const json = (schema: z.ZodType): Record<string, unknown> =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

function queryParameters(schema: z.ZodType) {
  const js = json(schema) as { properties?: Record<string, object> };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: false,
    schema: s,
  }));
}

const error = { $ref: '#/components/schemas/Error' };
const errors = Object.fromEntries(
  [
    ['400', 'INVALID_PAYLOAD'],
    ['401', 'UNAUTHORIZED'],
    ['404', 'NOT_A_MEMBER or NOT_FOUND'],
    ['429', 'RATE_LIMITED (Retry-After header)'],
    ['503', 'UNAVAILABLE'],
  ].map(
    ([status, description]) =>
      [status!, { description, content: { 'application/json': { schema: error } } }] as const,
  ),
);
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const ok = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});

export function buildOpenApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'JobSphere Chat gateway',
      version,
      description:
        'REST side of the chat gateway. Realtime events (message:send, sync, conversation:read, typing, presence) are Socket.IO events, documented in the README.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                issues: { type: 'array', items: { type: 'object' } },
                retryAfterMs: { type: 'number' },
              },
            },
          },
        },
      },
    },
    paths: {
      '/conversations': {
        post: {
          summary:
            'Open a direct conversation (idempotent per pair and job context) or create a group',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: json(createConversationSchema) } },
          },
          responses: {
            '201': ok('created'),
            '200': ok('the direct conversation already existed'),
            ...errors,
          },
        },
        get: {
          summary: 'My conversations, most recent first, with last message and unread counts',
          parameters: queryParameters(listConversationsQuerySchema),
          responses: { '200': ok('{ conversations, nextCursor?, totalUnread }'), ...errors },
        },
      },
      '/conversations/{id}': {
        get: {
          summary: 'One conversation',
          parameters: [idParam],
          responses: { '200': ok('conversation'), ...errors },
        },
      },
      '/conversations/{id}/messages': {
        get: {
          summary: 'Message history: before or after a seq, ascending order',
          parameters: [idParam, ...queryParameters(historyQuerySchema)],
          responses: { '200': ok('{ messages, hasMore }'), ...errors },
        },
      },
      '/conversations/{id}/read': {
        post: {
          summary: 'Move my read position forward',
          parameters: [idParam],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: json(markReadBodySchema) } },
          },
          responses: { '200': ok('{ conversationId, lastReadSeq, unreadCount }'), ...errors },
        },
      },
      '/health': {
        get: {
          summary: 'Readiness for the load balancer (Terminus body)',
          security: [],
          responses: { '200': ok('up'), '503': ok('down') },
        },
      },
      '/health/live': {
        get: { summary: 'Liveness', security: [], responses: { '200': ok('alive') } },
      },
    },
  };
}
