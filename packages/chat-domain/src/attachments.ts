import { z } from 'zod';
import { type MessageAttachment } from './entities.js';
import { ValidationError } from './errors.js';
import { idSchema } from './schemas.js';

/**
 * The files people may attach (CVs, cover letters, portfolios, screenshots), by media type, with
 * the file-name extensions each may carry. Anything else is refused before a slot exists.
 */
export const ATTACHMENT_TYPES = {
  'application/pdf': ['pdf'],
  'application/msword': ['doc'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['docx'],
  'application/rtf': ['rtf'],
  'application/vnd.oasis.opendocument.text': ['odt'],
  'text/plain': ['txt'],
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'image/webp': ['webp'],
  'image/gif': ['gif'],
} as const satisfies Record<string, readonly string[]>;
export type AttachmentContentType = keyof typeof ATTACHMENT_TYPES;

/** Defaults of the attachment settings (the gateway's config can change them). */
export const ATTACHMENT_DEFAULTS = {
  /** Largest file, in bytes. */
  maxBytes: 10 * 1024 * 1024,
  /** How long an upload slot may be used. */
  uploadWindowMs: 15 * 60_000,
  /** An upload no message references is deleted after this. */
  pendingTtlMs: 24 * 3_600_000,
  /** Lifetime of a download URL. */
  downloadTtlMs: 5 * 60_000,
  /** Uploads one person may hold not yet sent: slots, and their declared bytes. */
  pendingMaxFiles: 10,
  pendingMaxBytes: 50 * 1024 * 1024,
} as const;

export const MAX_FILE_NAME_LENGTH = 200;

/** The accepted types as a closed list: a lookup never reaches Object.prototype (`__proto__`). */
const ACCEPTED_TYPES: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(ATTACHMENT_TYPES),
);

// File names are shown and put in Content-Disposition: one line, no path, and nothing that
// changes how the rest reads. \p{Cc}: C0 and C1 controls; \p{Cf}: format characters, the bidi
// overrides and isolates among them (`CV_\u202Efdp.png` shows as "CV_gnp.pdf"), zero-width
// joiners and marks; \p{Zl}\p{Zp}: line and paragraph separators; \p{Cs}: lone surrogates.
const UNSAFE_NAME = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}/\\<>:"|?*\uFFFE\uFFFF]|\p{Cs}|^[\s.]|[\s.]$/u;

export const uploadRequestSchema = z
  .strictObject({
    conversationId: idSchema,
    fileName: z
      .string()
      .min(1)
      .max(MAX_FILE_NAME_LENGTH)
      .refine(
        (n) => !UNSAFE_NAME.test(n),
        'a plain file name: no path, no control, format or bidi characters',
      )
      .meta({
        description: `The name shown to readers, up to ${MAX_FILE_NAME_LENGTH} characters.`,
      }),
    contentType: z
      .string()
      .min(1)
      .max(200)
      .meta({
        description: `One of: ${Object.keys(ATTACHMENT_TYPES).join(', ')}.`,
      }),
    size: z.int().min(1).max(Number.MAX_SAFE_INTEGER).meta({
      description: 'Bytes: the upload must be exactly this size.',
    }),
  })
  .meta({ id: 'UploadRequest' });
export type UploadRequestInput = z.infer<typeof uploadRequestSchema>;

