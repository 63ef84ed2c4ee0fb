import { UnsupportedProtocolError } from './errors.js';

/**
 * The socket protocol's version, sent by clients in the handshake (`auth.protocol`). It moves
 * only for a change an existing client cannot live with (an event renamed or removed, a field's
 * meaning changed); additions (events, fields, codes) keep it, because clients ignore what they
 * do not know. A gateway speaks every version from `oldest` to `current`.
 */
export const SOCKET_PROTOCOL = { current: 1, oldest: 1 } as const;

/**
 * The handshake's check: a client that names no version is taken to speak the oldest one
 * (plain Socket.IO clients written from the docs); one outside the range is refused with
 * UNSUPPORTED_PROTOCOL, saying which side to update.
 */
export function assertSupportedProtocol(
  requested: unknown,
  supported: { current: number; oldest: number } = SOCKET_PROTOCOL,
): void {
  if (requested === undefined) return;
  const range = `${supported.oldest}${supported.current > supported.oldest ? `–${supported.current}` : ''}`;
  if (typeof requested !== 'number' || !Number.isSafeInteger(requested) || requested < 1)
    throw new UnsupportedProtocolError(
      `auth.protocol must be a positive integer; this gateway speaks socket protocol ${range}`,
    );
  if (requested > supported.current)
    throw new UnsupportedProtocolError(
      `the client speaks socket protocol ${requested}, this gateway ${range}: update the gateway, or use an older client`,
    );
  if (requested < supported.oldest)
    throw new UnsupportedProtocolError(
      `the client speaks socket protocol ${requested}, this gateway ${range}: update the client`,
    );
}
