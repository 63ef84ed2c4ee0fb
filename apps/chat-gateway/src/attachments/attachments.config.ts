import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACHMENT_DEFAULTS } from '@jobsphere/chat-domain';
import { z } from 'zod';

/** Where uploaded files live: an S3 bucket, or (the embedded default) a folder the gateway serves. */
export type AttachmentStorageConfig =
  | {
      kind: 's3';
      bucket: string;
      region: string;
      /** Another S3 endpoint (tests, a local S3); AWS's otherwise. */
      endpoint?: string;
      forcePathStyle: boolean;
    }
  | {
      kind: 'local';
      dir: string;
      /** The gateway's origin as clients reach it: upload and download links point there. */
      publicUrl: string;
      /** Signs the gateway's own upload and download links. */
      signingKey: Buffer;
    };

export interface AttachmentsConfig {
  storage: AttachmentStorageConfig;
  maxBytes: number;
  uploadWindowMs: number;
  pendingTtlMs: number;
  downloadTtlMs: number;
  /** How often the embedded parts (local folder, in-memory records) delete expired uploads. */
  sweepIntervalMs: number;
  /** Deadline of every storage call (S3, the folder), like the store's. */
  timeoutMs: number;
  /** Uploads one person may hold not yet sent (slots given, no message): files and bytes. */
  pendingQuota: { maxFiles: number; maxBytes: number };
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** The ATTACHMENTS_* variables; merged into the gateway's one config schema. */
export const attachmentsEnvShape = {
  ATTACHMENTS_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
    .optional(),
  ATTACHMENTS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region, e.g. us-east-1')
    .optional(),
  AWS_ENDPOINT_URL_S3: z.url().optional(),
  ATTACHMENTS_S3_FORCE_PATH_STYLE: bool.optional(),
  ATTACHMENTS_DIR: z.string().min(1).optional(),
  ATTACHMENTS_LOCAL_IN_PRODUCTION: bool.default(false),
  ATTACHMENTS_PUBLIC_URL: z.url().optional(),
  ATTACHMENTS_MAX_BYTES: int(1, 1024 * 1024 * 1024).default(ATTACHMENT_DEFAULTS.maxBytes),
  ATTACHMENTS_UPLOAD_WINDOW_MS: int(1_000, 7 * 24 * 3_600_000).default(
    ATTACHMENT_DEFAULTS.uploadWindowMs,
  ),
  ATTACHMENTS_PENDING_TTL_MS: int(1_000, 30 * 24 * 3_600_000).default(
    ATTACHMENT_DEFAULTS.pendingTtlMs,
  ),
  // A presigned S3 URL lives at most 7 days.
  ATTACHMENTS_DOWNLOAD_TTL_MS: int(1_000, 7 * 24 * 3_600_000).default(
    ATTACHMENT_DEFAULTS.downloadTtlMs,
  ),
  ATTACHMENTS_SWEEP_INTERVAL_MS: int(100, 3_600_000).optional(),
  ATTACHMENTS_TIMEOUT_MS: int(100, 60_000).default(1_500),
  ATTACHMENTS_PENDING_MAX_FILES: int(1, 1_000).default(ATTACHMENT_DEFAULTS.pendingMaxFiles),
  ATTACHMENTS_PENDING_MAX_BYTES: int(1, 100 * 1024 * 1024 * 1024).default(
    ATTACHMENT_DEFAULTS.pendingMaxBytes,
  ),
};

type AttachmentsEnv = z.output<z.ZodObject<typeof attachmentsEnvShape>>;

/** Settings that cannot work together, named by variable (checked on the raw values). */
export function attachmentsIssues(
  clean: Record<string, string | undefined>,
  production: boolean,
): { variable: string; message: string }[] {
  const issues: { variable: string; message: string }[] = [];
  const bucket = clean['ATTACHMENTS_BUCKET'];
  if (bucket && !clean['ATTACHMENTS_REGION'] && !clean['AWS_REGION'])
    issues.push({
      variable: 'ATTACHMENTS_REGION',
      message: 'required with ATTACHMENTS_BUCKET (or AWS_REGION)',
    });
  const localOptIn = ['true', '1', 'yes'].includes(clean['ATTACHMENTS_LOCAL_IN_PRODUCTION'] ?? '');
  if (production && !bucket && !localOptIn)
    issues.push({
      variable: 'ATTACHMENTS_BUCKET',
      message:
        'required when NODE_ENV=production (or ATTACHMENTS_LOCAL_IN_PRODUCTION=true to keep files in ATTACHMENTS_DIR on this instance)',
    });
  return issues;
}

export function buildAttachmentsConfig(
  e: AttachmentsEnv & { PORT: number; AWS_REGION?: string | undefined },
  jwtSecret: string,
): AttachmentsConfig {
  const storage: AttachmentStorageConfig = e.ATTACHMENTS_BUCKET
    ? {
        kind: 's3',
        bucket: e.ATTACHMENTS_BUCKET,
        region: (e.ATTACHMENTS_REGION ?? e.AWS_REGION)!,
        ...(e.AWS_ENDPOINT_URL_S3 !== undefined && { endpoint: e.AWS_ENDPOINT_URL_S3 }),
        // Virtual-hosted style on AWS; an endpoint of one's own usually wants path style.
        forcePathStyle: e.ATTACHMENTS_S3_FORCE_PATH_STYLE ?? e.AWS_ENDPOINT_URL_S3 !== undefined,
      }
    : {
        kind: 'local',
        dir: e.ATTACHMENTS_DIR ?? join(tmpdir(), 'jobsphere-chat-attachments'),
        publicUrl: (e.ATTACHMENTS_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
        // Every instance that shares the folder signs alike; the JWT secret itself never leaves.
        signingKey: createHmac('sha256', jwtSecret).update('jobsphere-chat attachments').digest(),
      };
  return {
    storage,
    maxBytes: e.ATTACHMENTS_MAX_BYTES,
    uploadWindowMs: e.ATTACHMENTS_UPLOAD_WINDOW_MS,
    pendingTtlMs: e.ATTACHMENTS_PENDING_TTL_MS,
    downloadTtlMs: e.ATTACHMENTS_DOWNLOAD_TTL_MS,
    sweepIntervalMs:
      e.ATTACHMENTS_SWEEP_INTERVAL_MS ?? Math.min(e.ATTACHMENTS_PENDING_TTL_MS, 10 * 60_000),
    timeoutMs: e.ATTACHMENTS_TIMEOUT_MS,
    pendingQuota: {
      maxFiles: e.ATTACHMENTS_PENDING_MAX_FILES,
      maxBytes: e.ATTACHMENTS_PENDING_MAX_BYTES,
    },
  };
}
