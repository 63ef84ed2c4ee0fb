import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import {
  type RedisConfig,
  type RedisCredentials,
  type RedisCredentialsProvider,
  describeRedisConfig,
} from './redis.config.js';
import { type RedisKitLogger, createDebugLogger } from './redis.logger.js';

export type RedisClient = Redis | Cluster;

export interface CreateRedisClientOptions {
  /** Shown in logs and as CLIENT SETNAME. */
  name?: string;
  logger?: RedisKitLogger;
  /** Do not connect until `connect()` or the first command. */
  lazyConnect?: boolean;
  /**
   * Commands issued in one tick leave in one write (ioredis auto-pipelining). A write costs a
   * system call, which is most of what a small command costs the client.
   */
  autoPipelining?: boolean;
}

/** Internal knobs the adapter needs; not part of the public API. */
export interface InternalClientOptions extends CreateRedisClientOptions {
  shardedSubscribers?: boolean;
  enableOfflineQueue?: boolean;
  /** False for a subscriber: its subscriptions wait for a connection instead of timing out. */
  commandTimeout?: boolean;
  maxRetriesPerRequest?: number | null;
  keyPrefix?: boolean;
}

const RETRY_BASE_MS = 50;
const RETRY_CAP_MS = 2_000;

/** Capped exponential backoff with "equal jitter": half fixed, half random. Never gives up. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 16));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** ElastiCache in-transit encryption: verify the certificate against the host name given. */
export function tlsOptions(config: RedisConfig): ConnectionOptions | undefined {
  if (!config.tls) return undefined;
  const tls: ConnectionOptions = {};
  // SNI must be a host name; for an IP the certificate's IP SAN is checked instead.
  if (isIP(config.host) === 0) tls.servername = config.host;
  if (config.tlsRejectUnauthorized === false) tls.rejectUnauthorized = false;
  if (config.tlsCa !== undefined) tls.ca = config.tlsCa;
  return tls;
}

/**
 * Builds a `Redis` or a `Cluster` client from the config, with reconnection that never gives
 * up, bounded command retries, and an `error` listener (ioredis otherwise prints
 * "Unhandled error event"). Connects at once unless `lazyConnect`.
 */
export function createRedisClient(
  config: RedisConfig,
  options: CreateRedisClientOptions = {},
): RedisClient {
  return buildClient(config, options);
}

export function buildClient(config: RedisConfig, options: InternalClientOptions): RedisClient {
  const name = options.name ?? 'jobsphere';
  const logger = options.logger ?? createDebugLogger();
  const auth: Partial<RedisCredentials> = config.credentials
    ? config.credentials.current()
    : {
        ...(config.username !== undefined ? { username: config.username } : {}),
        ...(config.password !== undefined ? { password: config.password } : {}),
      };
  const common = {
    connectTimeout: config.connectTimeoutMs,
    ...(options.commandTimeout !== false && { commandTimeout: config.commandTimeoutMs }),
    connectionName: name,
    // Bounded: during an outage a command fails after a few reconnect attempts instead of piling up.
    maxRetriesPerRequest:
      options.maxRetriesPerRequest === undefined ? 3 : options.maxRetriesPerRequest,
    ...(auth.username !== undefined ? { username: auth.username } : {}),
    ...(auth.password !== undefined ? { password: auth.password } : {}),
    ...(config.tls ? { tls: tlsOptions(config) } : {}),
  } satisfies RedisOptions;
  const keyPrefix =
    options.keyPrefix !== false && config.keyPrefix !== undefined
      ? { keyPrefix: config.keyPrefix }
      : {};
  const offlineQueue =
    options.enableOfflineQueue === undefined
      ? {}
      : { enableOfflineQueue: options.enableOfflineQueue };

  let client: RedisClient;
  if (config.mode === 'cluster') {
    const clusterOptions: ClusterOptions = {
      redisOptions: common,
      clusterRetryStrategy: (times) => backoffDelay(times),
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      slotsRefreshTimeout: Math.min(config.connectTimeoutMs, 2_000),
      lazyConnect: options.lazyConnect ?? false,
      shardedSubscribers: options.shardedSubscribers ?? false,
      ...(options.autoPipelining && { enableAutoPipelining: true }),
      ...keyPrefix,
      ...offlineQueue,
    };
    // ElastiCache TLS: node addresses must stay host names so the certificate matches.
    if (config.tls) clusterOptions.dnsLookup = (address, callback) => callback(null, address);
    client = new Cluster([{ host: config.host, port: config.port }], clusterOptions);
  } else {
    client = new Redis({
      ...common,
      host: config.host,
      port: config.port,
      db: config.db,
      retryStrategy: (times) => backoffDelay(times),
      lazyConnect: options.lazyConnect ?? false,
      ...(options.autoPipelining && { enableAutoPipelining: true }),
      ...keyPrefix,
      ...offlineQueue,
    });
  }
  const label = `${name} ${describeRedisConfig(config)}`;
  labels.set(client, { label, connectTimeoutMs: config.connectTimeoutMs, tls: config.tls });
  attachLogging(client, label, logger);
  if (config.credentials) followCredentials(client, config.credentials, label, logger);
  return client;
}

