import {
  REACTION_DEFAULTS,
  REACTION_LIMITS,
  TRUST_DEFAULTS,
  isAcceptedEmoji,
  type ReactionSettings,
} from '@jobsphere/chat-domain';
import { parseRedisConfig, RedisConfigError, type RedisConfig } from '@jobsphere/redis-kit';
import { z } from 'zod';
import { parseIdentityConfig, type IdentityConfig } from './identity-config.js';
import { parsePlatformConfig, type PlatformConfig } from './platform-config.js';
import { WORKERS_PATTERN, resolveWorkers, workersIssues } from './workers-config.js';
import { parseSafetyConfig, type SafetyConfig } from './safety-config.js';
import {
  attachmentsEnvShape,
  attachmentsIssues,
  buildAttachmentsConfig,
  type AttachmentsConfig,
} from '../attachments/attachments.config.js';

/** What a client can spend, per budget: `points` per `durationS` seconds, shared by all instances. */
export interface Budget {
  points: number;
  durationS: number;
}

/** Every client-triggered action with its budget; see docs/configuration.md. */
export type BudgetScope =
  // per user
  | 'send'
  | 'typing'
  | 'sync'
  | 'read'
  | 'presence'
  | 'refresh'
  | 'rest'
  | 'conversations'
  | 'revise'
  | 'react'
  | 'answer'
  | 'block'
  | 'report'
  // per calling service (the server API)
  | 'service'
  | 'uploads'
  // per client IP
  | 'restIp'
  | 'handshakeIp'
  | 'authFailureIp';

/** The typed settings of one gateway instance, validated once at boot. */
export interface AppConfig {
  port: number;
  nodeEnv: 'development' | 'production' | 'test';
  /** Development tools (/try, /dev/token) exist: NODE_ENV explicitly development or test, and the dev secret. */
  devEndpoints: boolean;
  /** MongoDB / DocumentDB connection string; absent = in-memory store. */
  mongodbUri?: string;
  /** Which user tokens are accepted: HS256 with JWT_SECRET, a provider's JWKS, claims (identity-config.ts). */
  jwt: IdentityConfig;
  /** Absent = single process: in-memory Socket.IO adapter, presence and rate limits. */
  redis?: RedisConfig;
  /** Allowed browser origins; `true` = any (development only). */
  corsOrigin: string[] | true;
  socket: {
    pingIntervalMs: number;
    pingTimeoutMs: number;
    maxPayloadBytes: number;
    transports: ('websocket' | 'polling')[];
    /** Concurrent sockets of one user over all instances. */
    maxPerUser: number;
    /** A socket whose unsent output passes this is a slow consumer and is cut off. */
    maxBufferedBytes: number;
    /** Packets one socket may send per 10 s before it is disconnected (a flood). */
    maxPacketsPer10s: number;
  };
  http: {
    maxBodyBytes: number;
    /** Proxies in front (the ALB is one) whose X-Forwarded-For is trusted for the client IP. */
    trustProxyHops: number;
  };
  /** Deadline of every store operation: a stalled store answers UNAVAILABLE within it. */
  store: { timeoutMs: number };
  /** Where /metrics is served: its own listener, or the main port (`undefined`, not in production). */
  metrics?: { port: number; host: string };
  shutdown: { drainMs: number };
  /** Gateway workers behind this instance's port (GATEWAY_WORKERS; 1 = this process alone). */
  workers: number;
  budgets: Record<BudgetScope, Budget>;
  presence: { ttlMs: number; heartbeatMs: number; maxFanout: number; offlineGraceMs: number };
  /** Message requests and edits (the domain's TRUST_DEFAULTS unless set). */
  trust: { requestAllowance: number; editWindowMs: number };
  /** Which reactions, and how many (the domain's REACTION_DEFAULTS unless set). */
  reactions: ReactionSettings;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Credentials that rotate, read from AWS Secrets Manager instead of the environment: the Redis
   * AUTH token and the MongoDB user. Re-read every `refreshMs` and whenever one is refused.
   */
  secrets?: SecretsConfig;
  /** Service credentials, webhooks, offline notifications (platform-config.ts). */
  platform: PlatformConfig;
  /** The content policy and the pre-send hook (safety-config.ts). */
  safety: SafetyConfig;
  /** Uploaded files: an S3 bucket, or a local folder served by the gateway (the embedded default). */
  attachments: AttachmentsConfig;
}

