import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { withDeadline } from '@jobsphere/chat-domain';
import { type BlobStorage, contentDisposition } from './blob-storage.js';

/** The tag the bucket's lifecycle rule expires pending uploads by (see infra's attachments bucket). */
export const STATE_TAG = 'attachment-state';
const tagging = (state: 'pending' | 'attached') =>
  `<Tagging><TagSet><Tag><Key>${STATE_TAG}</Key><Value>${state}</Value></Tag></TagSet></Tagging>`;

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  timeoutMs: number;
}

/**
 * Attachments in S3: the client uploads straight to the bucket with a presigned POST whose policy
 * fixes the key, the Content-Type and the exact size, and tags the object pending (the bucket's
 * lifecycle rule deletes pending objects); a claim re-tags it attached. Downloads are presigned
 * GETs that answer as an attachment. Credentials come from the SDK's default chain (the instance
 * role on EC2).
 */
export class S3BlobStorage implements BlobStorage {
  readonly kind = 's3' as const;
  private readonly client: S3Client;

  constructor(private readonly options: S3StorageOptions) {
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle,
      maxAttempts: 2,
      requestHandler: {
        connectionTimeout: options.timeoutMs,
        requestTimeout: options.timeoutMs,
      },
    });
  }

  private bounded<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.options.timeoutMs, `attachment storage ${what}`);
  }

  async presignUpload(request: {
    key: string;
    contentType: string;
    size: number;
    expiresAt: Date;
  }): Promise<{ url: string; fields: Record<string, string> }> {
    const expires = Math.max(1, Math.floor((request.expiresAt.getTime() - Date.now()) / 1000));
    // Signing is local, but fetching credentials (the instance role) is not: bounded too.
    const { url, fields } = await this.bounded(
      createPresignedPost(this.client, {
        Bucket: this.options.bucket,
        Key: request.key,
        // Every field below becomes an exact-match condition of the signed policy.
        Fields: { 'Content-Type': request.contentType, tagging: tagging('pending') },
        Conditions: [
          ['content-length-range', request.size, request.size],
          ['eq', '$Content-Type', request.contentType],
        ],
        Expires: expires,
      }),
      'presign POST',
    );
    return { url, fields };
  }

  async uploaded(key: string, size: number): Promise<boolean> {
    try {
      const head = await this.bounded(
        this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key })),
        'HeadObject',
      );
      return head.ContentLength === size;
    } catch (error) {
      if (error instanceof NotFound) return false;
      // Without s3:ListBucket (the role has none) S3 answers a missing key with 403.
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : 0;
      if (status === 404 || status === 403) return false;
      throw error;
    }
  }

  private async tag(key: string, state: 'pending' | 'attached'): Promise<void> {
    await this.bounded(
      this.client.send(
        new PutObjectTaggingCommand({
          Bucket: this.options.bucket,
          Key: key,
          Tagging: { TagSet: [{ Key: STATE_TAG, Value: state }] },
        }),
      ),
      'PutObjectTagging',
    );
  }

  markAttached(key: string): Promise<void> {
    return this.tag(key, 'attached');
  }

  markPending(key: string): Promise<void> {
    return this.tag(key, 'pending');
  }

  /**
   * In a versioned bucket this leaves a delete marker: a presigned GET (no version id) answers
   * 404 at once, and the bucket's lifecycle rule removes the noncurrent version.
   */
  async remove(key: string): Promise<void> {
    await this.bounded(
      this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key })),
      'DeleteObject',
    );
  }

  downloadUrl(request: {
    key: string;
    fileName: string;
    contentType: string;
    expiresAt: Date;
  }): Promise<string> {
    const expiresIn = Math.max(1, Math.floor((request.expiresAt.getTime() - Date.now()) / 1000));
    return this.bounded(
      getSignedUrl(
        this.client,
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: request.key,
          ResponseContentDisposition: contentDisposition(request.fileName),
          ResponseContentType: request.contentType,
        }),
        { expiresIn },
      ),
      'presign GET',
    );
  }

  /** The bucket's lifecycle rule expires pending objects. */
  sweep(): Promise<number> {
    return Promise.resolve(0);
  }

  close(): void {
    this.client.destroy();
  }
}
