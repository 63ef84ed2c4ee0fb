import { SignJWT } from 'jose';

export interface TestTokenOptions {
  secret: string;
  userId: string;
  role?: 'candidate' | 'recruiter' | 'admin';
  /** Negative for an already expired token. */
  ttlSeconds?: number;
  /** An exact `exp` (epoch seconds), for tokens no identity service would issue. */
  exp?: number;
  /** The company the person acts for, in the gateway's default company claim (`org_id`). */
  companyId?: string;
}

/** An access token shaped like the identity service's (HS256; sub, role, exp, org_id if any). */
export async function signTestToken(options: TestTokenOptions): Promise<string> {
  return new SignJWT({
    role: options.role ?? 'candidate',
    ...(options.companyId !== undefined && { org_id: options.companyId }),
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.userId)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(options.secret));
}

/** A service token of JobSphere's backend for the server API (`/service/v1`), HS256. */
export function signTestServiceToken(options: {
  secret: string;
  scopes: readonly string[];
  service?: string;
  audience?: string;
}): Promise<string> {
  return new SignJWT({ scope: options.scopes.join(' '), token_use: 'service' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.service ?? 'jobsphere-backend')
    .setAudience(options.audience ?? 'jobsphere-chat-service')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(options.secret));
}