export interface SecretsConfig {
  /** Secret whose value is the Redis AUTH token (or JSON with `password`). */
  redisAuthSecretId?: string;
  /** Secret whose value is JSON with `username` and `password` of the MongoDB user. */
  mongodbSecretId?: string;
  region: string;
  /** Another Secrets Manager endpoint (tests, the local stack); AWS's otherwise. */
  endpoint?: string;
  refreshMs: number;
}

/** Known only to development: a gateway started with nothing set can mint and verify tokens. */
export const DEV_JWT_SECRET = 'jobsphere-chat-dev-secret-not-for-production';

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
    this.name = this.constructor.name;
  }
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Budget variables: name, scope, window and default. docs/configuration.md lists the same. */
const BUDGETS: [variable: string, scope: BudgetScope, durationS: number, points: number][] = [
  ['RATE_LIMIT_SEND_PER_10S', 'send', 10, 30],
  ['RATE_LIMIT_TYPING_PER_10S', 'typing', 10, 20],
  ['RATE_LIMIT_SYNC_PER_MIN', 'sync', 60, 60],
  ['RATE_LIMIT_READ_PER_MIN', 'read', 60, 120],
  ['RATE_LIMIT_PRESENCE_PER_MIN', 'presence', 60, 30],
  ['RATE_LIMIT_REFRESH_PER_MIN', 'refresh', 60, 10],
  ['RATE_LIMIT_REST_PER_MIN', 'rest', 60, 120],
  ['RATE_LIMIT_CONVERSATIONS_PER_HOUR', 'conversations', 3600, 60],
  ['RATE_LIMIT_REVISE_PER_MIN', 'revise', 60, 30],
  ['RATE_LIMIT_REACT_PER_MIN', 'react', 60, 60],
  ['RATE_LIMIT_ANSWER_PER_MIN', 'answer', 60, 30],
  ['RATE_LIMIT_BLOCK_PER_HOUR', 'block', 3600, 60],
  ['RATE_LIMIT_REPORT_PER_HOUR', 'report', 3600, 20],
  ['RATE_LIMIT_SERVICE_PER_MIN', 'service', 60, 6000],
  ['RATE_LIMIT_UPLOADS_PER_HOUR', 'uploads', 3600, 100],
  ['RATE_LIMIT_REST_PER_IP_PER_MIN', 'restIp', 60, 600],
  ['RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN', 'handshakeIp', 60, 120],
  ['RATE_LIMIT_AUTH_FAILURES_PER_IP_PER_MIN', 'authFailureIp', 60, 20],
];

