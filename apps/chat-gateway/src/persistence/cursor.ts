import { ValidationError } from '@jobsphere/chat-domain';

/** Opaque cursor of the conversation list: position (lastActivityAt, id) of the last item seen. */
export function encodeActivityCursor(at: Date, id: string): string {
  return Buffer.from(`${at.getTime()}.${id}`, 'utf8').toString('base64url');
}

export function decodeActivityCursor(cursor: string): { at: Date; id: string } {
  const match = /^(\d{1,15})\.([A-Za-z0-9_.:@-]{1,64})$/.exec(
    Buffer.from(cursor, 'base64url').toString('utf8'),
  );
  if (!match)
    throw new ValidationError('invalid cursor', [
      { path: 'cursor', message: 'not a cursor this server issued' },
    ]);
  return { at: new Date(Number(match[1])), id: match[2]! };
}
