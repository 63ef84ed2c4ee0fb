import {
  deliveredResultSchema,
  markDeliveredSchema,
  settingsDtoSchema,
  settingsUpdateSchema,
} from '@jobsphere/chat-domain';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';

/** The routes of receipts.controller.ts. */
export const receiptsPaths: ZodOpenApiPathsObject = {
  '/delivered': {
    post: operation({
      operationId: 'markDelivered',
      summary: 'Acknowledge what a device holds ("delivered")',
      description:
        'Per conversation, the highest seq this device has; many conversations in one call (the ' +
        'SDK batches and debounces). A position moves forward only, never past the newest ' +
        'message, and one that moves nothing changes and tells nothing. The other members get ' +
        '`conversation:delivered` unless either side turned receipts off. Conversations the ' +
        'caller is not a member of are left out of the answer. Socket: `conversation:delivered`.',
      tag: 'receipts',
      body: markDeliveredSchema.meta({ id: 'MarkDelivered' }),
      answers: { 200: { description: 'Your positions now.', schema: deliveredResultSchema } },
      errors: [...AUTHED, ...JSON_BODY],
    }),
  },
  '/me/settings': {
    get: operation({
      operationId: 'getSettings',
      summary: 'My settings',
      tag: 'receipts',
      answers: { 200: { description: 'The settings.', schema: settingsDtoSchema } },
      errors: [...AUTHED],
    }),
    patch: operation({
      operationId: 'updateSettings',
      summary: 'Change my settings',
      description:
        '`receipts: false` turns read and delivered receipts off both ways: nobody sees your ' +
        'positions and you see nobody’s (0 in every view, no `conversation:read`/`delivered` ' +
        'events either way). Your other devices get `settings:updated`. Socket: `settings:update`.',
      tag: 'receipts',
      body: settingsUpdateSchema,
      answers: { 200: { description: 'The settings now.', schema: settingsDtoSchema } },
      errors: [...AUTHED, ...JSON_BODY],
    }),
  },
};