const schema = z.object({
  PORT: int(0, 65_535).default(4000),
  NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URI')
    .optional(),
  JWT_SECRET: z
    .string()
    .refine((v) => new TextEncoder().encode(v).length >= 32, 'must be at least 32 bytes')
    .optional(),
  CLIENT_URL: z.string().min(1).optional(),
  REDIS_ALLOW_PLAINTEXT: bool.default(false),
  SOCKET_PING_INTERVAL_MS: int(1000, 300_000).default(25_000),
  SOCKET_PING_TIMEOUT_MS: int(1000, 300_000).default(20_000),
  SOCKET_MAX_PAYLOAD_BYTES: int(1024, 10_000_000).default(64 * 1024),
  SOCKET_TRANSPORTS: z
    .string()
    .transform((v) => v.split(',').map((t) => t.trim()))
    .pipe(z.array(z.enum(['websocket', 'polling'])).min(1))
    .default(['websocket']),
  SOCKET_MAX_PER_USER: int(1, 10_000).default(20),
  SOCKET_MAX_BUFFERED_BYTES: int(64 * 1024, 1024 * 1024 * 1024).default(1024 * 1024),
  SOCKET_MAX_PACKETS_PER_10S: int(10, 1_000_000).default(300),
  HTTP_MAX_BODY_BYTES: int(1024, 10_000_000).default(64 * 1024),
  TRUST_PROXY_HOPS: int(0, 10).default(0),
  STORE_TIMEOUT_MS: int(100, 60_000).default(1_500),
  METRICS_PORT: int(0, 65_535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_WORKERS: z
    .string()
    .regex(WORKERS_PATTERN, 'must be auto (one per vCPU) or a number of workers from 1 to 999')
    .default('1'),
  SHUTDOWN_DRAIN_MS: int(0, 120_000).optional(),
  ...Object.fromEntries(
    BUDGETS.map(([variable, , , points]) => [variable, int(1, 1_000_000).default(points)]),
  ),
  PRESENCE_TTL_MS: int(2_000, 600_000).default(30_000),
  PRESENCE_MAX_FANOUT: int(0, 100_000).default(500),
  PRESENCE_OFFLINE_GRACE_MS: int(0, 60_000).default(2_000),
  TRUST_REQUEST_ALLOWANCE: int(0, 100).default(TRUST_DEFAULTS.requestAllowance),
  TRUST_EDIT_WINDOW_MS: int(0, 7 * 24 * 3_600_000).default(TRUST_DEFAULTS.editWindowMs),
  REACTIONS_PER_PERSON: int(1, 20).default(REACTION_DEFAULTS.perPerson),
  REACTIONS_PER_MESSAGE: int(1, 100).default(REACTION_DEFAULTS.perMessage),
  // A comma-separated list of emoji; unset: any single emoji.
  REACTIONS_ALLOWED: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean),
      ),
    ])
    .refine((list) => list.length >= 1 && list.length <= REACTION_LIMITS.maxAllowedEmoji, {
      message: `1 to ${REACTION_LIMITS.maxAllowedEmoji} emoji, comma-separated`,
    })
    .refine((list) => list.every((e) => isAcceptedEmoji(e, REACTION_DEFAULTS)), {
      message: 'each entry must be a single emoji',
    })
    .optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  REDIS_AUTH_SECRET_ID: z.string().min(1).optional(),
  MONGODB_SECRET_ID: z.string().min(1).optional(),
  SECRETS_REFRESH_MS: int(5_000, 3_600_000).default(60_000),
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region, e.g. us-east-1')
    .optional(),
  AWS_ENDPOINT_URL_SECRETS_MANAGER: z.url().optional(),
  ...attachmentsEnvShape,
});
type Env = z.infer<typeof schema> & Record<string, number>;

const PRODUCTION_METRICS_PORT = 9464;

/** Why a JWT secret is too weak to sign production tokens, or undefined when it is fine. */
export function weakSecretReason(secret: string): string | undefined {
  if (secret === DEV_JWT_SECRET) return 'is the public development secret';
  if (new TextEncoder().encode(secret).length < 32) return 'must be at least 32 bytes';
  const counts = new Map<string, number>();
  for (const ch of secret) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const length = [...secret].length;
  let entropyPerChar = 0;
  for (const n of counts.values()) entropyPerChar -= (n / length) * Math.log2(n / length);
  // A random 32-character alphanumeric secret carries about 180 bits; 'a' x 40 carries none.
  if (counts.size < 10 || entropyPerChar * length < 128)
    return 'has too little entropy (use at least 32 random bytes, e.g. `openssl rand -base64 48`)';
  for (let period = 1; period <= length / 2; period++) {
    if (secret === secret.slice(0, period).repeat(length / period))
      return 'is a repeated pattern, not a random secret';
  }
  return undefined;
}

/** CLIENT_URL: comma-separated origins (scheme, host, optional port), or `*` outside production. */
function parseOrigins(
  value: string | undefined,
  production: boolean,
  issue: (message: string) => void,
): AppConfig['corsOrigin'] {
  if (value === undefined || value === '*') {
    if (production) issue(value === '*' ? 'must name origins, not *' : 'required in production');
    return true;
  }
  const origins: string[] = [];
  for (const entry of value.split(',').map((o) => o.trim())) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      !['http:', 'https:'].includes(url.protocol) ||
      url.origin !== entry.replace(/\/$/, '')
    ) {
      issue(`"${entry.slice(0, 100)}" is not an origin like https://app.example.com`);
      continue;
    }
    origins.push(url.origin);
  }
  return origins;
}

