import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ATTACHMENT_TYPES, ErrorCode, type ErrorBody, withDeadline } from '@jobsphere/chat-domain';
import busboy from 'busboy';
import { type Request, type Response } from 'express';
import { type BlobStorage, contentDisposition } from './blob-storage.js';

export const LOCAL_UPLOAD_PATH = '/attachments/uploads';
export const LOCAL_FILES_PATH = '/attachments/files';

const KEY = /^[A-Za-z0-9-]{1,64}$/;
/** What a refused upload may still send (read and dropped) before it is cut off. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const DRAIN_LIMIT_MS = 5_000;

/** Reads a request to its end and drops it; false when it went past the bounds first. */
function drain(req: Request, maxBytes: number, maxMs: number): Promise<boolean> {
  if (req.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    let bytes = 0;
    const done = (ended: boolean) => {
      clearTimeout(timer);
      req.off('data', count);
      req.off('end', finished);
      req.off('error', failed);
      resolve(ended);
    };
    const count = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) done(false);
    };
    const finished = () => done(true);
    const failed = () => done(false);
    const timer = setTimeout(() => done(false), maxMs);
    req.on('data', count);
    req.once('end', finished);
    req.once('error', failed);
    req.resume();
  });
}

export interface LocalStorageOptions {
  dir: string;
  publicUrl: string;
  signingKey: Buffer;
  pendingTtlMs: number;
  timeoutMs: number;
}

class UploadRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}
const refused = (status: number, code: ErrorBody['code'], message: string) =>
  new UploadRefused(status, { code, message });

/**
 * The embedded default: files in a folder, uploaded to and downloaded from the gateway itself,
 * with the same shape as S3's presigned POST and GET. The upload form carries HMAC-signed fields
 * (key, type, exact size, expiry); the server checks them before the first byte of the file and
 * streams the file to disk, cutting it off as soon as it passes the signed size: a file is never
 * held in memory. Pending uploads sit in `pending/`, claimed ones in `files/`; the sweep deletes
 * pending ones older than the pending lifetime.
 */
