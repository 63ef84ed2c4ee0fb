import { SignJWT } from 'jose';

export interface TestTokenOptions {
  secret: string;
  userId: string;
  role?: 'candidate' | 'recruiter' | 'admin';
  /** Negative for an already expired token. */
  ttlSeconds?: number;
  /** An exact `exp` (epoch seconds), for tokens no identity service would issue. */
  exp?: number;
}

/** An access token shaped like the identity service's (HS256; sub, role, exp). */
export async function signTestToken(options: TestTokenOptions): Promise<string> {
  return new SignJWT({ role: options.role ?? 'candidate' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.userId)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(options.secret));
}
