import {
  RESPONSE_TIME_LIMITS,
  conversationResponseTimesSchema,
  idSchema,
  subjectResponseTimesSchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { type OperationSpec } from '../openapi/openapi.operation.js';
import { serviceOperation } from '../service/service.openapi.js';

const SERVICE = [401, 403, 429, 500, 503] as const;
const statsOperation = (spec: Omit<OperationSpec, 'tag' | 'bearer'>) =>
  serviceOperation('stats:read', spec);

const ref = (what: string) => z.object({ id: idSchema.meta({ description: what }) });
const WINDOW =
  `Over the last ${RESPONSE_TIME_LIMITS.windowDays} days (UTC, today included), or ` +
  `${RESPONSE_TIME_LIMITS.fallbackWindowDays} when those hold fewer than ` +
  `${RESPONSE_TIME_LIMITS.minSamples} answers. An answer is a recruiter's message in a direct ` +
  'conversation where a candidate waits (since their earliest unanswered message); outreach, ' +
  'groups and system messages never count. Medians read from log-scale histograms: within ' +
  '±9.1 % (±0.5 s below 1 s).';

/** The routes of response-times.controller.ts. */
export const responseTimePaths: ZodOpenApiPathsObject = {
  '/service/v1/conversations/{id}/response-times': {
    get: statsOperation({
      operationId: 'serviceConversationResponseTimes',
      summary: 'A conversation’s response times',
      description:
        'Time to first answer, whether (and since when) a candidate waits, and the latest ' +
        `${RESPONSE_TIME_LIMITS.samplesPerConversation} answers’ times (exact). Empty figures ` +
        'for a conversation nobody waited in.',
      path: ref('The conversation id.'),
      answers: { 200: { description: 'The figures.', schema: conversationResponseTimesSchema } },
      errors: [...SERVICE, 400, 404],
    }),
  },
  '/service/v1/recruiters/{id}/response-times': {
    get: statsOperation({
      operationId: 'serviceRecruiterResponseTimes',
      summary: 'A recruiter’s median response time',
      description: WINDOW,
      path: ref('The recruiter’s user id.'),
      answers: { 200: { description: 'The figures.', schema: subjectResponseTimesSchema } },
      errors: [...SERVICE, 400],
    }),
  },
  '/service/v1/companies/{id}/response-times': {
    get: statsOperation({
      operationId: 'serviceCompanyResponseTimes',
      summary: 'A company’s median response time',
      description: `${WINDOW} A company is the one in the answering recruiter's token when the answer was written.`,
      path: ref('The company id (the token claim JWT_COMPANY_CLAIM).'),
      answers: { 200: { description: 'The figures.', schema: subjectResponseTimesSchema } },
      errors: [...SERVICE, 400],
    }),
  },
};