export class LocalBlobStorage implements BlobStorage {
  readonly kind = 'local' as const;
  private readonly pending: string;
  private readonly files: string;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: LocalStorageOptions) {
    this.pending = join(options.dir, 'pending');
    this.files = join(options.dir, 'files');
  }

  private folders(): Promise<void> {
    return (this.ready ??= Promise.all([
      mkdir(this.pending, { recursive: true }),
      mkdir(this.files, { recursive: true }),
    ]).then(() => undefined));
  }

  private sign(...parts: string[]): string {
    return createHmac('sha256', this.options.signingKey)
      .update(parts.join('\n'))
      .digest('base64url');
  }

  private verify(signature: string | undefined, ...parts: string[]): boolean {
    const expected = Buffer.from(this.sign(...parts));
    const given = Buffer.from(signature ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private bounded<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.options.timeoutMs, `attachment folder ${what}`);
  }

  presignUpload(request: {
    key: string;
    contentType: string;
    size: number;
    expiresAt: Date;
  }): Promise<{ url: string; fields: Record<string, string> }> {
    const expires = String(request.expiresAt.getTime());
    const size = String(request.size);
    return Promise.resolve({
      url: `${this.options.publicUrl}${LOCAL_UPLOAD_PATH}`,
      fields: {
        key: request.key,
        'Content-Type': request.contentType,
        size,
        expires,
        signature: this.sign('upload', request.key, request.contentType, size, expires),
      },
    });
  }

  async uploaded(key: string, size: number): Promise<boolean> {
    if (!KEY.test(key)) return false;
    const found = await this.bounded(
      Promise.all([
        stat(join(this.pending, key)).catch(() => null),
        stat(join(this.files, key)).catch(() => null),
      ]),
      'stat',
    );
    return found.some((s) => s?.isFile() && s.size === size);
  }

  async markAttached(key: string): Promise<void> {
    await this.bounded(
      rename(join(this.pending, key), join(this.files, key)).catch(async (error: unknown) => {
        // Already moved by an earlier claim of the same message.
        if (!(await stat(join(this.files, key)).catch(() => null))) throw error;
      }),
      'rename',
    );
  }

  async markPending(key: string): Promise<void> {
    const target = join(this.pending, key);
    await this.bounded(
      rename(join(this.files, key), target).then(() => utimes(target, new Date(), new Date())),
      'rename',
    );
  }

  async remove(key: string): Promise<void> {
    if (!KEY.test(key)) return;
    await this.bounded(
      Promise.all([
        rm(join(this.pending, key), { force: true }),
        rm(join(this.files, key), { force: true }),
      ]),
      'rm',
    );
  }

  downloadUrl(request: {
    key: string;
    fileName: string;
    contentType: string;
    expiresAt: Date;
  }): Promise<string> {
    const expires = String(request.expiresAt.getTime());
    const query = new URLSearchParams({
      name: request.fileName,
      type: request.contentType,
      expires,
      signature: this.sign('download', request.key, request.fileName, request.contentType, expires),
    });
    return Promise.resolve(
      `${this.options.publicUrl}${LOCAL_FILES_PATH}/${request.key}?${query.toString()}`,
    );
  }

  async sweep(at: Date): Promise<number> {
    await this.folders();
    const cutoff = at.getTime() - this.options.pendingTtlMs;
    let removed = 0;
    for (const name of await readdir(this.pending)) {
      const path = join(this.pending, name);
      const info = await stat(path).catch(() => null);
      if (info && info.mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** POST of the upload form: fields first, the file last (as S3 wants it). */
  async receive(req: Request, res: Response): Promise<void> {
    try {
      await this.folders();
      await this.store(req);
      res.status(204).end();
    } catch (error) {
      const answer =
        error instanceof UploadRefused
          ? error
          : refused(400, ErrorCode.InvalidPayload, 'malformed upload form');
      // The rest of the form is read and dropped, so the client gets to read the answer; a client
      // that keeps sending past a bound is cut off (as S3 does).
      req.unpipe();
      const drained = await drain(req, DRAIN_LIMIT_BYTES, DRAIN_LIMIT_MS);
      if (!drained) res.setHeader('Connection', 'close');
      res.status(answer.status).json({ error: answer.body });
      if (!drained) res.on('finish', () => req.destroy());
    }
  }

  private store(req: Request): Promise<void> {
    if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? ''))
      return Promise.reject(
        refused(415, ErrorCode.UnsupportedMediaType, 'send the upload as multipart/form-data'),
      );
    return new Promise<void>((resolve, reject) => {
      let form: busboy.Busboy;
      try {
        form = busboy({
          headers: req.headers,
          limits: { fields: 10, fieldSize: 2048, files: 1, parts: 12 },
        });
      } catch {
        reject(refused(400, ErrorCode.InvalidPayload, 'malformed upload form'));
        return;
      }
      const fields = new Map<string, string>();
      let sawFile = false;
      form.on('field', (name, value) => {
        if (!sawFile) fields.set(name, value);
      });
      form.on('file', (name, file) => {
        if (name !== 'file' || sawFile) {
          file.resume();
          return;
        }
        sawFile = true;
        this.write(fields, file).then(resolve, (error: unknown) => {
          file.resume();
          reject(error instanceof Error ? error : new Error(String(error)));
        });
      });
      form.on('error', () =>
        reject(refused(400, ErrorCode.InvalidPayload, 'malformed upload form')),
      );
      form.on('partsLimit', () => reject(refused(400, ErrorCode.InvalidPayload, 'too many parts')));
      form.on('close', () => {
        if (!sawFile) reject(refused(400, ErrorCode.InvalidPayload, 'the form has no `file` part'));
      });
      req.pipe(form);
    });
  }

  private async write(fields: Map<string, string>, file: NodeJS.ReadableStream): Promise<void> {
    const key = fields.get('key') ?? '';
    const contentType = fields.get('Content-Type') ?? '';
    const size = fields.get('size') ?? '';
    const expires = fields.get('expires') ?? '';
    if (
      !KEY.test(key) ||
      !this.verify(fields.get('signature'), 'upload', key, contentType, size, expires)
    )
      throw refused(403, ErrorCode.Forbidden, 'the upload form is not one this server signed');
    if (Number(expires) <= Date.now())
      throw refused(403, ErrorCode.Forbidden, 'the upload slot expired: ask for a new one');
    if (await stat(join(this.files, key)).catch(() => null))
      throw refused(403, ErrorCode.Forbidden, 'this upload slot was used for a message already');
    const expected = Number(size);
    const part = join(this.pending, `${key}.${randomBytes(6).toString('hex')}.part`);
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (received > expected)
          done(
            refused(
              413,
              ErrorCode.PayloadTooLarge,
              `the file is larger than the ${expected} bytes declared`,
            ),
          );
        else done(null, chunk);
      },
    });
    try {
      await pipeline(file, counter, createWriteStream(part, { flags: 'wx' }));
      if (received !== expected)
        throw refused(
          400,
          ErrorCode.InvalidPayload,
          `the file is smaller than the ${expected} bytes declared`,
        );
      await rename(part, join(this.pending, key));
    } catch (error) {
      await rm(part, { force: true });
      throw error;
    }
  }

  /** GET of a signed download link: the file as an attachment, never rendered by the browser. */
  async send(req: Request, res: Response, key: string): Promise<void> {
    const q = req.query as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const [name, type, expires, signature] = [
      q['name'],
      q['type'],
      q['expires'],
      q['signature'],
    ].map(text);
    const error = (status: number, code: ErrorBody['code'], message: string) => {
      res.status(status).json({ error: { code, message } });
    };
    if (!KEY.test(key) || !this.verify(signature, 'download', key, name!, type!, expires!))
      return error(403, ErrorCode.Forbidden, 'not a download link this server signed');
    if (Number(expires) <= Date.now())
      return error(403, ErrorCode.Forbidden, 'the download link expired: ask for a new one');
    const path = join(this.files, key);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) return error(404, ErrorCode.NotFound, 'no such file');
    // Only the accepted types are named; anything else is plain bytes.
    const safeType = type! in ATTACHMENT_TYPES ? type! : 'application/octet-stream';
    res.status(200);
    res.setHeader('Content-Type', safeType);
    res.setHeader('Content-Length', String(info.size));
    res.setHeader('Content-Disposition', contentDisposition(name!));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Cache-Control', 'private, no-store');
    await pipeline(createReadStream(path), res).catch(() => res.destroy());
  }
}
