/** What the gateway remembers of one upload, from its slot until it expires or a message keeps it. */
export interface AttachmentRecord {
  id: string;
  uploaderId: string;
  conversationId: string;
  fileName: string;
  contentType: string;
  size: number;
  /** Where the bytes are (the object key, or the file under the folder). */
  key: string;
  createdAt: Date;
  /** When an unclaimed upload is forgotten; once claimed it stays (no expiry). */
  pendingUntil: Date;
  expiresAt?: Date;
  /** The message that holds it (see messageKey in chat-domain). */
  messageKey?: string;
  /** Its message was deleted or its uploader erased: no link, no claim; the object is going. */
  revokedAt?: Date;
}

/**
 * The uploads' metadata. Unclaimed records expire by themselves (`expiresAt`); a claimed one is
 * kept. Claims are conditional, so two messages can never hold the same upload.
 */
export interface AttachmentRecords {
  insert(record: AttachmentRecord): Promise<void>;
  /** Those that exist, in any order. */
  getMany(ids: string[]): Promise<AttachmentRecord[]>;
  get(id: string): Promise<AttachmentRecord | null>;
  /**
   * Claims each record for `messageKey` if it is the uploader's, for the conversation, and still
   * unclaimed and unexpired at `at`; returns the ids claimed by this call.
   */
  claim(
    ids: string[],
    expect: { uploaderId: string; conversationId: string; messageKey: string; at: Date },
  ): Promise<string[]>;
  /** Unclaims what `messageKey` holds: pending again until its original pendingUntil. */
  release(uploaderId: string, messageKey: string, ids?: string[]): Promise<AttachmentRecord[]>;
  /** Forgets unclaimed records expired at `at` (an embedded store's sweep; MongoDB's TTL index does it there). */
  sweep(at: Date): Promise<number>;
  /** Uploads of the person not claimed by a message, unexpired and unrevoked at `at`: how many, and their bytes. */
  pendingOf(uploaderId: string, at: Date): Promise<{ files: number; bytes: number }>;
  /** Marks revoked (from now on no link and no claim) what `messageKey` holds; returns them. */
  revokeMessage(messageKey: string, at: Date): Promise<AttachmentRecord[]>;
  /** Marks revoked up to `limit` records of the uploader; returns them. */
  revokeUploader(uploaderId: string, limit: number, at: Date): Promise<AttachmentRecord[]>;
  /** Forgets these records (their objects are deleted). */
  remove(ids: string[]): Promise<void>;
}

/** Unclaimed, unexpired, unrevoked: what counts against the pending quota. */
function pending(r: AttachmentRecord, at: Date): boolean {
  return (
    r.messageKey === undefined && r.revokedAt === undefined && !!r.expiresAt && r.expiresAt > at
  );
}

/** In process, like the in-memory chat store: lost on restart. */
export class MemoryAttachmentRecords implements AttachmentRecords {
  private readonly records = new Map<string, AttachmentRecord>();

  insert(record: AttachmentRecord): Promise<void> {
    this.records.set(record.id, { ...record });
    return Promise.resolve();
  }

  getMany(ids: string[]): Promise<AttachmentRecord[]> {
    return Promise.resolve(
      ids.flatMap((id) => {
        const r = this.records.get(id);
        return r ? [{ ...r }] : [];
      }),
    );
  }

  get(id: string): Promise<AttachmentRecord | null> {
    const r = this.records.get(id);
    return Promise.resolve(r ? { ...r } : null);
  }

  claim(
    ids: string[],
    expect: { uploaderId: string; conversationId: string; messageKey: string; at: Date },
  ): Promise<string[]> {
    const claimed: string[] = [];
    for (const id of ids) {
      const r = this.records.get(id);
      if (
        !r ||
        r.uploaderId !== expect.uploaderId ||
        r.conversationId !== expect.conversationId ||
        !pending(r, expect.at)
      )
        continue;
      r.messageKey = expect.messageKey;
      delete r.expiresAt;
      claimed.push(id);
    }
    return Promise.resolve(claimed);
  }

  release(uploaderId: string, messageKey: string, ids?: string[]): Promise<AttachmentRecord[]> {
    const released: AttachmentRecord[] = [];
    for (const r of this.records.values()) {
      if (r.uploaderId !== uploaderId || r.messageKey !== messageKey) continue;
      if (ids && !ids.includes(r.id)) continue;
      delete r.messageKey;
      r.expiresAt = r.pendingUntil;
      released.push({ ...r });
    }
    return Promise.resolve(released);
  }

  pendingOf(uploaderId: string, at: Date): Promise<{ files: number; bytes: number }> {
    let files = 0;
    let bytes = 0;
    for (const r of this.records.values()) {
      if (r.uploaderId !== uploaderId || !pending(r, at)) continue;
      files++;
      bytes += r.size;
    }
    return Promise.resolve({ files, bytes });
  }

  revokeMessage(messageKey: string, at: Date): Promise<AttachmentRecord[]> {
    return this.revokeWhere((r) => r.messageKey === messageKey, Infinity, at);
  }

  revokeUploader(uploaderId: string, limit: number, at: Date): Promise<AttachmentRecord[]> {
    return this.revokeWhere((r) => r.uploaderId === uploaderId, limit, at);
  }

  private revokeWhere(
    match: (r: AttachmentRecord) => boolean,
    limit: number,
    at: Date,
  ): Promise<AttachmentRecord[]> {
    const revoked: AttachmentRecord[] = [];
    for (const r of this.records.values()) {
      if (revoked.length >= limit) break;
      if (!match(r)) continue;
      r.revokedAt ??= at;
      revoked.push({ ...r });
    }
    return Promise.resolve(revoked);
  }

  remove(ids: string[]): Promise<void> {
    for (const id of ids) this.records.delete(id);
    return Promise.resolve();
  }

  sweep(at: Date): Promise<number> {
    let removed = 0;
    for (const [id, r] of this.records) {
      if (r.expiresAt && r.expiresAt <= at) {
        this.records.delete(id);
        removed++;
      }
    }
    return Promise.resolve(removed);
  }
}
