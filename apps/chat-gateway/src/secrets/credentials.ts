import type { RedisCredentials } from '@jobsphere/redis-kit';

export interface MongoCredentials {
  username: string;
  password: string;
}

/** What the MongoDB connection needs from a rotating user (see mongo-reauth.ts). */
export interface MongoCredentialsProvider {
  current(): MongoCredentials;
  /** Re-reads after MongoDB refused the credentials; resolves true when they changed. */
  refresh(reason: string): Promise<boolean>;
}

/**
 * A Redis AUTH secret: the token itself (the ElastiCache convention), or JSON with `password` (and
 * optionally `username`, for a Redis ACL user).
 */
export function parseRedisSecret(raw: string): RedisCredentials {
  const trimmed = raw.trim();
  if (trimmed.startsWith('{')) {
    const parsed = JSON.parse(trimmed) as { username?: unknown; password?: unknown };
    if (typeof parsed.password !== 'string' || parsed.password === '')
      throw new Error('the JSON has no "password"');
    return {
      password: parsed.password,
      ...(typeof parsed.username === 'string' &&
        parsed.username !== '' && { username: parsed.username }),
    };
  }
  if (trimmed === '') throw new Error('the value is empty');
  return { password: trimmed };
}

/** A MongoDB user secret: JSON with `username` and `password` (the Secrets Manager convention). */
export function parseMongoSecret(raw: string): MongoCredentials {
  let parsed: { username?: unknown; password?: unknown };
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch {
    throw new Error('the value is not JSON with "username" and "password"');
  }
  if (typeof parsed.username !== 'string' || parsed.username === '')
    throw new Error('the JSON has no "username"');
  // The first version names the user only; the first rotation sets the password.
  if (typeof parsed.password !== 'string' || parsed.password === '')
    throw new Error('the JSON has no "password" yet (has the first rotation run?)');
  return { username: parsed.username, password: parsed.password };
}