/** What Redis answers when it refuses the credentials a connection presented. */
const AUTH_REFUSED = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i;

/**
 * Keeps a client's credentials in step with a rotating provider. ioredis reads its `password`
 * option at every (re)connect, so updating it is enough: a refused AUTH makes ioredis reconnect,
 * and the reconnect presents what the provider re-read. A cluster client keeps more copies: its
 * own options (slot refreshes), its connection pool's (nodes it creates on reconnect) and one per
 * node (subscribers copy from those), so every copy is updated. The pool's copy is an ioredis 6
 * internal; the cluster rotation test fails if that changes.
 */
function followCredentials(
  client: RedisClient,
  provider: RedisCredentialsProvider,
  label: string,
  logger: RedisKitLogger,
): void {
  /** Points every copy of the options at the provider's credentials; true when they changed. */
  const apply = (): boolean => {
    const { username, password } = provider.current();
    const targets: RedisOptions[] = [];
    if (client instanceof Cluster) {
      client.options.redisOptions ??= {};
      targets.push(client.options.redisOptions, ...client.nodes('all').map((node) => node.options));
      const pool = (client as unknown as { connectionPool?: { redisOptions?: RedisOptions } })
        .connectionPool;
      if (pool?.redisOptions) targets.push(pool.redisOptions);
    } else {
      targets.push(client.options);
    }
    let changed = false;
    for (const options of targets) {
      if (options.password !== password || options.username !== username) changed = true;
      options.password = password;
      if (username !== undefined) options.username = username;
      else delete options.username;
    }
    return changed;
  };
  const unsubscribe = provider.onChange(() => void apply());
  client.on('end', () => {
    if (client.status === 'end') unsubscribe();
  });
  const onRefused = (error: Error) => {
    if (!AUTH_REFUSED.test(error.message)) return;
    // Clients share a provider: whichever re-read the secret, every client applies what it holds.
    void provider.refresh(error.message).then(() => {
      if (apply())
        logger.warn(
          `redis ${label}: credentials were refused; the next connection uses the re-read ones`,
        );
    });
  };
  client.on('error', onRefused);
  if (client instanceof Cluster) client.on('node error', onRefused);
}

const labels = new WeakMap<
  RedisClient,
  { label: string; connectTimeoutMs: number; tls: boolean }
>();

// The symptoms of a TLS mismatch say nothing about TLS; say it for them.
function explain(message: string, tls: boolean | undefined): string {
  if (
    tls === true &&
    /ETIMEDOUT|connect timeout|ECONNRESET|wrong version number|socket disconnected/i.test(message)
  ) {
    return `${message} (TLS is on: does the server speak TLS on this port?)`;
  }
  if (tls === false && /ECONNRESET|Connection is closed|connection closed/i.test(message)) {
    return `${message} (TLS is off: does the server require TLS, rediss://?)`;
  }
  return message;
}

/** Why a client could not connect; the message names the server (password masked) and the cause. */
export class RedisConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * Connects (or waits for) a client and resolves once it is ready. Rejects with a
 * {@link RedisConnectionError} carrying the real cause (WRONGPASS, ECONNREFUSED, a TLS error...)
 * on the first failed attempt or after the connect timeout, instead of ioredis' bare
 * "Connection is closed.". The client keeps retrying afterwards; quit it if you give up.
 */
