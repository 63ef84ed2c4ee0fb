import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { createDocument, type oas31, type ZodOpenApiPathsObject } from 'zod-openapi';
import { attachmentPaths } from '../attachments/attachments.openapi.js';
import { chatPaths } from '../chat/chat.openapi.js';
import { reactionPaths } from '../chat/reactions.openapi.js';
import { healthPaths } from '../health/health.openapi.js';
import { metricsPaths } from '../metrics/metrics.openapi.js';
import { organisationPaths } from '../organisation/organisation.openapi.js';
import { receiptsPaths } from '../receipts/receipts.openapi.js';
import { searchPaths } from '../search/search.openapi.js';
import { adminPaths, trustPaths } from '../trust/trust.openapi.js';
import { servicePaths } from '../service/service.openapi.js';
import { hiringPaths } from '../hiring/hiring.openapi.js';
import { responseTimePaths } from '../hiring/response-times.openapi.js';
import { templatePaths } from '../hiring/templates.openapi.js';
import { devTokenPaths } from '../try/dev-token.openapi.js';
import { operation } from './openapi.operation.js';

// The same relative path from src/openapi and dist/openapi.
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const openApiPaths: ZodOpenApiPathsObject = {
  '/openapi.json': {
    get: operation({
      operationId: 'getOpenApiDocument',
      summary: 'This document (development and test only)',
      description:
        'Not served in production: generate clients from docs/openapi.json in the repository.',
      tag: 'development',
      bearer: false,
      answers: {
        200: { description: 'OpenAPI 3.1.', schema: z.record(z.string(), z.unknown()) },
      },
      errors: [429, 500],
    }),
  },
};

/**
 * The REST contract, built from the zod schemas the server validates requests with and types
 * its answers with. Each controller's routes are documented beside it (`<name>.openapi.ts`).
 */
export function buildOpenApiDocument(): oas31.OpenAPIObject {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'JobSphere Chat gateway',
      version,
      description:
        'The REST side of the JobSphere Chat gateway. Realtime (sending messages, sync, read ' +
        'receipts, typing, presence) is Socket.IO on the same origin, websocket transport, with ' +
        'the token in the handshake `auth`; its events are typed in @jobsphere/chat-domain and ' +
        'listed in docs/protocol.md. Every error is `{ error: { code, message, issues?, retryAfterMs? ' +
        '} }` with a stable code (ErrorCode).',
    },
    servers: [
      // infra/src/config/environments.ts names these domains.
      { url: 'https://chat.jobsphere.com', description: 'production' },
      { url: 'https://chat.dev.jobsphere.com', description: 'dev environment' },
      { url: 'http://localhost:4000', description: 'local: `pnpm dev`' },
    ],
    security: [{ bearer: [] }],
    tags: [
      { name: 'conversations', description: 'Conversations and their history.' },
      { name: 'trust', description: 'Blocking people and reporting them to moderators.' },
      { name: 'receipts', description: 'Delivered receipts and the receipt privacy setting.' },
      { name: 'moderation', description: 'Reports and deletions, for the admin role only.' },
      { name: 'attachments', description: 'Upload slots and download links for files.' },
      { name: 'health', description: 'Load balancer, readiness and liveness checks.' },
      { name: 'operations', description: 'For the metrics scraper.' },
      { name: 'development', description: 'Development and test only; absent in production.' },
      {
        name: 'service',
        description:
          "The server API for JobSphere's backend (service tokens with scopes, never a user's).",
      },
    ],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'The access token of the identity service: HS256 with JWT_SECRET, or RS256/ES256 from the provider JWKS (JWT_JWKS_URL), issuer and audience checked; user id and role from the configured claims (docs/identity.md).',
        },
        serviceToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A service token: HS256 with SERVICE_TOKEN_SECRET, `aud` SERVICE_TOKEN_AUDIENCE, ' +
            '`sub` the calling service, `token_use: "service"`, `scope` space-separated, `exp`. ' +
            'Refused on sockets and user routes; user tokens are refused here.',
        },
      },
    },
    paths: {
      ...chatPaths,
      ...reactionPaths,
      ...trustPaths,
      ...receiptsPaths,
      ...organisationPaths,
      ...searchPaths,
      ...adminPaths,
      ...servicePaths,
      ...hiringPaths,
      ...responseTimePaths,
      ...templatePaths,
      ...attachmentPaths,
      ...healthPaths,
      ...metricsPaths,
      ...openApiPaths,
      ...devTokenPaths,
    },
  });
}

/** The committed form (docs/openapi.json): what the `openapi` script writes. */
export function serializeOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
