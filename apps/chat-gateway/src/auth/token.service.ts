import { Inject, Injectable } from '@nestjs/common';
import {
  USER_ROLES,
  UnauthorizedError,
  type Principal,
  type UserRole,
} from '@jobsphere/chat-domain';
import { errors, jwtVerify, SignJWT } from 'jose';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

export interface VerifiedToken extends Principal {
  /** Expiry, epoch milliseconds. */
  expiresAt: number;
}

// Pinned: a token signed with any other algorithm (or `none`) is rejected.
const ALGORITHM = 'HS256';
const SUBJECT = /^[A-Za-z0-9_.:@-]{1,64}$/;
/** 9999-12-31: an `exp` past it is no date at all (it would break every date derived from it). */
const MAX_EXP_SECONDS = 253_402_300_799;

/** Verifies the access tokens the JobSphere identity service issues. */
@Injectable()
export class TokenService {
  private readonly key: Uint8Array;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.key = new TextEncoder().encode(config.jwt.secret);
  }

  async verify(token: string | undefined): Promise<VerifiedToken> {
    if (!token) throw new UnauthorizedError('missing access token');
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        requiredClaims: ['sub', 'exp'],
        ...(this.config.jwt.issuer !== undefined && { issuer: this.config.jwt.issuer }),
        ...(this.config.jwt.audience !== undefined && { audience: this.config.jwt.audience }),
      });
      // A service token is never a person, whatever secret signed it.
      if (payload['token_use'] !== undefined)
        throw new UnauthorizedError('service tokens are not accepted here');
      const role = payload['role'];
      if (typeof payload.sub !== 'string' || !SUBJECT.test(payload.sub)) {
        throw new UnauthorizedError('invalid token subject');
      }
      if (typeof role !== 'string' || !(USER_ROLES as readonly string[]).includes(role)) {
        throw new UnauthorizedError('invalid token role');
      }
      const exp = payload.exp ?? 0;
      if (!Number.isFinite(exp) || exp > MAX_EXP_SECONDS) {
        throw new UnauthorizedError('invalid token expiry');
      }
      return { userId: payload.sub, role: role as UserRole, expiresAt: exp * 1000 };
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      if (error instanceof errors.JWTExpired) throw new UnauthorizedError('access token expired');
      throw new UnauthorizedError('invalid access token');
    }
  }

  /** Mints a token with the configured secret: for local development and tests only. */
  async sign(principal: Principal, ttlSeconds = 3600): Promise<string> {
    const jwt = new SignJWT({ role: principal.role })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(principal.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
    if (this.config.jwt.issuer) jwt.setIssuer(this.config.jwt.issuer);
    if (this.config.jwt.audience) jwt.setAudience(this.config.jwt.audience);
    return jwt.sign(this.key);
  }
}

/** The token of an HTTP request or a socket handshake: `Authorization: Bearer …`. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}
