import { USER_ROLES, type UserRole } from '@jobsphere/chat-domain';
import { z } from 'zod';

// Whose tokens the gateway accepts and how it reads them: a shared HS256 secret (JWT_SECRET),
// an identity provider's published keys (JWT_JWKS_URL: Cognito, Auth0, Keycloak, any OIDC
// provider), or both. Read by loadConfig (app-config.ts) with the rest, so every bad variable is
// named at once. docs/identity.md walks through the providers.

/** Asymmetric algorithms taken from a JWKS; HS256 is only ever checked against JWT_SECRET. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const;
export type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number];

export interface JwksConfig {
  url: string;
  algorithms: JwksAlgorithm[];
  /** Deadline of one fetch of the key set (connect, answer, body). */
  timeoutMs: number;
  /** After a fetch, how long a token with an unknown `kid` waits before it may cause another. */
  cooldownMs: number;
  /** Keys older than this are fetched again before use (a removed key stops working). */
  cacheMaxAgeMs: number;
  /** A key set document larger than this, or with more keys than `maxKeys`, is refused. */
  maxBytes: number;
  maxKeys: number;
}

export interface IdentityConfig {
  /** The HS256 key; absent: no HS256 token is accepted. */
  secret?: string;
  usingDevSecret: boolean;
  jwks?: JwksConfig;
  issuer?: string;
  /** Accepted audiences: the token's `audienceClaim` must hold one of them. */
  audience?: string[];
  /** `aud` (OIDC), or e.g. `client_id` for Cognito access tokens, which carry no `aud`. */
  audienceClaim: string;
  /** Claim holding the chat user id (`sub` by default). */
  userIdClaim: string;
  /** Claim holding the role, or the provider's groups or roles (a string or a list). */
  roleClaim: string;
  /** Provider value -> role; absent: the claim must already say candidate, recruiter or admin. */
  roleMap?: Record<string, UserRole>;
  /** The role of a token whose claim maps to none; absent: such a token is refused. */
  defaultRole?: UserRole;
  /** Claim holding the company the person acts for (optional in a token; see Principal). */
  companyClaim: string;
  /** The longest lifetime of an identity-service token: how long a revocation must last. */
  maxTtlMs: number;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const CLAIM = z
  .string()
  .max(200)
  .regex(/^[^\s]+$/, 'must be a claim name (or a dotted path), without spaces');

const schema = z.object({
  JWT_JWKS_URL: z.url().optional(),
  JWT_ALGORITHMS: z
    .string()
    .transform((v) => v.split(',').map((a) => a.trim()))
    .pipe(z.array(z.enum(JWKS_ALGORITHMS)).min(1))
    .optional(),
  JWT_JWKS_TIMEOUT_MS: int(100, 30_000).default(3_000),
  JWT_JWKS_COOLDOWN_MS: int(0, 3_600_000).default(30_000),
  JWT_JWKS_CACHE_MAX_AGE_MS: int(1_000, 24 * 3_600_000).default(600_000),
  JWT_ISSUER: z.string().min(1).max(500).optional(),
  JWT_AUDIENCE: z.string().min(1).max(2_000).optional(),
  JWT_AUDIENCE_CLAIM: CLAIM.default('aud'),
  JWT_USER_ID_CLAIM: CLAIM.default('sub'),
  JWT_ROLE_CLAIM: CLAIM.default('role'),
  JWT_ROLE_MAP: z.string().min(1).max(4_000).optional(),
  JWT_DEFAULT_ROLE: z.enum(USER_ROLES).optional(),
  JWT_COMPANY_CLAIM: CLAIM.default('org_id'),
  JWT_MAX_TTL_MS: int(60_000, 30 * 24 * 3_600_000).default(24 * 3_600_000),
});

/** `recruiters=recruiter,chat-admins=admin`: provider value = role, comma-separated. */
function parseRoleMap(
  value: string,
  issue: (message: string) => void,
): Record<string, UserRole> | undefined {
  const map: Record<string, UserRole> = {};
  for (const entry of value.split(',').map((e) => e.trim())) {
    const at = entry.lastIndexOf('=');
    const from = entry.slice(0, at).trim();
    const to = entry.slice(at + 1).trim();
    if (at <= 0 || !(USER_ROLES as readonly string[]).includes(to)) {
      issue(
        `"${entry.slice(0, 100)}" is not <provider value>=<${USER_ROLES.join('|')}> (entries separated by commas)`,
      );
      return undefined;
    }
    map[from] = to as UserRole;
  }
  return map;
}

/**
 * The identity settings. `secret` is JWT_SECRET as given; without it and without a JWKS the
 * development secret stands in (never in production, which loadConfig refuses before this).
 * Production with a JWKS must name the issuer and the audience: a provider's keys sign the tokens
 * of every application of the tenant, and only those meant for this one may pass.
 */
export function parseIdentityConfig(
  env: Record<string, string | undefined>,
  production: boolean,
  secret: string | undefined,
  devSecret: string,
  issues: { variable: string; message: string }[],
): IdentityConfig {
  const issue = (variable: string) => (message: string) => issues.push({ variable, message });
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const i of parsed.error.issues) issue(String(i.path[0] ?? '(env)'))(i.message);
  }
  const e = parsed.success ? parsed.data : undefined;
  const jwksUrl = env['JWT_JWKS_URL'];
  if (jwksUrl !== undefined && URL.canParse(jwksUrl)) {
    const { protocol } = new URL(jwksUrl);
    if (production && protocol !== 'https:') issue('JWT_JWKS_URL')('must be https in production');
    else if (!['https:', 'http:'].includes(protocol))
      issue('JWT_JWKS_URL')('must be an http(s) URL');
  }
  if (jwksUrl === undefined && env['JWT_ALGORITHMS'] !== undefined)
    issue('JWT_ALGORITHMS')('needs JWT_JWKS_URL (HS256 is implied by JWT_SECRET)');
  if (jwksUrl !== undefined && production) {
    if (env['JWT_ISSUER'] === undefined)
      issue('JWT_ISSUER')('required with JWT_JWKS_URL in production');
    if (env['JWT_AUDIENCE'] === undefined)
      issue('JWT_AUDIENCE')('required with JWT_JWKS_URL in production');
  }
  const roleMap =
    env['JWT_ROLE_MAP'] !== undefined
      ? parseRoleMap(env['JWT_ROLE_MAP'], issue('JWT_ROLE_MAP'))
      : undefined;
  if (!e)
    return {
      usingDevSecret: false,
      audienceClaim: 'aud',
      userIdClaim: 'sub',
      roleClaim: 'role',
      companyClaim: 'org_id',
      maxTtlMs: 24 * 3_600_000,
    };

  const key = secret ?? (jwksUrl === undefined ? devSecret : undefined);
  const audience = e.JWT_AUDIENCE?.split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return {
    ...(key !== undefined && { secret: key }),
    usingDevSecret: key === devSecret,
    ...(e.JWT_JWKS_URL !== undefined && {
      jwks: {
        url: e.JWT_JWKS_URL,
        algorithms: e.JWT_ALGORITHMS ?? [...JWKS_ALGORITHMS],
        timeoutMs: e.JWT_JWKS_TIMEOUT_MS,
        cooldownMs: e.JWT_JWKS_COOLDOWN_MS,
        cacheMaxAgeMs: e.JWT_JWKS_CACHE_MAX_AGE_MS,
        maxBytes: 256 * 1024,
        maxKeys: 100,
      },
    }),
    ...(e.JWT_ISSUER !== undefined && { issuer: e.JWT_ISSUER }),
    ...(audience !== undefined && audience.length > 0 && { audience }),
    audienceClaim: e.JWT_AUDIENCE_CLAIM,
    userIdClaim: e.JWT_USER_ID_CLAIM,
    roleClaim: e.JWT_ROLE_CLAIM,
    ...(roleMap && { roleMap }),
    ...(e.JWT_DEFAULT_ROLE !== undefined && { defaultRole: e.JWT_DEFAULT_ROLE }),
    companyClaim: e.JWT_COMPANY_CLAIM,
    maxTtlMs: e.JWT_MAX_TTL_MS,
  };
}
