import { isIP } from 'node:net';

export type RedisMode = 'standalone' | 'cluster';

export interface RedisConfig {
  mode: RedisMode;
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
  /** Default true. Turn off only for a server whose certificate cannot be verified. */
  tlsRejectUnauthorized?: boolean;
  /** PEM of a private CA; the Node.js trust store is used otherwise (enough for ElastiCache). */
  tlsCa?: string;
  connectTimeoutMs: number;
  /** A command without a reply within this long fails (a stalled server never hangs a caller). */
  commandTimeoutMs: number;
  keyPrefix?: string;
  /**
   * Set by code, never parsed from the environment: where the AUTH credentials come from when they
   * rotate (e.g. Secrets Manager). Clients use it for every new connection, re-read it after an
   * authentication failure and follow its changes; `password`/`username` above are then ignored.
   */
  credentials?: RedisCredentialsProvider;
}

/** Redis AUTH credentials that can change while clients run (a rotated token). */
export interface RedisCredentials {
  username?: string;
  password: string;
}

export interface RedisCredentialsProvider {
  /** The credentials a new connection should use now. */
  current(): RedisCredentials;
  /**
   * Asked after Redis refused the credentials (WRONGPASS, NOAUTH): re-read them. Resolves true
   * when they changed. Must bound its own time and never reject.
   */
  refresh(reason: string): Promise<boolean>;
  /** Notifies after the credentials changed for another reason (a periodic re-read). */
  onChange(listener: () => void): () => void;
}

export interface RedisConfigIssue {
  variable: string;
  message: string;
}

/** Every problem in the Redis settings at once. The message never contains the password. */
export class RedisConfigError extends Error {
  readonly issues: RedisConfigIssue[];

  constructor(issues: RedisConfigIssue[]) {
    super(
      `Invalid Redis configuration (${issues.map((i) => i.variable).join(', ')}):\n` +
        issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n'),
    );
    this.name = this.constructor.name;
    this.issues = issues;
  }
}

/** The variables read, in the order issues are reported. */
export const REDIS_ENV_VARIABLES = [
  'REDIS_URL',
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_DB',
  'REDIS_TLS',
  'REDIS_TLS_REJECT_UNAUTHORIZED',
  'REDIS_TLS_CA',
  'REDIS_CLUSTER',
  'REDIS_CONNECT_TIMEOUT_MS',
  'REDIS_COMMAND_TIMEOUT_MS',
  'REDIS_KEY_PREFIX',
] as const;

type RedisEnvVariable = (typeof REDIS_ENV_VARIABLES)[number];

const DEFAULT_PORT = 6379;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 1_000;
const MAX_CONNECT_TIMEOUT_MS = 120_000;
const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

/**
 * Reads the Redis settings from `env` (pass `process.env` from the one place that reads it).
 * Returns `undefined` when no Redis variable is set, so the caller can pick its embedded default.
 * Empty values count as unset. Throws {@link RedisConfigError} naming every bad variable.
 */
