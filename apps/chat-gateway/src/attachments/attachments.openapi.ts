import {
  ATTACHMENT_TYPES,
  downloadLinkSchema,
  idSchema,
  uploadRequestSchema,
  uploadSlotSchema,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { type ZodOpenApiPathsObject } from 'zod-openapi';
import { AUTHED, JSON_BODY, operation } from '../openapi/openapi.operation.js';
import { LOCAL_FILES_PATH, LOCAL_UPLOAD_PATH } from './local.storage.js';

const types = Object.keys(ATTACHMENT_TYPES).join(', ');

/** The download's 200 carries the file in its own (accepted) type. */
function withFileAnswer(spec: Parameters<typeof operation>[0]) {
  const documented = operation(spec);
  const file = { schema: z.string().meta({ format: 'binary' }) };
  return {
    ...documented,
    responses: {
      ...documented.responses,
      200: {
        description: 'The file, as the type it was uploaded as.',
        content: Object.fromEntries(Object.keys(ATTACHMENT_TYPES).map((t) => [t, file])),
      },
    },
  };
}

/** The routes of attachments.controller.ts and, in local mode, local-files.controller.ts. */
export const attachmentPaths: ZodOpenApiPathsObject = {
  '/attachments': {
    post: operation({
      operationId: 'requestUpload',
      summary: 'An upload slot for one file',
      description:
        `For a member of the conversation: a file of an accepted type (${types}) whose name ` +
        "ends as the type wants, up to ATTACHMENTS_MAX_BYTES (10 MiB). POST the slot's form " +
        "to its URL (S3's presigned POST, or the gateway's own folder in the embedded default), " +
        'then send a message with the id in `attachmentIds`. An upload no message references ' +
        'expires (ATTACHMENTS_PENDING_TTL_MS, 24 h). Budget: RATE_LIMIT_UPLOADS_PER_HOUR; at most ' +
        'ATTACHMENTS_PENDING_MAX_FILES (10) uploads and ATTACHMENTS_PENDING_MAX_BYTES (50 MiB) not ' +
        'yet sent per person (429 UPLOAD_QUOTA_EXCEEDED). Names with control, format or bidi ' +
        'characters are refused. Deleting the message (or erasing its sender) deletes the file.',
      tag: 'attachments',
      body: uploadRequestSchema,
      answers: { 201: { description: 'The slot.', schema: uploadSlotSchema } },
      errors: [...AUTHED, ...JSON_BODY, 404],
    }),
  },
  '/conversations/{id}/attachments/{attachmentId}': {
    get: operation({
      operationId: 'getAttachmentLink',
      summary: 'A short-lived download link',
      description:
        'For members only, for a file a message of this conversation carries; the link answers ' +
        'with Content-Disposition: attachment and expires after ATTACHMENTS_DOWNLOAD_TTL_MS (5 min).',
      tag: 'attachments',
      path: z.object({
        id: idSchema.meta({ description: 'The conversation id.' }),
        attachmentId: idSchema,
      }),
      answers: { 200: { description: 'The link.', schema: downloadLinkSchema } },
      errors: [...AUTHED, 404],
    }),
  },
  [LOCAL_UPLOAD_PATH]: {
    post: {
      ...operation({
        operationId: 'uploadLocalFile',
        summary: 'Upload to the local folder (embedded default only)',
        description:
          "What an upload slot's URL points to when no bucket is set: the slot's fields, then " +
          'the file (`file`, last). The signature, the expiry, the type and the exact size are ' +
          'checked; a file past its size is cut off.',
        tag: 'attachments',
        bearer: false,
        answers: { 204: { description: 'Stored.' } },
        errors: [400, 403, 413, 415, 429],
      }),
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: z.object({ file: z.string().meta({ format: 'binary' }) }).catchall(z.string()),
          },
        },
      },
    },
  },
  [`${LOCAL_FILES_PATH}/{key}`]: {
    get: withFileAnswer({
      operationId: 'downloadLocalFile',
      summary: 'Download from the local folder (embedded default only)',
      description:
        'What a download link points to when no bucket is set; signed and expiring. Answers ' +
        'with Content-Disposition: attachment and X-Content-Type-Options: nosniff.',
      tag: 'attachments',
      bearer: false,
      path: z.object({ key: z.string() }),
      query: z.object({
        name: z.string(),
        type: z.string(),
        expires: z.string(),
        signature: z.string(),
      }),
      answers: { 200: { description: 'The file, as the type it was uploaded as.' } },
      errors: [403, 404, 429],
    }),
  },
};
