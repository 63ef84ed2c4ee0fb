import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { operation } from '../openapi/openapi.operation.js';

/** metrics.controller.ts: only on the main port outside production. */
export const metricsPaths: ZodOpenApiPathsObject = {
  '/metrics': {
    get: operation({
      operationId: 'getMetrics',
      summary: 'Prometheus metrics (not on the public port in production)',
      description:
        'On the main port in development and test. In production it is served only by a ' +
        'separate listener (METRICS_PORT, default 9464 on 127.0.0.1) for the scraper.',
      tag: 'operations',
      bearer: false,
      answers: {
        200: {
          description: 'Prometheus text exposition format 0.0.4.',
          schema: z.string(),
          contentType: 'text/plain',
        },
      },
      errors: [500],
    }),
  },
};
