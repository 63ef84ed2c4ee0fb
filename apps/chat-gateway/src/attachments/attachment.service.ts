import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  NotFoundError,
  UploadQuotaExceededError,
  withDeadline,
  type AttachmentStore,
  type DownloadLink,
  type MessageAttachment,
  type UploadSlot,
} from '@jobsphere/chat-domain';
import { type AttachmentRecord, type AttachmentRecords } from './attachment-records.js';
import { type AttachmentsConfig } from './attachments.config.js';
import { type BlobStorage } from './blob-storage.js';

const NOT_YOURS = 'an attachment is not an upload of yours for this conversation, or it expired';

/**
 * The domain's AttachmentStore over two parts: the metadata (who uploaded what, for which
 * conversation, claimed by which message) and the bytes (S3 or the local folder). Every call to
 * either has a deadline; a claim checks that the file arrived in full before a message holds it.
 */
export class AttachmentService implements AttachmentStore {
  private readonly logger = new Logger('Attachments');
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly records: AttachmentRecords,
    readonly storage: BlobStorage,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private bounded<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.config.timeoutMs, `attachments ${what}`);
  }

  async createSlot(request: {
    uploaderId: string;
    conversationId: string;
    fileName: string;
    contentType: string;
    size: number;
    at: Date;
  }): Promise<UploadSlot> {
    const id = randomUUID();
    const expiresAt = new Date(request.at.getTime() + this.config.uploadWindowMs);
    const pendingUntil = new Date(request.at.getTime() + this.config.pendingTtlMs);
    const record: AttachmentRecord = {
      id,
      uploaderId: request.uploaderId,
      conversationId: request.conversationId,
      fileName: request.fileName,
      contentType: request.contentType,
      size: request.size,
      key: id,
      createdAt: request.at,
      pendingUntil,
      expiresAt: pendingUntil,
    };
    const upload = await this.storage.presignUpload({
      key: record.key,
      contentType: record.contentType,
      size: record.size,
      expiresAt,
    });
    await this.bounded(this.records.insert(record), 'insert');
    await this.withinQuota(record).catch(async (error: unknown) => {
      await this.records.remove([id]).catch(() => undefined);
      throw error;
    });
    return { id, upload: { ...upload, method: 'POST' }, expiresAt };
  }

  /**
   * Counted after the insert, the new slot included: of requests racing on any instances, none
   * can pass on a count that misses another (some may all be refused; none goes over).
   */
  private async withinQuota(record: AttachmentRecord): Promise<void> {
    const { maxFiles, maxBytes } = this.config.pendingQuota;
    const held = await this.bounded(
      this.records.pendingOf(record.uploaderId, record.createdAt),
      'count',
    );
    if (held.files > maxFiles || held.bytes > maxBytes)
      throw new UploadQuotaExceededError(
        `at most ${maxFiles} uploads and ${maxBytes} bytes not yet sent per person: ` +
          'send them or wait until they expire',
      );
  }

  discardMessage(messageKey: string): Promise<number> {
    return this.discard(this.records.revokeMessage(messageKey, this.now()));
  }

  discardUploader(uploaderId: string, limit: number): Promise<number> {
    return this.discard(this.records.revokeUploader(uploaderId, limit, this.now()));
  }

  /**
   * Revoked first (no link, no claim from then on), then the objects deleted, then the records:
   * a failure on the way leaves them revoked, and the next call (a retried delete or erasure)
   * finds and finishes them.
   */
  private async discard(revoking: Promise<AttachmentRecord[]>): Promise<number> {
    const revoked = await this.bounded(revoking, 'revoke');
    await Promise.all(revoked.map((r) => this.storage.remove(r.key)));
    await this.bounded(this.records.remove(revoked.map((r) => r.id)), 'remove');
    return revoked.length;
  }

  async claim(request: {
    uploaderId: string;
    conversationId: string;
    ids: string[];
    messageKey: string;
    at: Date;
  }): Promise<MessageAttachment[]> {
    const found = new Map(
      (await this.bounded(this.records.getMany(request.ids), 'read')).map((r) => [r.id, r]),
    );
    const toClaim: AttachmentRecord[] = [];
    for (const id of request.ids) {
      const r = found.get(id);
      if (!r || r.uploaderId !== request.uploaderId || r.conversationId !== request.conversationId)
        throw new NotFoundError(NOT_YOURS);
      if (r.messageKey === request.messageKey) continue; // this send, retried
      if (
        r.messageKey !== undefined ||
        r.revokedAt !== undefined ||
        !r.expiresAt ||
        r.expiresAt <= request.at
      )
        throw new NotFoundError(NOT_YOURS);
      toClaim.push(r);
    }
    const arrived = await Promise.all(toClaim.map((r) => this.storage.uploaded(r.key, r.size)));
    if (arrived.includes(false))
      throw new NotFoundError('an attachment was not uploaded (in full) yet: upload it, then send');
    const ids = toClaim.map((r) => r.id);
    const claimed = await this.bounded(
      this.records.claim(ids, {
        uploaderId: request.uploaderId,
        conversationId: request.conversationId,
        messageKey: request.messageKey,
        at: request.at,
      }),
      'claim',
    );
    try {
      // Lost a race for one of them (another message took it): give back the others.
      if (claimed.length !== ids.length) throw new NotFoundError(NOT_YOURS);
      await Promise.all(toClaim.map((r) => this.storage.markAttached(r.key)));
    } catch (error) {
      await this.records
        .release(request.uploaderId, request.messageKey, claimed)
        .catch(() => undefined);
      throw error;
    }
    return request.ids.map((id) => {
      const r = found.get(id)!;
      return { id: r.id, fileName: r.fileName, contentType: r.contentType, size: r.size };
    });
  }

  async release(request: { uploaderId: string; messageKey: string }): Promise<void> {
    const released = await this.bounded(
      this.records.release(request.uploaderId, request.messageKey),
      'release',
    );
    await Promise.all(released.map((r) => this.storage.markPending(r.key)));
  }

  async downloadLink(
    conversationId: string,
    attachmentId: string,
    at: Date,
  ): Promise<DownloadLink | null> {
    const r = await this.bounded(this.records.get(attachmentId), 'read');
    // Only files a message holds: a pending upload is nobody's to read yet.
    if (
      !r ||
      r.conversationId !== conversationId ||
      r.messageKey === undefined ||
      r.revokedAt !== undefined
    )
      return null;
    const expiresAt = new Date(at.getTime() + this.config.downloadTtlMs);
    const url = await this.storage.downloadUrl({
      key: r.key,
      fileName: r.fileName,
      contentType: r.contentType,
      expiresAt,
    });
    return { url, expiresAt };
  }

  /** Deletes expired pending uploads of the embedded parts, every sweep interval. */
  startSweeping(): void {
    this.sweeper ??= setInterval(() => {
      const at = this.now();
      Promise.all([this.records.sweep(at), this.storage.sweep(at)]).then(
        ([records, files]) => {
          if (records + files > 0)
            this.logger.log(`expired ${records} pending upload records, ${files} pending files`);
        },
        (error: unknown) => this.logger.warn(`sweep failed: ${String(error)}`),
      );
    }, this.config.sweepIntervalMs);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
