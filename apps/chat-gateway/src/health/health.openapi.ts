import { healthReportSchema, livenessSchema, targetHealthSchema } from '@jobsphere/chat-domain';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { operation } from '../openapi/openapi.operation.js';

/** The three questions of health.controller.ts. Never budgeted, never authenticated. */
export const healthPaths: ZodOpenApiPathsObject = {
  '/health': {
    get: operation({
      operationId: 'getTargetHealth',
      summary: 'Load balancer target check: is this instance fit to serve?',
      description:
        'Fails (503) only for what is wrong with this instance: draining after SIGTERM, or its ' +
        'heap nearly exhausted. The store and Redis are reported under `dependencies` but never ' +
        'fail it: a shared dependency failing over looks the same on every instance, and ' +
        'replacing them all would turn a failover into an outage.',
      tag: 'health',
      bearer: false,
      answers: {
        200: { description: 'Fit to serve.', schema: targetHealthSchema },
        503: {
          description: 'Draining or unfit: take it out of rotation.',
          schema: targetHealthSchema,
        },
      },
      errors: [500],
    }),
  },
  '/health/ready': {
    get: operation({
      operationId: 'getReadiness',
      summary: 'Dependencies: can this instance do everything right now?',
      description:
        'Fails (503) while the store or Redis does not answer within 1 s, or while draining. ' +
        'For operators, alarms and the local stack, not for the load balancer.',
      tag: 'health',
      bearer: false,
      answers: {
        200: { description: 'Every check is up.', schema: healthReportSchema },
        503: { description: 'A check is down (see `error`).', schema: healthReportSchema },
      },
      errors: [500],
    }),
  },
  '/health/live': {
    get: operation({
      operationId: 'getLiveness',
      summary: 'The process answers',
      description: 'Nothing else is checked: never depends on Redis or the store.',
      tag: 'health',
      bearer: false,
      answers: { 200: { description: 'Alive.', schema: livenessSchema } },
      errors: [],
    }),
  },
};