export async function connectRedisClient(client: RedisClient, timeoutMs?: number): Promise<void> {
  if (client.status === 'ready') return;
  const info = labels.get(client);
  const label = info?.label ?? 'redis';
  const limitMs = timeoutMs ?? info?.connectTimeoutMs ?? 10_000;
  let lastError: Error | undefined;
  let lastNodeError: string | undefined;
  let cleanup = () => {};
  let onReady = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = () => resolve();
    client.once('ready', onReady);
  });
  const failure = new Promise<never>((_resolve, reject) => {
    const fail = (reason: string) => {
      const detail =
        lastNodeError && !reason.includes(lastNodeError) ? `${reason} (${lastNodeError})` : reason;
      reject(
        new RedisConnectionError(
          `cannot connect to ${label}: ${explain(detail, info?.tls)}`,
          lastError ? { cause: lastError } : undefined,
        ),
      );
    };
    const onError = (error: Error) => {
      lastError = error;
    };
    const onNodeError = (error: Error, address?: string) => {
      lastNodeError = `${address ? `node ${address}: ` : ''}${error.message}`;
    };
    // The error event comes first with the cause; `close`/`end` ends the attempt.
    const onClose = () => setImmediate(() => fail(lastError?.message ?? 'connection closed'));
    const timer = setTimeout(
      () => fail(lastError?.message ?? `no reply within the connect timeout (${limitMs} ms)`),
      limitMs,
    );
    client.on('error', onError);
    client.on('node error', onNodeError);
    client.once('close', onClose);
    client.once('end', onClose);
    cleanup = () => {
      clearTimeout(timer);
      client.off('error', onError);
      client.off('node error', onNodeError);
      client.off('close', onClose);
      client.off('end', onClose);
      client.off('ready', onReady);
    };
  });
  try {
    if (client.status === 'wait') void client.connect().catch(() => undefined);
    await Promise.race([ready, failure]);
  } finally {
    cleanup();
  }
}

/**
 * ioredis listens for a socket's first `error` only. A failed TLS handshake can raise a second
 * one on the same socket (the peer's alert after ours), which with no listener left would be an
 * uncaught exception that ends the process. The first error already carries the cause.
 */
function absorbLateSocketErrors(client: RedisClient): void {
  const stream = (client as unknown as { stream?: NodeJS.EventEmitter }).stream;
  if (stream && !absorbed.has(stream)) {
    absorbed.add(stream);
    stream.on('error', () => undefined);
  }
}
const absorbed = new WeakSet<NodeJS.EventEmitter>();

function attachLogging(client: RedisClient, label: string, logger: RedisKitLogger): void {
  // During an outage every retry fails the same way: log a repeated error once.
  let lastError: string | undefined;
  const onError = (prefix: string) => (error: Error) => {
    absorbLateSocketErrors(client);
    const message = `${prefix}${error.message}`;
    if (message === lastError) return;
    lastError = message;
    logger.error(`redis ${label}: ${message}`);
  };
  client.on('error', onError(''));
  client.on('connect', () => logger.log(`redis ${label}: connected`));
  client.on('ready', () => {
    lastError = undefined;
    logger.log(`redis ${label}: ready`);
  });
  client.on('reconnecting', (delay: unknown) =>
    logger.warn(
      `redis ${label}: reconnecting${typeof delay === 'number' ? ` in ${delay} ms` : ''}`,
    ),
  );
  client.on('end', () => logger.log(`redis ${label}: connection ended`));
  if (client instanceof Cluster) {
    client.on('node error', (error: Error, address: string) => onError(`node ${address}: `)(error));
    client.on('+node', (node: Redis) =>
      logger.log(`redis ${label}: node added ${node.options.host}:${node.options.port}`),
    );
    client.on('-node', (node: Redis) =>
      logger.warn(`redis ${label}: node removed ${node.options.host}:${node.options.port}`),
    );
  }
}

/**
 * Closes a client politely (QUIT, so pending replies arrive) and falls back to `disconnect()`
 * when Redis is unreachable or does not answer within `timeoutMs`. Never throws.
 */
export async function quitRedisClient(client: RedisClient, timeoutMs = 2_000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    // QUIT would sit in the offline queue until a reconnection that may never come.
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  // QUIT's reply comes before the socket is closed; resolve once it is, so callers see `end`.
  const ended = new Promise<'ended'>((resolve) => client.once('end', () => resolve('ended')));
  try {
    const quit = client.quit().then(
      () => ended,
      () => 'failed' as const,
    );
    const result = await Promise.race([quit, timedOut]);
    if (result !== 'ended') client.disconnect();
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