/** Refuses a type off the allow-list, a name whose extension does not fit it, and a size over the cap. */
export function assertAcceptableUpload(input: UploadRequestInput, maxBytes: number): void {
  const type = input.contentType.toLowerCase();
  const extensions = ACCEPTED_TYPES.get(type);
  const issues: { path: string; message: string }[] = [];
  if (!extensions) {
    issues.push({
      path: 'contentType',
      message: `not an accepted type (${Object.keys(ATTACHMENT_TYPES).join(', ')})`,
    });
  } else {
    const extension = /\.([^.]+)$/.exec(input.fileName)?.[1]?.toLowerCase();
    if (!extension || !extensions.includes(extension))
      issues.push({
        path: 'fileName',
        message: `a ${type} file ends in .${extensions.join(' or .')}`,
      });
  }
  if (input.size > maxBytes) issues.push({ path: 'size', message: `at most ${maxBytes} bytes` });
  if (issues.length > 0)
    throw new ValidationError(
      `refused attachment: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
}

export interface UploadSlot {
  /** What a message references in `attachmentIds`. */
  id: string;
  /** An HTML-form style upload: POST `fields` then the file as the last part, named `file`. */
  upload: { url: string; method: 'POST'; fields: Record<string, string> };
  /** The slot cannot be used after this. */
  expiresAt: Date;
}

export interface DownloadLink {
  url: string;
  expiresAt: Date;
}

/**
 * Uploaded files and who may use them. The bytes go straight from the client to storage through
 * a slot that enforces the type and the exact size; the store keeps who uploaded what for which
 * conversation until a message references it, and forgets (deletes) what no message referenced
 * within its pending lifetime.
 */
export interface AttachmentStore {
  /**
   * A slot for one file of `uploaderId` in the conversation (the caller checked both), unless
   * the person already holds as many pending uploads (slots given, never sent) or pending bytes
   * as they may: UploadQuotaExceededError then, and no slot, also when requests race.
   */
  createSlot(request: {
    uploaderId: string;
    conversationId: string;
    fileName: string;
    contentType: AttachmentContentType;
    size: number;
    at: Date;
  }): Promise<UploadSlot>;
  /**
   * Claims uploads for one message, all or nothing: each id must be the uploader's own, for this
   * conversation, uploaded in full, not expired, and not claimed for another message. Claiming
   * again under the same `messageKey` (a send retried) returns the same attachments. Otherwise
   * NotFoundError (nothing claimed): the ids are not told apart, so others' uploads cannot be
   * probed. Returned in the order of `ids`.
   */
  claim(request: {
    uploaderId: string;
    conversationId: string;
    ids: string[];
    messageKey: string;
    at: Date;
  }): Promise<MessageAttachment[]>;
  /** Undoes a claim whose message was refused for good, so the uploads can go with another. */
  release(request: { uploaderId: string; messageKey: string }): Promise<void>;
  /**
   * The files of one message go with it (deleted, by its sender or a moderator): their links are
   * refused from now on and the objects deleted. Idempotent; how many went.
   */
  discardMessage(messageKey: string): Promise<number>;
  /**
   * Erasure: up to `limit` files the person uploaded (sent or not) go the same way; how many.
   * Fewer than `limit` means none is left.
   */
  discardUploader(uploaderId: string, limit: number): Promise<number>;
  /** A short-lived link to a file a message of this conversation carries; null when there is none. */
  downloadLink(
    conversationId: string,
    attachmentId: string,
    at: Date,
  ): Promise<DownloadLink | null>;
}

const timestamp = z.iso.datetime().meta({ description: 'ISO 8601, UTC (`Date.toISOString()`).' });

export const uploadSlotSchema = z
  .object({
    id: z.string().meta({ description: 'Put it in `attachmentIds` of `message:send`.' }),
    upload: z
      .object({
        url: z.string(),
        method: z.literal('POST'),
        fields: z.record(z.string(), z.string()),
      })
      .meta({
        description:
          'POST a multipart/form-data form to `url`: every entry of `fields`, then the file as ' +
          'the last part, named `file`. The type and the exact size are enforced there.',
      }),
    expiresAt: timestamp.meta({ description: 'Upload before this.' }),
  })
  .meta({ id: 'UploadSlot', description: 'Where and how to upload one file.' });

export const downloadLinkSchema = z
  .object({
    url: z.string().meta({ description: 'GET it before `expiresAt`; answers as an attachment.' }),
    expiresAt: timestamp,
  })
  .meta({ id: 'DownloadLink', description: 'A short-lived link to an attached file.' });

export type UploadSlotDto = z.output<typeof uploadSlotSchema>;
export type DownloadLinkDto = z.output<typeof downloadLinkSchema>;
