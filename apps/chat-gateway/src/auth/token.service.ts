import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  USER_ROLES,
  claimValue,
  TOKEN_ID,
  UnauthorizedError,
  UnavailableError,
  type Principal,
  type UserRole,
} from '@jobsphere/chat-domain';
import {
  errors,
  jwtVerify,
  SignJWT,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { type IdentityConfig } from '../config/identity-config.js';
import { createKeySet, KeySetUnavailable } from './key-set.js';
import { TokenRevocations } from './revocations.service.js';

export interface VerifiedToken extends Principal {
  /** Expiry, epoch milliseconds. */
  expiresAt: number;
}

/** Who a verified token names, without its expiry: what sockets and requests carry. */
export function principalOf({ userId, role, companyId }: VerifiedToken): Principal {
  return { userId, role, ...(companyId !== undefined && { companyId }) };
}

/** 9999-12-31: an `exp` past it is no date at all (it would break every date derived from it). */
const MAX_EXP_SECONDS = 253_402_300_799;
/** When a token maps to several roles, the strongest wins (a recruiter who moderates is admin). */
const PRECEDENCE: readonly UserRole[] = ['admin', 'recruiter', 'candidate'];
/** Cognito marks its tokens `access` or `id`; the gateway's own service tokens say `service`. */
const PERSON_TOKEN_USES = new Set(['access', 'id']);

/**
 * Verifies the access tokens of the identity service: HS256 against JWT_SECRET, RS256/ES256
 * against the provider's JWKS (identity-config.ts). The algorithm a token names only picks which
 * of the configured keys checks it: an HS256 token is never checked against a public key, and
 * `none` or an algorithm not configured is refused.
 */
@Injectable()
export class TokenService {
  private readonly logger = new Logger('Identity');
  private lastKeySetProblem: string | undefined;
  private readonly identity: IdentityConfig;
  private readonly secret: Uint8Array | undefined;
  private readonly getKey: JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() private readonly revocations?: TokenRevocations,
  ) {
    this.identity = config.jwt;
    const { secret, jwks, issuer, audience, audienceClaim } = this.identity;
    this.secret = secret === undefined ? undefined : new TextEncoder().encode(secret);
    const keySet = jwks && createKeySet(jwks);
    this.getKey = async (header, token) => {
      if (header.alg === 'HS256' && this.secret) return this.secret;
      if (keySet && header.alg !== 'HS256') return keySet(header, token);
      throw new errors.JOSEAlgNotAllowed(`"${String(header.alg)}" is not accepted`);
    };
    this.options = {
      algorithms: [...(this.secret ? ['HS256'] : []), ...(jwks?.algorithms ?? [])],
      requiredClaims: ['exp'],
      ...(issuer !== undefined && { issuer }),
      // jose checks `aud`; another audience claim (Cognito's client_id) is checked below.
      ...(audience !== undefined && audienceClaim === 'aud' && { audience }),
    };
  }

  async verify(token: string | undefined): Promise<VerifiedToken> {
    if (!token) throw new UnauthorizedError('missing access token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, this.options));
    } catch (error) {
      if (error instanceof KeySetUnavailable && error.message !== this.lastKeySetProblem)
        this.logger.warn(`${error.message}; tokens signed with keys not yet known are refused`);
      if (error instanceof KeySetUnavailable) this.lastKeySetProblem = error.message;
      throw verificationError(error);
    }
    this.lastKeySetProblem = undefined;
    const verified = this.principal(payload);
    // An erased person's earlier tokens: refused on every instance (see TokenRevocations).
    const issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : undefined;
    if (await this.revocations?.revoked(verified.userId, issuedAt))
      throw new UnauthorizedError('access token revoked');
    return verified;
  }

  /** The user, role, company and expiry a verified token carries, read through the configured claims. */
  private principal(payload: JWTPayload): VerifiedToken {
    const { userIdClaim, roleClaim, companyClaim, audience, audienceClaim } = this.identity;
    // A service token is never a person, whatever key signed it.
    const use = payload['token_use'];
    if (use !== undefined && !(typeof use === 'string' && PERSON_TOKEN_USES.has(use)))
      throw new UnauthorizedError('service tokens are not accepted here');
    if (audience !== undefined && audienceClaim !== 'aud') {
      const held = claimValue(payload, audienceClaim);
      const values = Array.isArray(held) ? held : [held];
      if (!values.some((v) => typeof v === 'string' && audience.includes(v)))
        throw new UnauthorizedError(`unexpected "${audienceClaim}" claim value`);
    }
    const userId = claimValue(payload, userIdClaim);
    if (typeof userId !== 'string' || !TOKEN_ID.test(userId))
      throw new UnauthorizedError('invalid token subject');
    const role = this.role(claimValue(payload, roleClaim));
    if (!role) throw new UnauthorizedError('invalid token role');
    // Absent: the person acts for no company. Present, it must be one id: a malformed claim is
    // the identity service's mistake, refused rather than read as "no company".
    const companyId = claimValue(payload, companyClaim);
    if (companyId !== undefined && (typeof companyId !== 'string' || !TOKEN_ID.test(companyId)))
      throw new UnauthorizedError(`invalid "${companyClaim}" claim value`);
    const exp = payload.exp ?? 0;
    if (!Number.isFinite(exp) || exp > MAX_EXP_SECONDS)
      throw new UnauthorizedError('invalid token expiry');
    return { userId, role, ...(companyId !== undefined && { companyId }), expiresAt: exp * 1000 };
  }

  /** The provider's value(s) mapped to one role (the strongest), or the default role. */
  private role(value: unknown): UserRole | undefined {
    const { roleMap, defaultRole } = this.identity;
    const values = (Array.isArray(value) ? value : [value]).filter(
      (v): v is string => typeof v === 'string',
    );
    const roles = new Set(
      values
        .map((v) =>
          roleMap ? roleMap[v] : (USER_ROLES as readonly string[]).includes(v) ? v : undefined,
        )
        .filter((r): r is UserRole => r !== undefined),
    );
    return PRECEDENCE.find((r) => roles.has(r)) ?? defaultRole;
  }

  /** Mints a token with the configured secret: for local development and tests only. */
  async sign(principal: Principal, ttlSeconds = 3600): Promise<string> {
    if (!this.secret)
      throw new Error('no JWT_SECRET: tokens come from the identity provider (JWT_JWKS_URL)');
    const { issuer, audience } = this.identity;
    const claims = {
      role: principal.role,
      ...(principal.companyId !== undefined && {
        [this.identity.companyClaim]: principal.companyId,
      }),
    };
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(principal.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
    if (issuer) jwt.setIssuer(issuer);
    if (audience) jwt.setAudience(audience);
    return jwt.sign(this.secret);
  }
}

/**
 * What a failed verification tells the client: 401 for the token's own faults; UNAVAILABLE (retry,
 * the token may be fine) when the provider's key set could not be fetched in time.
 */
function verificationError(error: unknown): Error {
  if (error instanceof UnauthorizedError || error instanceof UnavailableError) return error;
  if (error instanceof errors.JWTExpired) return new UnauthorizedError('access token expired');
  if (error instanceof errors.JWKSTimeout || error instanceof KeySetUnavailable)
    return new UnavailableError('identity provider keys unavailable, retry');
  return new UnauthorizedError('invalid access token');
}

/** The token of an HTTP request or a socket handshake: `Authorization: Bearer …`. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}
