import { ValidationError } from './errors.js';

// Page cursors of the stores' lists. Their text is ASCII (a time and an id), so the browser's
// and Node's btoa/atob encode it: the domain stays free of Node's Buffer.

function toBase64Url(ascii: string): string {
  return btoa(ascii).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Null when `text` is no base64url. */
function fromBase64Url(text: string): string | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    return atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  } catch {
    return null;
  }
}

/** Opaque cursor of the conversation list: position (lastActivityAt, id) of the last item seen. */
export function encodeActivityCursor(at: Date, id: string): string {
  return toBase64Url(`${at.getTime()}.${id}`);
}

export function decodeActivityCursor(cursor: string): { at: Date; id: string } {
  const match = /^(\d{1,15})\.([A-Za-z0-9_.:@-]{1,64})$/.exec(fromBase64Url(cursor) ?? '');
  if (!match)
    throw new ValidationError('invalid cursor', [
      { path: 'cursor', message: 'not a cursor this server issued' },
    ]);
  return { at: new Date(Number(match[1])), id: match[2]! };
}

/** Whether (at, id) comes after the cursor's position in a list ordered newest first (time, then id). */
export function beyondCursor(after: { at: Date; id: string } | undefined, at: Date, id: string) {
  if (!after) return true;
  const t = at.getTime();
  const cut = after.at.getTime();
  return t < cut || (t === cut && id < after.id);
}

/**
 * The cursor to the next page: set when the query found more than `limit` items (it asks for one
 * more than it keeps), positioned at the last item kept.
 */
export function nextCursorOf<T>(
  found: number,
  limit: number,
  kept: readonly T[],
  position: (item: T) => [Date, string],
): { nextCursor?: string } {
  const last = kept.at(-1);
  return found > limit && last !== undefined
    ? { nextCursor: encodeActivityCursor(...position(last)) }
    : {};
}
