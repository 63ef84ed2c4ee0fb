import { parseRedisConfig, RedisConfigError, type RedisConfig } from '@jobsphere/redis-kit';
import { z } from 'zod';

/** The typed settings of one gateway instance, validated once at boot. */
export interface AppConfig {
  port: number;
  nodeEnv: 'development' | 'production' | 'test';
  /** MongoDB / DocumentDB connection string; absent = in-memory store. */
  mongodbUri?: string;
  jwt: { secret: string; issuer?: string; audience?: string; usingDevSecret: boolean };
  /** Absent = single process: in-memory Socket.IO adapter, presence and rate limits. */
  redis?: RedisConfig;
  corsOrigin: string | string[] | true;
  socket: {
    pingIntervalMs: number;
    pingTimeoutMs: number;
    maxPayloadBytes: number;
    transports: ('websocket' | 'polling')[];
  };
  http: { maxBodyBytes: number };
  shutdown: { drainMs: number };
  /** Per-user budgets: `points` per `durationS` seconds, shared by all instances through Redis. */
  rateLimits: Record<'send' | 'typing' | 'rest', { points: number; durationS: number }>;
  presence: { ttlMs: number; heartbeatMs: number; maxFanout: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Credentials that rotate, read from AWS Secrets Manager instead of the environment: the Redis
   * AUTH token and the MongoDB user. Re-read every `refreshMs` and whenever one is refused.
   */
  secrets?: SecretsConfig;
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

const schema = z.object({
  PORT: int(0, 65_535).default(4000),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URI')
    .optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  CLIENT_URL: z.string().min(1).optional(),
  SOCKET_PING_INTERVAL_MS: int(1000, 300_000).default(25_000),
  SOCKET_PING_TIMEOUT_MS: int(1000, 300_000).default(20_000),
  SOCKET_MAX_PAYLOAD_BYTES: int(1024, 10_000_000).default(64 * 1024),
  SOCKET_TRANSPORTS: z
    .string()
    .transform((v) => v.split(',').map((t) => t.trim()))
    .pipe(z.array(z.enum(['websocket', 'polling'])).min(1))
    .default(['websocket']),
  HTTP_MAX_BODY_BYTES: int(1024, 10_000_000).default(64 * 1024),
  SHUTDOWN_DRAIN_MS: int(0, 120_000).optional(),
  RATE_LIMIT_SEND_PER_10S: int(1, 100_000).default(30),
  RATE_LIMIT_TYPING_PER_10S: int(1, 100_000).default(20),
  RATE_LIMIT_REST_PER_MIN: int(1, 100_000).default(120),
  PRESENCE_TTL_MS: int(2_000, 600_000).default(30_000),
  PRESENCE_MAX_FANOUT: int(0, 100_000).default(500),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  REDIS_AUTH_SECRET_ID: z.string().min(1).optional(),
  MONGODB_SECRET_ID: z.string().min(1).optional(),
  SECRETS_REFRESH_MS: int(5_000, 3_600_000).default(60_000),
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region, e.g. us-east-1')
    .optional(),
  AWS_ENDPOINT_URL_SECRETS_MANAGER: z.url().optional(),
});

function parseOrigins(value: string | undefined): AppConfig['corsOrigin'] {
  if (!value || value === '*') return true;
  const list = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return list.length === 1 ? list[0]! : list;
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
  const parsed = schema.safeParse(clean);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      issues.push({ variable: String(issue.path[0] ?? '(env)'), message: issue.message });
    }
  }
  let redis: RedisConfig | undefined;
  try {
    redis = parseRedisConfig(clean);
  } catch (error) {
    if (!(error instanceof RedisConfigError)) throw error;
    issues.push(...error.issues);
  }

  if (parsed.success && parsed.data.NODE_ENV === 'production') {
    if (!parsed.data.MONGODB_URI)
      issues.push({ variable: 'MONGODB_URI', message: 'required when NODE_ENV=production' });
    if (!redis && !issues.some((i) => i.variable.startsWith('REDIS_')))
      issues.push({
        variable: 'REDIS_URL',
        message: 'REDIS_URL or REDIS_HOST is required when NODE_ENV=production',
      });
    if (!parsed.data.JWT_SECRET)
      issues.push({ variable: 'JWT_SECRET', message: 'required when NODE_ENV=production' });
    if (!parsed.data.CLIENT_URL)
      issues.push({
        variable: 'CLIENT_URL',
        message: 'required when NODE_ENV=production (CORS origin)',
      });
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
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const e = parsed.data;
  return {
    port: e.PORT,
    nodeEnv: e.NODE_ENV,
    ...(e.MONGODB_URI !== undefined && { mongodbUri: e.MONGODB_URI }),
    jwt: {
      secret: e.JWT_SECRET ?? DEV_JWT_SECRET,
      usingDevSecret: e.JWT_SECRET === undefined,
      ...(e.JWT_ISSUER !== undefined && { issuer: e.JWT_ISSUER }),
      ...(e.JWT_AUDIENCE !== undefined && { audience: e.JWT_AUDIENCE }),
    },
    ...(redis && { redis }),
    corsOrigin: parseOrigins(e.CLIENT_URL),
    socket: {
      pingIntervalMs: e.SOCKET_PING_INTERVAL_MS,
      pingTimeoutMs: e.SOCKET_PING_TIMEOUT_MS,
      maxPayloadBytes: e.SOCKET_MAX_PAYLOAD_BYTES,
      transports: e.SOCKET_TRANSPORTS,
    },
    http: { maxBodyBytes: e.HTTP_MAX_BODY_BYTES },
    // Production keeps answering the load balancer for 10 s; elsewhere a restart should be quick.
    shutdown: { drainMs: e.SHUTDOWN_DRAIN_MS ?? (e.NODE_ENV === 'production' ? 10_000 : 1_000) },
    rateLimits: {
      send: { points: e.RATE_LIMIT_SEND_PER_10S, durationS: 10 },
      typing: { points: e.RATE_LIMIT_TYPING_PER_10S, durationS: 10 },
      rest: { points: e.RATE_LIMIT_REST_PER_MIN, durationS: 60 },
    },
    // Heartbeats refresh presence three times per TTL, so one missed beat is harmless.
    presence: {
      ttlMs: e.PRESENCE_TTL_MS,
      heartbeatMs: Math.floor(e.PRESENCE_TTL_MS / 3),
      maxFanout: e.PRESENCE_MAX_FANOUT,
    },
    logLevel: e.LOG_LEVEL,
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
