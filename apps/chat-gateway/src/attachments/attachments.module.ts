import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { type AttachmentRecords, MemoryAttachmentRecords } from './attachment-records.js';
import { AttachmentService } from './attachment.service.js';
import { AttachmentsController } from './attachments.controller.js';
import { type AttachmentsConfig } from './attachments.config.js';
import { ATTACHMENTS, ATTACHMENT_STORAGE } from './attachments.tokens.js';
import { type BlobStorage } from './blob-storage.js';
import { LocalFilesController } from './local-files.controller.js';
import { LocalBlobStorage } from './local.storage.js';
import { S3BlobStorage } from './s3.storage.js';

export function createBlobStorage(config: AttachmentsConfig): BlobStorage {
  const { storage } = config;
  return storage.kind === 's3'
    ? new S3BlobStorage({ ...storage, timeoutMs: config.timeoutMs })
    : new LocalBlobStorage({
        dir: storage.dir,
        publicUrl: storage.publicUrl,
        signingKey: storage.signingKey,
        pendingTtlMs: config.pendingTtlMs,
        timeoutMs: config.timeoutMs,
      });
}

/** Runs the sweep while the app runs; closes the S3 client with it. */
@Injectable()
class AttachmentsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(ATTACHMENTS) private readonly service: AttachmentService,
    @Inject(ATTACHMENT_STORAGE) private readonly storage: BlobStorage,
  ) {}

  onApplicationBootstrap(): void {
    this.service.startSweeping();
  }

  onApplicationShutdown(): void {
    this.service.stop();
    if (this.storage instanceof S3BlobStorage) this.storage.close();
  }
}

/**
 * What the app module adds for attachments: the service behind the domain's AttachmentStore
 * (inject ATTACHMENTS), its REST routes, and in local mode the routes that stand in for S3.
 */
export function attachmentParts(
  config: AttachmentsConfig,
  records: AttachmentRecords = new MemoryAttachmentRecords(),
): { controllers: Type[]; providers: Provider[] } {
  const storage = createBlobStorage(config);
  const service = new AttachmentService(config, records, storage);
  return {
    controllers: [
      AttachmentsController,
      ...(storage.kind === 'local' ? [LocalFilesController] : []),
    ],
    providers: [
      { provide: ATTACHMENT_STORAGE, useValue: storage },
      { provide: ATTACHMENTS, useValue: service },
      AttachmentsLifecycle,
    ],
  };
}