export function parseRedisConfig(env: Record<string, string | undefined>): RedisConfig | undefined {
  const value = (name: RedisEnvVariable): string | undefined => {
    const raw = env[name];
    // A PEM keeps its inner whitespace; everything else is trimmed.
    const v = name === 'REDIS_TLS_CA' ? raw : raw?.trim();
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  if (REDIS_ENV_VARIABLES.every((name) => value(name) === undefined)) return undefined;

  const issues: RedisConfigIssue[] = [];
  const issue = (variable: string, message: string) => issues.push({ variable, message });

  const bool = (name: RedisEnvVariable): boolean | undefined => {
    const v = value(name);
    if (v === undefined) return undefined;
    if (TRUE.has(v.toLowerCase())) return true;
    if (FALSE.has(v.toLowerCase())) return false;
    issue(name, `must be one of true/false/1/0/yes/no, got "${v}"`);
    return undefined;
  };
  const int = (
    name: RedisEnvVariable,
    min: number,
    max: number,
    what: string,
  ): number | undefined => {
    const v = value(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      issue(name, `must be ${what} (an integer from ${min} to ${max}), got "${v}"`);
      return undefined;
    }
    return Number(v);
  };

  const cluster = bool('REDIS_CLUSTER') ?? false;
  const tlsFlag = bool('REDIS_TLS');
  const tlsRejectUnauthorized = bool('REDIS_TLS_REJECT_UNAUTHORIZED');
  const connectTimeoutMs = int(
    'REDIS_CONNECT_TIMEOUT_MS',
    1,
    MAX_CONNECT_TIMEOUT_MS,
    'a timeout in ms',
  );
  const commandTimeoutMs = int(
    'REDIS_COMMAND_TIMEOUT_MS',
    50,
    MAX_CONNECT_TIMEOUT_MS,
    'a timeout in ms',
  );
  const tlsCa = value('REDIS_TLS_CA');
  if (tlsCa !== undefined && !tlsCa.includes('-----BEGIN CERTIFICATE-----')) {
    issue('REDIS_TLS_CA', 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  }

  let host: string | undefined;
  let port: number | undefined;
  let username = value('REDIS_USERNAME');
  let password = value('REDIS_PASSWORD');
  let db = int('REDIS_DB', 0, 15, 'a database number');
  let tls = tlsFlag ?? false;

  const url = value('REDIS_URL');
  if (url !== undefined) {
    for (const name of ['REDIS_HOST', 'REDIS_PORT'] as const) {
      if (value(name) !== undefined)
        issue(name, 'cannot be combined with REDIS_URL; set one or the other');
    }
    const parsed = parseUrl(url, issue);
    if (parsed) {
      host = parsed.host;
      port = parsed.port;
      if (parsed.username !== undefined) {
        if (username !== undefined)
          issue('REDIS_USERNAME', 'REDIS_URL already contains a username');
        username = parsed.username;
      }
      if (parsed.password !== undefined) {
        if (password !== undefined)
          issue('REDIS_PASSWORD', 'REDIS_URL already contains a password');
        password = parsed.password;
      }
      if (parsed.db !== undefined) {
        if (value('REDIS_DB') !== undefined)
          issue('REDIS_DB', 'REDIS_URL already selects a database');
        db = parsed.db;
      }
      if (tlsFlag !== undefined && tlsFlag !== parsed.tls) {
        issue(
          'REDIS_TLS',
          `is ${tlsFlag} but REDIS_URL uses ${parsed.tls ? 'rediss://' : 'redis://'}`,
        );
      }
      tls = parsed.tls;
    }
  } else {
    host = value('REDIS_HOST');
    if (host === undefined) {
      issue('REDIS_HOST', 'is required (or set REDIS_URL) when other REDIS_* variables are set');
    } else if (host.includes('://')) {
      issue('REDIS_HOST', 'must be a host name or IP, not a URL; use REDIS_URL for URLs');
    } else if (/[\s/@]/.test(host)) {
      issue('REDIS_HOST', 'must be a host name or IP address');
    }
    port = int('REDIS_PORT', 1, 65_535, 'a TCP port');
  }

  if (cluster && db !== undefined && db !== 0) {
    issue(
      url !== undefined && value('REDIS_DB') === undefined ? 'REDIS_URL' : 'REDIS_DB',
      'must be 0 in cluster mode (Redis Cluster has only database 0)',
    );
  }
  if (username !== undefined && password === undefined) {
    issue('REDIS_PASSWORD', 'is required when a username is set');
  }
  if (!tls && (tlsCa !== undefined || tlsRejectUnauthorized !== undefined)) {
    issue(
      tlsCa !== undefined ? 'REDIS_TLS_CA' : 'REDIS_TLS_REJECT_UNAUTHORIZED',
      'has no effect without TLS (REDIS_TLS=true or rediss://)',
    );
  }

  if (issues.length > 0) throw new RedisConfigError(redact(issues, password));

  const config: RedisConfig = {
    mode: cluster ? 'cluster' : 'standalone',
    host: host!,
    port: port ?? DEFAULT_PORT,
    db: db ?? 0,
    tls,
    connectTimeoutMs: connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  };
  if (username !== undefined) config.username = username;
  if (password !== undefined) config.password = password;
  if (tlsRejectUnauthorized !== undefined) config.tlsRejectUnauthorized = tlsRejectUnauthorized;
  if (tlsCa !== undefined) config.tlsCa = tlsCa;
  const keyPrefix = value('REDIS_KEY_PREFIX');
  if (keyPrefix !== undefined) config.keyPrefix = keyPrefix;
  return config;
}

interface ParsedUrl {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

// Messages about REDIS_URL never quote it: it may carry the password.
function parseUrl(
  raw: string,
  issue: (variable: string, message: string) => void,
): ParsedUrl | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    issue(
      'REDIS_URL',
      'is not a valid URL (expected redis://[user:password@]host[:port][/db] or rediss://...)',
    );
    return undefined;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    issue('REDIS_URL', `must start with redis:// or rediss://, got ${url.protocol}//`);
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let ok = true;
  if (host === '') {
    issue('REDIS_URL', 'has no host');
    ok = false;
  }
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  if (port < 1 || port > 65_535) {
    issue('REDIS_URL', 'has a port outside 1-65535');
    ok = false;
  }
  let db: number | undefined;
  const path = url.pathname.replace(/^\//, '');
  if (path !== '') {
    if (!/^\d+$/.test(path) || Number(path) > 15) {
      issue('REDIS_URL', 'has a database path that is not an integer from 0 to 15');
      ok = false;
    } else {
      db = Number(path);
    }
  }
  if (url.search !== '' || url.hash !== '') {
    issue('REDIS_URL', 'must not have query parameters or a fragment; use the REDIS_* variables');
    ok = false;
  }
  if (!ok) return undefined;
  const parsed: ParsedUrl = { host, port, tls: url.protocol === 'rediss:' };
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (url.username !== '') parsed.username = decode(url.username);
  if (url.password !== '') parsed.password = decode(url.password);
  if (db !== undefined) parsed.db = db;
  return parsed;
}

function redact(issues: RedisConfigIssue[], password: string | undefined): RedisConfigIssue[] {
  if (!password) return issues;
  return issues.map((i) => ({ ...i, message: i.message.split(password).join('***') }));
}

/** One line for logs, e.g. `rediss://***@cache.example:6379/0 (cluster)`. Never shows the password. */
export function describeRedisConfig(config: RedisConfig): string {
  const user = config.username ? encodeURIComponent(config.username) : '';
  const auth = config.password ? `${user ? `${user}:` : ''}***@` : user ? `${user}@` : '';
  const host = isIP(config.host) === 6 ? `[${config.host}]` : config.host;
  const notes: string[] = [config.mode];
  if (config.tls && config.tlsRejectUnauthorized === false) notes.push('certificate not verified');
  return `${config.tls ? 'rediss' : 'redis'}://${auth}${host}:${config.port}/${config.db} (${notes.join(', ')})`;
}