/**
 * Reads every setting from the environment. Every bad variable is named in one
 * ConfigError; a secret's value never appears in it.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  // Empty strings are treated as unset, as shells and .env files often leave them.
  const clean = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const issues: { variable: string; message: string }[] = [];
  const issue = (variable: string) => (message: string) => issues.push({ variable, message });
  const parsed = schema.safeParse(clean);
  if (!parsed.success) {
    for (const i of parsed.error.issues) issue(String(i.path[0] ?? '(env)'))(i.message);
  }
  let redis: RedisConfig | undefined;
  try {
    redis = parseRedisConfig(clean);
  } catch (error) {
    if (!(error instanceof RedisConfigError)) throw error;
    issues.push(...error.issues);
  }
  // Production fails closed: every missing or unsafe setting is refused, all named at once
  // (read from the raw values, so they are reported even when another variable is malformed).
  const production = clean['NODE_ENV'] === 'production';
  const secret = clean['JWT_SECRET'];
  const corsOrigin = parseOrigins(clean['CLIENT_URL'], production, issue('CLIENT_URL'));
  const flagged = (variable: string) => issues.some((i) => i.variable === variable);
  if (production) {
    if (!clean['MONGODB_URI']) issue('MONGODB_URI')('required when NODE_ENV=production');
    if (!redis && !issues.some((i) => i.variable.startsWith('REDIS_')))
      issue('REDIS_URL')('REDIS_URL or REDIS_HOST is required when NODE_ENV=production');
    if (redis && !redis.tls && !(parsed.success && parsed.data.REDIS_ALLOW_PLAINTEXT))
      issue('REDIS_TLS')(
        'Redis without TLS is refused in production (rediss:// or REDIS_TLS=true; REDIS_ALLOW_PLAINTEXT=true to accept it)',
      );
    if (secret === undefined && clean['JWT_JWKS_URL'] === undefined)
      issue('JWT_SECRET')('required when NODE_ENV=production (unless JWT_JWKS_URL is set)');
    else if (secret === undefined && !clean['ATTACHMENTS_BUCKET'])
      issue('JWT_SECRET')(
        'required in production with local attachments (it signs their links), or set ATTACHMENTS_BUCKET',
      );
    else if (secret !== undefined && !flagged('JWT_SECRET')) {
      const weak = weakSecretReason(secret);
      if (weak) issue('JWT_SECRET')(weak);
    }
  }
  // Settings of rotating credentials that cannot work together (checked on the raw values, so
  // they are named along with any other bad variable).
  const redisSecret = clean.REDIS_AUTH_SECRET_ID;
  const mongoSecret = clean.MONGODB_SECRET_ID;
  if ((redisSecret || mongoSecret) && !clean.AWS_REGION)
    issues.push({
      variable: 'AWS_REGION',
      message: 'required with REDIS_AUTH_SECRET_ID or MONGODB_SECRET_ID',
    });
  if (redisSecret && redis?.password !== undefined)
    issues.push({
      variable: 'REDIS_AUTH_SECRET_ID',
      message: 'cannot be combined with a Redis password (REDIS_PASSWORD or in REDIS_URL)',
    });
  if (redisSecret && !redis && !issues.some((i) => i.variable.startsWith('REDIS_')))
    issues.push({ variable: 'REDIS_AUTH_SECRET_ID', message: 'needs REDIS_URL or REDIS_HOST' });
  if (mongoSecret && !clean.MONGODB_URI)
    issues.push({
      variable: 'MONGODB_SECRET_ID',
      message: 'needs MONGODB_URI (without credentials)',
    });
  if (mongoSecret && clean.MONGODB_URI?.includes('@'))
    issues.push({
      variable: 'MONGODB_URI',
      message: 'must not carry credentials when MONGODB_SECRET_ID provides them',
    });
  const jwt = parseIdentityConfig(clean, production, secret, DEV_JWT_SECRET, issues);
  const platform = parsePlatformConfig(
    clean,
    production,
    secret ?? DEV_JWT_SECRET,
    weakSecretReason,
    issues,
  );
  issues.push(...attachmentsIssues(clean, production));
  const metricsPort = parsed.success
    ? (parsed.data.METRICS_PORT ?? (production ? PRODUCTION_METRICS_PORT : undefined))
    : undefined;
  const workers = parsed.success ? resolveWorkers(parsed.data.GATEWAY_WORKERS) : 1;
  issues.push(
    ...workersIssues(workers, {
      transports: parsed.success ? parsed.data.SOCKET_TRANSPORTS : [],
      mongodbUri: Boolean(clean.MONGODB_URI),
      redis: Boolean(redis),
      metricsListener: metricsPort !== undefined,
    }).filter((i) => !flagged(i.variable)),
  );
  const safety = parseSafetyConfig(clean, production, issues);
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const e = parsed.data as Env;
  const nodeEnv = e.NODE_ENV ?? 'development';

  return {
    port: e.PORT,
    nodeEnv,
    // NODE_ENV unset with production-shaped settings must never expose them: explicit only.
    devEndpoints: (e.NODE_ENV === 'development' || e.NODE_ENV === 'test') && jwt.usingDevSecret,
    ...(e.MONGODB_URI !== undefined && { mongodbUri: e.MONGODB_URI }),
    jwt,
    ...(redis && { redis }),
    corsOrigin,
    socket: {
      pingIntervalMs: e.SOCKET_PING_INTERVAL_MS,
      pingTimeoutMs: e.SOCKET_PING_TIMEOUT_MS,
      maxPayloadBytes: e.SOCKET_MAX_PAYLOAD_BYTES,
      transports: e.SOCKET_TRANSPORTS,
      maxPerUser: e.SOCKET_MAX_PER_USER,
      maxBufferedBytes: e.SOCKET_MAX_BUFFERED_BYTES,
      maxPacketsPer10s: e.SOCKET_MAX_PACKETS_PER_10S,
    },
    http: { maxBodyBytes: e.HTTP_MAX_BODY_BYTES, trustProxyHops: e.TRUST_PROXY_HOPS },
    store: { timeoutMs: e.STORE_TIMEOUT_MS },
    ...(metricsPort !== undefined && { metrics: { port: metricsPort, host: e.METRICS_HOST } }),
    // Production keeps answering the load balancer for 10 s; elsewhere a restart should be quick.
    shutdown: { drainMs: e.SHUTDOWN_DRAIN_MS ?? (production ? 10_000 : 1_000) },
    workers,
    budgets: Object.fromEntries(
      BUDGETS.map(([variable, scope, durationS]) => [scope, { points: e[variable]!, durationS }]),
    ) as Record<BudgetScope, Budget>,
    // Heartbeats refresh presence three times per TTL, so one missed beat is harmless.
    presence: {
      ttlMs: e.PRESENCE_TTL_MS,
      heartbeatMs: Math.floor(e.PRESENCE_TTL_MS / 3),
      maxFanout: e.PRESENCE_MAX_FANOUT,
      offlineGraceMs: e.PRESENCE_OFFLINE_GRACE_MS,
    },
    trust: {
      requestAllowance: e.TRUST_REQUEST_ALLOWANCE,
      editWindowMs: e.TRUST_EDIT_WINDOW_MS,
    },
    reactions: {
      perPerson: e.REACTIONS_PER_PERSON,
      perMessage: e.REACTIONS_PER_MESSAGE,
      ...(e.REACTIONS_ALLOWED && { allowed: e.REACTIONS_ALLOWED }),
    },
    logLevel: e.LOG_LEVEL,
    platform,
    safety,
    attachments: buildAttachmentsConfig(e, secret ?? DEV_JWT_SECRET),
    ...((e.REDIS_AUTH_SECRET_ID !== undefined || e.MONGODB_SECRET_ID !== undefined) && {
      secrets: {
        region: e.AWS_REGION!,
        refreshMs: e.SECRETS_REFRESH_MS,
        ...(e.REDIS_AUTH_SECRET_ID !== undefined && { redisAuthSecretId: e.REDIS_AUTH_SECRET_ID }),
        ...(e.MONGODB_SECRET_ID !== undefined && { mongodbSecretId: e.MONGODB_SECRET_ID }),
        ...(e.AWS_ENDPOINT_URL_SECRETS_MANAGER !== undefined && {
          endpoint: e.AWS_ENDPOINT_URL_SECRETS_MANAGER,
        }),
      },
    }),
  };
}
