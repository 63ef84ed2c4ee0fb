import {
  LIMITS,
  TEMPLATE_LIMITS,
  TEMPLATE_NAMESPACES,
  conversationVariablesResultSchema,
  conversationVariablesSchema,
  createTemplateSchema,
  idSchema,
  scheduledSendDtoSchema,
  sendResultSchema,
  templateDtoSchema,
  templateListSchema,
  templatePatchSchema,
  templatePreviewResultSchema,
  templatePreviewSchema,
  templateScheduleSchema,
  templateSendSchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';
import { serviceOperation } from '../service/service.openapi.js';

// Operation ids start with `template` (people) and `serviceTemplate` (the server API): their
// answers are proven by contract-templates.e2e.spec.ts.

const SERVICE = [401, 403, 429, 500, 503] as const;
const templateRef = z.object({ id: z.string().max(64).meta({ description: 'The template id.' }) });
const companyRef = z.object({ companyId: idSchema.meta({ description: 'The company id.' }) });
const companyTemplateRef = companyRef.extend(templateRef.shape);
const conversationRef = z.object({ id: idSchema.meta({ description: 'The conversation id.' }) });

const RECRUITERS =
  'For recruiters (a candidate is refused FORBIDDEN): their own templates and, when their token ' +
  'names a company (`JWT_COMPANY_CLAIM`), the company’s.';
const FILL =
  `Variables are \`{{namespace.key}}\` (namespace ${TEMPLATE_NAMESPACES.join(', ')}), filled ` +
  'from the values the platform set for the conversation; a variable without a value is refused ' +
  'INVALID_PAYLOAD naming it (nothing is stored); values are inserted as they are, never ' +
  `expanded again; the filled text must fit a message (${LIMITS.maxBodyLength} characters).`;

export const templatePaths: ZodOpenApiPathsObject = {
  '/templates': {
    get: operation({
      operationId: 'templateList',
      summary: 'My templates and my company’s',
      description: `${RECRUITERS} By name; \`scope\` says whose.`,
      tag: 'conversations',
      answers: { 200: { description: 'The list.', schema: templateListSchema } },
      errors: [...AUTHED, 403],
    }),
    post: operation({
      operationId: 'templateCreate',
      summary: 'Keep a template',
      description:
        `${RECRUITERS} A name unique among mine (ignoring case; CONFLICT otherwise), a text ` +
        `with at most ${TEMPLATE_LIMITS.maxVariablesPerTemplate} distinct variables; an unknown ` +
        `variable or a stray \`{{\` is refused. At most ${TEMPLATE_LIMITS.maxPerRecruiter} per ` +
        'recruiter (TEMPLATE_QUOTA_EXCEEDED, 429, beyond).',
      tag: 'conversations',
      body: createTemplateSchema,
      answers: { 201: { description: 'Kept.', schema: templateDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403, 409],
    }),
  },
  '/templates/{id}': {
    patch: operation({
      operationId: 'templateUpdate',
      summary: 'Rename or rewrite one of my templates',
      description: 'Mine only (a company’s is the platform’s): NOT_FOUND otherwise.',
      tag: 'conversations',
      path: templateRef,
      body: templatePatchSchema,
      answers: { 200: { description: 'As changed.', schema: templateDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403, 404, 409],
    }),
    delete: operation({
      operationId: 'templateDelete',
      summary: 'Delete one of my templates',
      tag: 'conversations',
      path: templateRef,
      answers: { 204: { description: 'Deleted.' } },
      errors: [...AUTHED, 403, 404],
    }),
  },
  '/templates/{id}/send': {
    post: operation({
      operationId: 'templateSend',
      summary: 'Send a template to a conversation, filled',
      description:
        `${FILL} The filled text is an ordinary message: the content policy, the pre-send hook, ` +
        'bans, slow mode, blocks and requests decide as for any send, and members get ' +
        '`message:new`. Idempotent by `clientMessageId`: a retry answers 200 with the stored one.',
      tag: 'conversations',
      path: templateRef,
      body: templateSendSchema,
      answers: {
        201: { description: 'Stored.', schema: sendResultSchema },
        200: { description: 'That clientMessageId was stored before.', schema: sendResultSchema },
      },
      errors: [...AUTHED, ...JSON_BODY, 403, 404, 422],
    }),
  },
  '/templates/{id}/schedule': {
    post: operation({
      operationId: 'templateSchedule',
      summary: 'Schedule a template, filled now',
      description:
        `${FILL} Filled when scheduled: the list of scheduled sends shows the text that will go ` +
        '(editable until it goes); it goes like any scheduled send (decided then).',
      tag: 'conversations',
      path: templateRef,
      body: templateScheduleSchema,
      answers: { 201: { description: 'Scheduled.', schema: scheduledSendDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403, 404],
    }),
  },
  '/templates/{id}/preview': {
    post: operation({
      operationId: 'templatePreview',
      summary: 'The text a template would send to a conversation',
      description: `${FILL} Nothing is stored.`,
      tag: 'conversations',
      path: templateRef,
      body: templatePreviewSchema,
      answers: { 200: { description: 'The filled text.', schema: templatePreviewResultSchema } },
      errors: [...AUTHED, ...JSON_BODY, 403, 404],
    }),
  },
  '/service/v1/companies/{companyId}/templates': {
    get: serviceOperation('templates:write', {
      operationId: 'serviceTemplateList',
      summary: 'A company’s templates',
      description: 'By name.',
      path: companyRef,
      answers: { 200: { description: 'The list.', schema: templateListSchema } },
      errors: [...SERVICE, 400],
    }),
    post: serviceOperation('templates:write', {
      operationId: 'serviceTemplateCreate',
      summary: 'Keep a template for a company',
      description:
        'Its recruiters (tokens naming the company) may use it. A name unique in the company ' +
        `(CONFLICT otherwise); at most ${TEMPLATE_LIMITS.maxPerCompany} per company ` +
        '(TEMPLATE_QUOTA_EXCEEDED, 429).',
      path: companyRef,
      body: createTemplateSchema,
      answers: { 201: { description: 'Kept.', schema: templateDtoSchema } },
      errors: [...SERVICE, ...JSON_BODY, 409],
    }),
  },
  '/service/v1/companies/{companyId}/templates/{id}': {
    patch: serviceOperation('templates:write', {
      operationId: 'serviceTemplateUpdate',
      summary: 'Rename or rewrite a company’s template',
      path: companyTemplateRef,
      body: templatePatchSchema,
      answers: { 200: { description: 'As changed.', schema: templateDtoSchema } },
      errors: [...SERVICE, ...JSON_BODY, 404, 409],
    }),
    delete: serviceOperation('templates:write', {
      operationId: 'serviceTemplateDelete',
      summary: 'Delete a company’s template',
      path: companyTemplateRef,
      answers: { 204: { description: 'Deleted.' } },
      errors: [...SERVICE, 400, 404],
    }),
  },
  '/service/v1/conversations/{id}/template-variables': {
    put: serviceOperation('conversations:write', {
      operationId: 'serviceTemplateVariablesSet',
      summary: 'Set the values templates take in a conversation',
      description:
        `Replaces them all: up to ${TEMPLATE_LIMITS.maxConversationVariables} values by ` +
        `variable name, each one line of up to ${TEMPLATE_LIMITS.maxValueLength} characters.`,
      path: conversationRef,
      body: conversationVariablesSchema,
      answers: { 200: { description: 'As set.', schema: conversationVariablesResultSchema } },
      errors: [...SERVICE, ...JSON_BODY, 404],
    }),
    get: serviceOperation('conversations:write', {
      operationId: 'serviceTemplateVariablesGet',
      summary: 'The values templates take in a conversation',
      path: conversationRef,
      answers: { 200: { description: 'The values.', schema: conversationVariablesResultSchema } },
      errors: [...SERVICE, 400, 404],
    }),
  },
};
