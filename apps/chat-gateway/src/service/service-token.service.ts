import { Inject, Injectable } from '@nestjs/common';
import {
  SERVICE_SCOPES,
  TOKEN_ID,
  UnauthorizedError,
  type ServicePrincipal,
  type ServiceScope,
} from '@jobsphere/chat-domain';
import { errors, jwtVerify, SignJWT } from 'jose';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

// Pinned, like user tokens; the secret and the audience are the service API's own.
const ALGORITHM = 'HS256';
/** What `typ`-like claim marks a server-to-server token (a user token never carries it). */
export const SERVICE_TOKEN_USE = 'service';

/**
 * Server-to-server credentials: JWTs signed with SERVICE_TOKEN_SECRET (never JWT_SECRET),
 * for SERVICE_TOKEN_AUDIENCE, naming the calling service (`sub`) and what it may do (`scope`,
 * space-separated). User tokens fail here, service tokens fail on sockets and user routes.
 */
@Injectable()
export class ServiceTokenService {
  private readonly key: Uint8Array | undefined;
  private readonly audience: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const service = config.platform.service;
    this.key = service ? new TextEncoder().encode(service.secret) : undefined;
    this.audience = service?.audience ?? '';
  }

  get enabled(): boolean {
    return this.key !== undefined;
  }

  async verify(token: string | undefined): Promise<ServicePrincipal> {
    if (!this.key) throw new UnauthorizedError('the server API is not configured');
    if (!token) throw new UnauthorizedError('missing service token');
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        audience: this.audience,
        requiredClaims: ['sub', 'exp', 'aud'],
      });
      if (payload['token_use'] !== SERVICE_TOKEN_USE)
        throw new UnauthorizedError('not a service token');
      if (typeof payload.sub !== 'string' || !TOKEN_ID.test(payload.sub))
        throw new UnauthorizedError('invalid service name');
      const scope = typeof payload['scope'] === 'string' ? payload['scope'] : '';
      const scopes = scope
        .split(' ')
        .filter((s): s is ServiceScope => (SERVICE_SCOPES as readonly string[]).includes(s));
      return { service: payload.sub, scopes: [...new Set(scopes)] };
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      if (error instanceof errors.JWTExpired) throw new UnauthorizedError('service token expired');
      throw new UnauthorizedError('invalid service token');
    }
  }

  /** Mints a service token (the dev CLI and tests); the platform's backend mints its own. */
  async sign(service: string, scopes: readonly ServiceScope[], ttlSeconds = 3600): Promise<string> {
    if (!this.key) throw new Error('the server API is not configured');
    return new SignJWT({ scope: scopes.join(' '), token_use: SERVICE_TOKEN_USE })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(service)
      .setAudience(this.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.key);
  }
}
