import { claimValue } from '@jobsphere/chat-domain';
import { ChatError } from './errors.js';

/** Longer than any access token an identity service issues; past it nothing is decoded. */
const MAX_TOKEN_LENGTH = 16_384;

/**
 * The user a JWT names, read without verifying it (the gateway verifies; the client only has
 * to know whose token it holds): the string value of `claim` in the payload, read as the
 * gateway reads it (a top-level claim, else a dotted path), or undefined when the token is not
 * a JWT or carries no such claim.
 */
export function tokenUser(token: string, claim: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof payload !== 'object' || payload === null) return undefined;
    const value = claimValue(payload as Record<string, unknown>, claim);
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who the client acts for. Given a token string, it is the token's user; a `userId` passed as
 * well must be the same one. A token provider needs `userId`, and every token it gives is
 * checked against it (`assertSameUser`), so an application never sends as someone it does not
 * believe it is.
 */
export function resolveUser(userId: string | undefined, token: unknown, claim: string): string {
  const fromToken = typeof token === 'string' ? tokenUser(token, claim) : undefined;
  if (userId !== undefined && fromToken !== undefined && userId !== fromToken)
    throw mismatch(fromToken, userId, claim);
  const resolved = userId ?? fromToken;
  if (resolved === undefined || resolved.length === 0)
    throw new ChatError(
      'TOKEN',
      typeof token === 'string'
        ? `the token names no user (it is not a JWT with a "${claim}" claim); pass userId`
        : 'pass userId with a token provider: it is checked against every token the provider gives',
    );
  return resolved;
}

/** Throws WRONG_USER when a JWT names another user than the client's. */
export function assertSameUser(token: string, userId: string, claim: string): void {
  const fromToken = tokenUser(token, claim);
  if (fromToken !== undefined && fromToken !== userId) throw mismatch(fromToken, userId, claim);
}

function mismatch(fromToken: string, userId: string, claim: string): ChatError {
  return new ChatError(
    'WRONG_USER',
    `the token's ${claim} is ${JSON.stringify(fromToken.slice(0, 64))}, but this client is ` +
      `${JSON.stringify(userId.slice(0, 64))}: nothing is sent with another user's token`,
  );
}
