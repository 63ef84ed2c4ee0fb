import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { JSON_BODY, operation } from '../openapi/openapi.operation.js';
import { devTokenRequestSchema, devTokenSchema } from './dev-token.schema.js';

/** dev-token.controller.ts. The try page (/try) is a browser page, not part of the API. */
export const devTokenPaths: ZodOpenApiPathsObject = {
  '/dev/token': {
    post: operation({
      operationId: 'mintDevToken',
      summary: 'Mint a token for any identity (development only)',
      description:
        'Exists only when NODE_ENV is development or test and the public development secret is ' +
        'in use: never in production, where tokens come from the JobSphere identity service.',
      tag: 'development',
      bearer: false,
      body: devTokenRequestSchema,
      answers: { 200: { description: 'A token for that identity.', schema: devTokenSchema } },
      errors: [...JSON_BODY, 429, 500],
    }),
  },
};
