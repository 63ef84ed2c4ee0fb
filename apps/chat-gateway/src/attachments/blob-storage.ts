/** Where the bytes of attachments are: what an S3 bucket and the local folder both offer. */
export interface BlobStorage {
  readonly kind: 's3' | 'local';
  /** A form upload of exactly `size` bytes of `contentType` to `key`, usable until `expiresAt`. */
  presignUpload(request: {
    key: string;
    contentType: string;
    size: number;
    expiresAt: Date;
  }): Promise<{ url: string; fields: Record<string, string> }>;
  /** Whether the upload arrived in full (exactly `size` bytes). */
  uploaded(key: string, size: number): Promise<boolean>;
  /** A message holds it now: it must outlive the pending uploads' expiry. Idempotent. */
  markAttached(key: string): Promise<void>;
  /** Pending again (its message was refused): it expires like any unclaimed upload. */
  markPending(key: string): Promise<void>;
  /** Deletes it for good (its message was deleted, its uploader erased): links to it stop working. Idempotent. */
  remove(key: string): Promise<void>;
  /** A link that downloads it as an attachment, valid until `expiresAt`. */
  downloadUrl(request: {
    key: string;
    fileName: string;
    contentType: string;
    expiresAt: Date;
  }): Promise<string>;
  /** Deletes pending uploads older than the pending lifetime (the local folder; S3's lifecycle rule does it there). */
  sweep(at: Date): Promise<number>;
}

/** `attachment; filename="…"` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
