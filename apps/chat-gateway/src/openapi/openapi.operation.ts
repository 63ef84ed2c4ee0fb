import { ErrorCode, errorResponseSchema } from '@jobsphere/chat-domain';
import { z } from 'zod';
import {
  type ZodOpenApiOverrideMeta,
  type ZodOpenApiOperationObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { HTTP_STATUS } from '../common/error-table.js';

/** Every error status a REST route can answer (see error-table.ts and http-exception.filter.ts). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 429 | 500 | 503;

// Presets for the common cases; list the rest explicitly.
/** Behind the bearer guard and the budgets, backed by the store. */
export const AUTHED: ErrorStatus[] = [401, 429, 500, 503];
/** Takes a JSON body: malformed or invalid (400), too large (413), not JSON (415). */
export const JSON_BODY: ErrorStatus[] = [400, 413, 415];

export type Tag =
  | 'conversations'
  | 'attachments'
  | 'trust'
  | 'receipts'
  | 'moderation'
  | 'health'
  | 'operations'
  | 'development'
  | 'service';

export interface OperationSpec {
  operationId: string;
  summary: string;
  description?: string;
  tag: Tag;
  /** Needs `Authorization: Bearer <token>` (default true). */
  bearer?: boolean;
  path?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The success answers (and health's 503), each with its body (none for a 204). */
  answers: Partial<Record<200 | 201 | 202 | 204 | 503, Answer>>;
  /** The error statuses this route answers with the Error body. */
  errors: ErrorStatus[];
}

export interface Answer {
  description: string;
  /** The body; leave out for an answer without one. */
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
}

// Socket-only codes share the error table but never come out of a REST route.
const SOCKET_ONLY = new Set<ErrorCode>([
  ErrorCode.UnknownEvent,
  ErrorCode.TooManyConnections,
  ErrorCode.UnsupportedProtocol,
]);

const ERRORS: Record<ErrorStatus, { id: string; description: string }> = {
  400: {
    id: 'BadRequest',
    description: 'The JSON, a body field or a query parameter is invalid; `issues` lists each one.',
  },
  401: {
    id: 'Unauthorized',
    description: 'Missing, invalid or expired bearer token: get a fresh one and retry once.',
  },
  403: {
    id: 'Forbidden',
    description:
      "Not allowed: for the caller's role, or by a trust rule (a block between the two people, " +
      'a message request waiting for its answer or declined, the edit window passed, a message ' +
      'of someone else), or BANNED: a moderator banned the caller.',
  },
  404: {
    id: 'NotFound',
    description:
      'No such conversation (or message, report) for the caller: the same answer whether it ' +
      'exists or not, so ids cannot be probed.',
  },
  409: {
    id: 'Conflict',
    description:
      'The change collides with the current state (no request to answer, a message deleted ' +
      'meanwhile): look again.',
  },
  410: {
    id: 'Gone',
    description: 'What was asked for closed for good (an action message past its expiry).',
  },
  413: { id: 'PayloadTooLarge', description: 'The body is over HTTP_MAX_BODY_BYTES (64 KiB).' },
  415: { id: 'UnsupportedMediaType', description: 'A body that is not application/json.' },
  422: {
    id: 'ContentRejected',
    description:
      'The content policy or the platform’s pre-send hook refused the text (`reason` says why); ' +
      'nothing was stored.',
  },
  429: {
    id: 'TooManyRequests',
    description:
      'A budget is spent (per user, and per client IP): retry after `Retry-After` seconds ' +
      '(`retryAfterMs` in the body is the exact wait). A quota, with no `Retry-After` (no wait ' +
      'helps until something is used or deleted): UPLOAD_QUOTA_EXCEEDED, the person holds as ' +
      'many uploads not yet sent as they may; SCHEDULE_QUOTA_EXCEEDED, as many scheduled sends ' +
      'waiting; TEMPLATE_QUOTA_EXCEEDED, as many templates. SLOW_MODE: the conversation ' +
      'allows one message per member every N seconds (`retryAfterMs`).',
  },
  500: { id: 'InternalError', description: 'A bug. The message never carries internals.' },
  503: {
    id: 'Unavailable',
    description:
      'The store did not answer in time: retry. Nothing was acknowledged, though a write may ' +
      'still land (opening a direct conversation and marking read are safe to repeat).',
  },
};

const HEADERS: Partial<Record<ErrorStatus, ZodOpenApiResponseObject['headers']>> = {
  401: z.object({
    'WWW-Authenticate': z.string().meta({
      description:
        'RFC 6750: `Bearer realm="jobsphere-chat"`, with `error="invalid_token"` when one was sent.',
    }),
  }),
  429: z.object({
    'Retry-After': z
      .int()
      .min(1)
      .optional()
      .meta({ description: 'Seconds to wait before retrying (absent on a quota answer).' }),
  }),
};

/** The codes that come with a status, from the one error table. */
export function codesFor(status: ErrorStatus): ErrorCode[] {
  return (Object.entries(HTTP_STATUS) as [ErrorCode, number][])
    .filter(([code, s]) => s === status && !SOCKET_ONLY.has(code))
    .map(([code]) => code);
}

/** An object that constrains some properties and says nothing about the others (for allOf). */
const openEnded: ZodOpenApiOverrideMeta = ({ jsonSchema }) => {
  delete jsonSchema.additionalProperties;
};
const partial = (shape: z.ZodRawShape) => z.object(shape).meta({ override: openEnded });

/** The Error body, its `code` narrowed to the codes of that status. */
function errorResponse(status: ErrorStatus): ZodOpenApiResponseObject {
  const codes = codesFor(status);
  const { id, description } = ERRORS[status];
  const headers = HEADERS[status];
  return {
    id,
    description: `${description} Codes: ${codes.join(', ')}.`,
    ...(headers && { headers }),
    content: {
      'application/json': {
        schema: z.intersection(
          errorResponseSchema,
          partial({ error: partial({ code: z.enum(codes as [ErrorCode]) }) }),
        ),
      },
    },
  };
}

const ERROR_RESPONSES = Object.fromEntries(
  (Object.keys(ERRORS) as `${ErrorStatus}`[]).map((s) => [
    s,
    errorResponse(Number(s) as ErrorStatus),
  ]),
) as Record<`${ErrorStatus}`, ZodOpenApiResponseObject>;

/** One OpenAPI operation: the spec's answers plus the shared error responses it lists. */
export function operation(spec: OperationSpec): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, answer] of Object.entries(spec.answers) as [`${2 | 5}${string}`, Answer][]) {
    responses[status] = {
      description: answer.description,
      ...(answer.schema && {
        content: { [answer.contentType ?? 'application/json']: { schema: answer.schema } },
      }),
    };
  }
  for (const status of [...new Set(spec.errors)].sort())
    responses[`${status}`] = ERROR_RESPONSES[`${status}`];
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description && { description: spec.description }),
    tags: [spec.tag],
    ...(spec.bearer === false && { security: [] }),
    ...((spec.path || spec.query) && {
      requestParams: {
        ...(spec.path && { path: spec.path }),
        ...(spec.query && { query: spec.query }),
      },
    }),
    ...(spec.body && {
      requestBody: { required: true, content: { 'application/json': { schema: spec.body } } },
    }),
    responses,
  };
}
