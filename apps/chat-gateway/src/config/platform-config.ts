import { z } from 'zod';

// The platform's settings (issue 15): service credentials, webhooks, offline notifications.
// Read by loadConfig (app-config.ts) with the rest, so every bad variable is named at once.

/** Known only to development, and different from the user-token dev secret. */
export const DEV_SERVICE_TOKEN_SECRET = 'jobsphere-chat-dev-service-secret-not-for-production';
export const DEFAULT_SERVICE_AUDIENCE = 'jobsphere-chat-service';

export interface WebhookConfig {
  /** Where every event goes (each endpoint gets each event). */
  endpoints: string[];
  /** The Standard Webhooks signing secret, `whsec_<base64>`. */
  secret: string;
  /** Deadline of one delivery (connect, send, answer). */
  timeoutMs: number;
  /** Deliveries tried before the event is dead-lettered. */
  maxAttempts: number;
  /** Backoff before retry n: a random wait in [0, min(maxMs, baseMs * 2^(n-1))] (full jitter). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long a claimed entry is an instance's own: if it dies, another delivers after this. */
  leaseMs: number;
  /** How often each instance looks for due entries when it found none. */
  pollMs: number;
  /** Deliveries one instance has in flight at once. */
  concurrency: number;
  /** Dead letters are forgotten this long after they died; at most `maxDeadLetters` are kept. */
  deadLetterTtlMs: number;
  maxDeadLetters: number;
}

export interface PlatformConfig {
  /** Absent: no server API (production without SERVICE_TOKEN_SECRET). */
  service?: { secret: string; audience: string; usingDevSecret: boolean };
  /** Absent: no webhooks (and no offline notifications, which go out as webhooks). */
  webhooks?: WebhookConfig;
  /** A recipient without a connected device who has not read for `delayMs` is notified, once per `windowMs`. */
  offline?: { delayMs: number; windowMs: number };
  /** Scheduled and follow-up sends (issue 27): every instance works the queue. */
  scheduled: { pollMs: number; leaseMs: number };
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  SERVICE_TOKEN_SECRET: z
    .string()
    .refine((v) => new TextEncoder().encode(v).length >= 32, 'must be at least 32 bytes')
    .optional(),
  SERVICE_TOKEN_AUDIENCE: z.string().min(1).max(200).default(DEFAULT_SERVICE_AUDIENCE),
  WEBHOOK_URLS: z.string().min(1).optional(),
  WEBHOOK_URL: z.string().min(1).optional(),
  WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_<base64> (Standard Webhooks)')
    .refine(
      (v) => !v.startsWith('whsec_') || Buffer.from(v.slice(6), 'base64').length >= 24,
      'must carry at least 24 bytes',
    )
    .optional(),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(5_000),
  WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(10),
  WEBHOOK_BACKOFF_BASE_MS: int(10, 3_600_000).default(1_000),
  WEBHOOK_BACKOFF_MAX_MS: int(10, 86_400_000).default(600_000),
  WEBHOOK_LEASE_MS: int(200, 3_600_000).optional(),
  WEBHOOK_POLL_MS: int(10, 60_000).default(1_000),
  WEBHOOK_CONCURRENCY: int(1, 64).default(4),
  WEBHOOK_DEAD_LETTER_TTL_MS: int(1_000, 365 * 24 * 3_600_000).default(14 * 24 * 3_600_000),
  WEBHOOK_DEAD_LETTERS_MAX: int(1, 1_000_000).default(10_000),
  OFFLINE_NOTIFY: bool.default(true),
  OFFLINE_NOTIFY_DELAY_MS: int(0, 86_400_000).default(60_000),
  OFFLINE_NOTIFY_WINDOW_MS: int(1_000, 7 * 86_400_000).default(15 * 60_000),
  SCHEDULED_SEND_POLL_MS: int(10, 60_000).default(1_000),
  SCHEDULED_SEND_LEASE_MS: int(1_000, 3_600_000).default(30_000),
});

function parseEndpoints(
  value: string,
  production: boolean,
  issue: (message: string) => void,
): string[] {
  const endpoints: string[] = [];
  for (const entry of value
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password) {
      issue(`"${entry.slice(0, 100)}" is not an http(s) URL without credentials`);
      continue;
    }
    if (production && url.protocol !== 'https:') {
      issue(`"${url.origin}" must be https in production`);
      continue;
    }
    endpoints.push(url.toString());
  }
  return endpoints;
}

