import { ChatApiError, ChatError, toChatError } from './errors.js';
import { isErrorBody, isObject } from './guards.js';

/** Where and how to upload one file: the answer of `POST /attachments`. */
export interface UploadSlot {
  /** Put it in `attachmentIds` of `send()` once the upload is done. */
  readonly id: string;
  readonly upload: {
    readonly url: string;
    readonly method: 'POST';
    readonly fields: Readonly<Record<string, string>>;
  };
  readonly expiresAt: string;
}

export interface UploadProgress {
  /** Bytes of the form sent so far (the file and the few fields before it). */
  readonly loaded: number;
  readonly total: number;
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/**
 * Sends one file to a slot: a multipart/form-data POST of every field of the slot, then the
 * file as the last part, named `file` (what S3's presigned POST and the gateway's local folder
 * both take). Resolves when the storage accepted it; rejects with a ChatApiError otherwise.
 */
export type Uploader = (
  slot: UploadSlot,
  file: Blob,
  options: UploadOptions & { timeoutMs: number },
) => Promise<void>;

/** A short-lived download link (members only). */
export interface AttachmentLink {
  readonly url: string;
  readonly expiresAt: string;
}

export function isUploadSlot(value: unknown): value is UploadSlot {
  if (!isObject(value) || typeof value['id'] !== 'string' || typeof value['expiresAt'] !== 'string')
    return false;
  const upload = value['upload'];
  return (
    isObject(upload) &&
    typeof upload['url'] === 'string' &&
    upload['method'] === 'POST' &&
    isObject(upload['fields']) &&
    Object.values(upload['fields']).every((v) => typeof v === 'string')
  );
}

export function isAttachmentLink(value: unknown): value is AttachmentLink {
  return (
    isObject(value) && typeof value['url'] === 'string' && typeof value['expiresAt'] === 'string'
  );
}

function form(slot: UploadSlot, file: Blob): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(slot.upload.fields)) data.append(name, value);
  data.append('file', file);
  return data;
}

/** What the storage's refusal means to the caller: S3 answers XML, the local folder JSON. */
function refusal(status: number, text: string): ChatApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = isObject(body) && isErrorBody(body['error']) ? body['error'] : undefined;
  const s3 = /<Code>([^<]{1,64})<\/Code>[\s\S]*?<Message>([^<]{0,300})<\/Message>/.exec(text);
  const code =
    error?.code ??
    (status === 413 || s3?.[1] === 'EntityTooLarge'
      ? 'PAYLOAD_TOO_LARGE'
      : status === 403
        ? 'FORBIDDEN'
        : status >= 500
          ? 'UNAVAILABLE'
          : 'INVALID_PAYLOAD');
  const message =
    error?.message ??
    (s3 ? `${s3[1]}: ${s3[2]}` : `the storage refused the upload (HTTP ${status})`);
  return new ChatApiError(code, `upload: ${message}`, status);
}

/**
 * The browser's uploader: XMLHttpRequest, the one browser API that reports upload progress
 * (fetch does not). The request is cancelled by the signal or the deadline.
 */
export const xhrUploader: Uploader = (slot, file, { onProgress, signal, timeoutMs }) =>
  new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', slot.upload.url);
    xhr.timeout = timeoutMs;
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.({ loaded: event.loaded, total: event.total });
    };
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const done = (outcome: () => void) => {
      signal?.removeEventListener('abort', abort);
      outcome();
    };
    xhr.onload = () =>
      done(() =>
        xhr.status >= 200 && xhr.status < 300
          ? resolve()
          : reject(refusal(xhr.status, String(xhr.responseText ?? ''))),
      );
    xhr.onerror = () =>
      done(() =>
        reject(new ChatApiError('NETWORK', 'upload: the storage could not be reached', 0)),
      );
    xhr.ontimeout = () =>
      done(() =>
        reject(new ChatApiError('TIMEOUT', `upload: no answer within ${timeoutMs} ms`, 0)),
      );
    xhr.onabort = () =>
      done(() => reject(new ChatError('CLOSED', 'upload: cancelled', { cause: signal?.reason })));
    if (signal?.aborted) return xhr.abort();
    xhr.send(form(slot, file));
  });

/**
 * The uploader where there is no XMLHttpRequest (Node, workers without it): fetch with the
 * form, so the runtime sets the length (S3 refuses chunked uploads). fetch reports no upload
 * progress, so progress is said at the start and once the storage has all of it.
 */
export const fetchUploader: Uploader = async (slot, file, { onProgress, signal, timeoutMs }) => {
  const deadline = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
  onProgress?.({ loaded: 0, total: file.size });
  let response: Response;
  try {
    response = await fetch(slot.upload.url, {
      method: 'POST',
      body: form(slot, file),
      signal: combined,
    });
  } catch (error) {
    if (signal?.aborted) throw new ChatError('CLOSED', 'upload: cancelled', { cause: error });
    if (deadline.aborted)
      throw new ChatApiError('TIMEOUT', `upload: no answer within ${timeoutMs} ms`, 0);
    throw new ChatApiError('NETWORK', `upload: ${toChatError(error).message}`, 0, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw refusal(response.status, text);
  onProgress?.({ loaded: file.size, total: file.size });
};

/** XMLHttpRequest where the runtime has it (browsers), fetch elsewhere. */
export function defaultUploader(): Uploader {
  return typeof XMLHttpRequest === 'function' ? xhrUploader : fetchUploader;
}
