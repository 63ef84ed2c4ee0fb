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
        r.messageKey !== undefined ||
        !r.expiresAt ||
        r.expiresAt <= expect.at
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
