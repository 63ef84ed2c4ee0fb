import { z } from 'zod';
import { CONTENT_POLICY_DEFAULTS, type ContentPolicySettings } from '@jobsphere/chat-domain';

// Issue 25: the built-in content policy and the platform's pre-send hook. Read by loadConfig
// with the rest, so every bad variable is named at once.

export interface PreSendHookConfig {
  url: string;
  /** Standard Webhooks signing secret, `whsec_<base64>`. */
  secret: string;
  /** Deadline of one call (connect, send, answer). */
  timeoutMs: number;
  /** Calls one instance has in flight; beyond it the failure policy applies at once. */
  concurrency: number;
  /** What a timeout, an error, a garbage answer, a full instance or an open circuit means. */
  failure: 'open' | 'closed';
  /** Consecutive failures that open the circuit, and how long it stays open before a probe. */
  breakerFailures: number;
  breakerResetMs: number;
  /** How long a verdict is kept for retries of the same send (across instances via Redis). */
  verdictTtlMs: number;
}

export interface SafetyConfig {
  contentPolicy: ContentPolicySettings;
  /** Absent: no hook, no call, no cost. */
  presend?: PreSendHookConfig;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const action = z.enum(['allow', 'mask', 'reject']);
const scam = z.enum(['allow', 'warn', 'reject']);
const domain = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const schema = z.object({
  CONTENT_POLICY: z.enum(['on', 'off']).default('on'),
  CONTENT_ALLOWED_DOMAINS: z.string().default(''),
  CONTENT_REQUEST_CONTACTS: action.default(CONTENT_POLICY_DEFAULTS.request.contacts),
  CONTENT_REQUEST_LINKS: action.default(CONTENT_POLICY_DEFAULTS.request.links),
  CONTENT_REQUEST_SCAM: scam.default(CONTENT_POLICY_DEFAULTS.request.scam),
  CONTENT_ACCEPTED_CONTACTS: action.default(CONTENT_POLICY_DEFAULTS.accepted.contacts),
  CONTENT_ACCEPTED_LINKS: action.default(CONTENT_POLICY_DEFAULTS.accepted.links),
  CONTENT_ACCEPTED_SCAM: scam.default(CONTENT_POLICY_DEFAULTS.accepted.scam),
  PRESEND_HOOK_URL: z.string().min(1).optional(),
  PRESEND_HOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_<base64> (Standard Webhooks)')
    .refine((v) => Buffer.from(v.slice(6), 'base64').length >= 24, 'must carry at least 24 bytes')
    .optional(),
  PRESEND_HOOK_TIMEOUT_MS: int(50, 10_000).default(800),
  PRESEND_HOOK_CONCURRENCY: int(1, 10_000).default(64),
  PRESEND_HOOK_FAILURE: z.enum(['open', 'closed']).default('open'),
  PRESEND_HOOK_BREAKER_FAILURES: int(1, 1_000).default(5),
  PRESEND_HOOK_BREAKER_RESET_MS: int(100, 3_600_000).default(10_000),
  PRESEND_HOOK_VERDICT_TTL_MS: int(1_000, 7 * 86_400_000).default(86_400_000),
});

export function parseSafetyConfig(
  env: Record<string, string | undefined>,
  production: boolean,
  issues: { variable: string; message: string }[],
): SafetyConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const i of parsed.error.issues)
      issues.push({ variable: String(i.path[0] ?? '(env)'), message: i.message });
    return { contentPolicy: CONTENT_POLICY_DEFAULTS };
  }
  const e = parsed.data;
  const allowedDomains = e.CONTENT_ALLOWED_DOMAINS.split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  for (const d of allowedDomains)
    if (!domain.test(d))
      issues.push({
        variable: 'CONTENT_ALLOWED_DOMAINS',
        message: `"${d.slice(0, 100)}" is not a domain`,
      });
  const contentPolicy: ContentPolicySettings = {
    enabled: e.CONTENT_POLICY === 'on',
    allowedDomains,
    request: {
      contacts: e.CONTENT_REQUEST_CONTACTS,
      links: e.CONTENT_REQUEST_LINKS,
      scam: e.CONTENT_REQUEST_SCAM,
    },
    accepted: {
      contacts: e.CONTENT_ACCEPTED_CONTACTS,
      links: e.CONTENT_ACCEPTED_LINKS,
      scam: e.CONTENT_ACCEPTED_SCAM,
    },
  };
  if (e.PRESEND_HOOK_URL === undefined) return { contentPolicy };
  let url: URL | undefined;
  try {
    url = new URL(e.PRESEND_HOOK_URL);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password)
    issues.push({
      variable: 'PRESEND_HOOK_URL',
      message: 'must be an http(s) URL without credentials',
    });
  else if (production && url.protocol !== 'https:')
    issues.push({ variable: 'PRESEND_HOOK_URL', message: 'must be https in production' });
  if (!e.PRESEND_HOOK_SECRET)
    issues.push({
      variable: 'PRESEND_HOOK_SECRET',
      message: 'required with PRESEND_HOOK_URL (whsec_<base64>)',
    });
  if (!url || !e.PRESEND_HOOK_SECRET) return { contentPolicy };
  return {
    contentPolicy,
    presend: {
      url: url.toString(),
      secret: e.PRESEND_HOOK_SECRET,
      timeoutMs: e.PRESEND_HOOK_TIMEOUT_MS,
      concurrency: e.PRESEND_HOOK_CONCURRENCY,
      failure: e.PRESEND_HOOK_FAILURE,
      breakerFailures: e.PRESEND_HOOK_BREAKER_FAILURES,
      breakerResetMs: e.PRESEND_HOOK_BREAKER_RESET_MS,
      verdictTtlMs: e.PRESEND_HOOK_VERDICT_TTL_MS,
    },
  };
}