/**
 * The platform's settings from the environment. Production fails closed like the rest:
 * a service secret that is weak, the public dev one, or the same as JWT_SECRET is refused
 * (a user token must never verify as a service one), and webhooks need https and a secret.
 */
export function parsePlatformConfig(
  env: Record<string, string | undefined>,
  production: boolean,
  jwtSecret: string | undefined,
  weakSecretReason: (secret: string) => string | undefined,
  issues: { variable: string; message: string }[],
): PlatformConfig {
  const issue = (variable: string) => (message: string) => issues.push({ variable, message });
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const i of parsed.error.issues) issue(String(i.path[0] ?? '(env)'))(i.message);
    return { scheduled: { pollMs: 1_000, leaseMs: 30_000 } }; // never used: boot fails
  }
  const e = parsed.data;
  const secret = e.SERVICE_TOKEN_SECRET;
  if (secret !== undefined && jwtSecret !== undefined && secret === jwtSecret)
    issue('SERVICE_TOKEN_SECRET')('must differ from JWT_SECRET');
  else if (secret === DEV_SERVICE_TOKEN_SECRET && production)
    issue('SERVICE_TOKEN_SECRET')('is the public development secret');
  else if (secret !== undefined && production) {
    const weak = weakSecretReason(secret);
    if (weak) issue('SERVICE_TOKEN_SECRET')(weak);
  }
  // Production without a service secret has no server API; elsewhere the dev secret stands in.
  const service =
    secret !== undefined || !production
      ? {
          secret: secret ?? DEV_SERVICE_TOKEN_SECRET,
          audience: e.SERVICE_TOKEN_AUDIENCE,
          usingDevSecret: secret === undefined,
        }
      : undefined;

  const urls = [e.WEBHOOK_URLS, e.WEBHOOK_URL].filter((v): v is string => v !== undefined);
  const endpoints = urls.flatMap((v) =>
    parseEndpoints(v, production, issue(e.WEBHOOK_URLS ? 'WEBHOOK_URLS' : 'WEBHOOK_URL')),
  );
  if (endpoints.length > 0 && !e.WEBHOOK_SECRET)
    issue('WEBHOOK_SECRET')('required with WEBHOOK_URLS (whsec_<base64>)');
  if (e.WEBHOOK_BACKOFF_MAX_MS < e.WEBHOOK_BACKOFF_BASE_MS)
    issue('WEBHOOK_BACKOFF_MAX_MS')('must be at least WEBHOOK_BACKOFF_BASE_MS');
  // A lease shorter than a delivery could hand the same entry to two instances at once.
  const leaseMs = e.WEBHOOK_LEASE_MS ?? Math.max(30_000, e.WEBHOOK_TIMEOUT_MS * 3);
  if (leaseMs <= e.WEBHOOK_TIMEOUT_MS)
    issue('WEBHOOK_LEASE_MS')('must be longer than WEBHOOK_TIMEOUT_MS');
  const webhooks: WebhookConfig | undefined =
    endpoints.length > 0 && e.WEBHOOK_SECRET
      ? {
          endpoints: [...new Set(endpoints)],
          secret: e.WEBHOOK_SECRET,
          timeoutMs: e.WEBHOOK_TIMEOUT_MS,
          maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
          backoffBaseMs: e.WEBHOOK_BACKOFF_BASE_MS,
          backoffMaxMs: e.WEBHOOK_BACKOFF_MAX_MS,
          leaseMs,
          pollMs: e.WEBHOOK_POLL_MS,
          concurrency: e.WEBHOOK_CONCURRENCY,
          deadLetterTtlMs: e.WEBHOOK_DEAD_LETTER_TTL_MS,
          maxDeadLetters: e.WEBHOOK_DEAD_LETTERS_MAX,
        }
      : undefined;
  return {
    scheduled: { pollMs: e.SCHEDULED_SEND_POLL_MS, leaseMs: e.SCHEDULED_SEND_LEASE_MS },
    ...(service && { service }),
    ...(webhooks && { webhooks }),
    ...(webhooks &&
      e.OFFLINE_NOTIFY && {
        offline: { delayMs: e.OFFLINE_NOTIFY_DELAY_MS, windowMs: e.OFFLINE_NOTIFY_WINDOW_MS },
      }),
  };
}
