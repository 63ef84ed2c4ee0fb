import { type Connection, Schema } from 'mongoose';
import { ensureIndexes } from '../persistence/mongo/indexes.js';
import { type AttachmentRecord, type AttachmentRecords } from './attachment-records.js';
import { adaptModel } from '../persistence/mongo/ferretdb-compat.js';

/** More pending uploads than any quota allows: counting stops there. */
const PENDING_SCAN_LIMIT = 1_000;
/** A message carries at most a handful of files; a bound all the same. */
const LIMITS_PER_MESSAGE = 100;

interface AttachmentDoc extends Omit<AttachmentRecord, 'id'> {
  _id: string;
}

const attachmentSchema = new Schema<AttachmentDoc>(
  {
    _id: { type: String, required: true },
    uploaderId: { type: String, required: true },
    conversationId: { type: String, required: true },
    fileName: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    key: { type: String, required: true },
    createdAt: { type: Date, required: true },
    pendingUntil: { type: Date, required: true },
    // The TTL index removes unclaimed uploads' records; a claim unsets it, so they stay.
    expiresAt: { type: Date, index: { expireAfterSeconds: 0 } },
    messageKey: { type: String },
    revokedAt: { type: Date },
  },
  { collection: 'attachments', versionKey: false, _id: false },
);
// release() and revokeMessage() find what one message holds; pendingOf() and erasure an uploader's.
attachmentSchema.index({ uploaderId: 1, messageKey: 1 }, { sparse: true });
attachmentSchema.index({ messageKey: 1 });
attachmentSchema.index({ uploaderId: 1 });

function toRecord(doc: AttachmentDoc): AttachmentRecord {
  const { _id, ...rest } = doc;
  const record: AttachmentRecord = { id: _id, ...rest };
  if (doc.expiresAt == null) delete record.expiresAt;
  if (doc.messageKey == null) delete record.messageKey;
  if (doc.revokedAt == null) delete record.revokedAt;
  return record;
}

/** The uploads' metadata in MongoDB / DocumentDB, on the chat store's connection. */
export class MongoAttachmentRecords implements AttachmentRecords {
  private readonly model;

  private constructor(connection: Connection) {
    this.model = connection.model<AttachmentDoc>('Attachment', attachmentSchema);
  }

  static async open(connection: Connection): Promise<MongoAttachmentRecords> {
    const records = new MongoAttachmentRecords(connection);
    adaptModel(records.model);
    await ensureIndexes([records.model]);
    return records;
  }

  async insert(record: AttachmentRecord): Promise<void> {
    const { id, ...rest } = record;
    await this.model.create({ _id: id, ...rest });
  }

  async getMany(ids: string[]): Promise<AttachmentRecord[]> {
    const docs = await this.model.find({ _id: { $in: ids } }).lean<AttachmentDoc[]>();
    return docs.map(toRecord);
  }

  async get(id: string): Promise<AttachmentRecord | null> {
    const doc = await this.model.findById(id).lean<AttachmentDoc>();
    return doc ? toRecord(doc) : null;
  }

  async claim(
    ids: string[],
    expect: { uploaderId: string; conversationId: string; messageKey: string; at: Date },
  ): Promise<string[]> {
    // One conditional update per upload: of two racing messages, exactly one gets it.
    const results = await Promise.all(
      ids.map((id) =>
        this.model.updateOne(
          {
            _id: id,
            uploaderId: expect.uploaderId,
            conversationId: expect.conversationId,
            messageKey: { $exists: false },
            revokedAt: { $exists: false },
            expiresAt: { $gt: expect.at },
          },
          { $set: { messageKey: expect.messageKey }, $unset: { expiresAt: 1 } },
        ),
      ),
    );
    return ids.filter((_, i) => results[i]!.modifiedCount === 1);
  }

  async release(
    uploaderId: string,
    messageKey: string,
    ids?: string[],
  ): Promise<AttachmentRecord[]> {
    // `$exists` on both fields: DocumentDB uses a sparse index only for a query that says so.
    const filter = {
      uploaderId: { $eq: uploaderId, $exists: true },
      messageKey: { $eq: messageKey, $exists: true },
      ...(ids && { _id: { $in: ids } }),
    };
    const docs = await this.model.find(filter).lean<AttachmentDoc[]>();
    await Promise.all(
      docs.map((d) =>
        this.model.updateOne(
          { _id: d._id, messageKey },
          { $unset: { messageKey: 1 }, $set: { expiresAt: d.pendingUntil } },
        ),
      ),
    );
    return docs.map((d) => {
      const r = toRecord(d);
      delete r.messageKey;
      return { ...r, expiresAt: d.pendingUntil };
    });
  }

  async pendingOf(uploaderId: string, at: Date): Promise<{ files: number; bytes: number }> {
    // Bounded by the quota the caller enforces: past it, the exact number no longer matters.
    const docs = await this.model
      .find(
        {
          uploaderId,
          messageKey: { $exists: false },
          revokedAt: { $exists: false },
          expiresAt: { $gt: at },
        },
        { size: 1 },
      )
      .limit(PENDING_SCAN_LIMIT)
      .lean<{ size: number }[]>();
    return { files: docs.length, bytes: docs.reduce((sum, d) => sum + d.size, 0) };
  }

  async revokeMessage(messageKey: string, at: Date): Promise<AttachmentRecord[]> {
    return this.revokeWhere({ messageKey }, LIMITS_PER_MESSAGE, at);
  }

  async revokeUploader(uploaderId: string, limit: number, at: Date): Promise<AttachmentRecord[]> {
    return this.revokeWhere({ uploaderId }, limit, at);
  }

  private async revokeWhere(
    filter: Record<string, string>,
    limit: number,
    at: Date,
  ): Promise<AttachmentRecord[]> {
    const docs = await this.model.find(filter).limit(limit).lean<AttachmentDoc[]>();
    const fresh = docs.filter((d) => d.revokedAt == null).map((d) => d._id);
    if (fresh.length > 0)
      await this.model.updateMany(
        { _id: { $in: fresh }, revokedAt: { $exists: false } },
        { $set: { revokedAt: at } },
      );
    return docs.map((d) => toRecord({ ...d, revokedAt: d.revokedAt ?? at }));
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.model.deleteMany({ _id: { $in: ids } });
  }

  /** MongoDB's TTL monitor removes expired records (within about a minute); claims check the time. */
  sweep(): Promise<number> {
    return Promise.resolve(0);
  }
}
