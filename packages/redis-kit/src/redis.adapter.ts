import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import {
  type RedisClient,
  buildClient,
  connectRedisClient,
  quitRedisClient,
} from './redis.client.js';
import type { ServerOptions } from 'socket.io';
import type { RedisConfig } from './redis.config.js';
import { type RedisKitLogger, createDebugLogger } from './redis.logger.js';

export interface RedisAdapterHandle {
  /** Pass to `io.adapter()` (or the `adapter` server option). */
  adapter: NonNullable<ServerOptions['adapter']>;
  /** Quits the adapter's own publisher and subscriber. Call after `io.close()`. */
  close(): Promise<void>;
}

export interface CreateRedisAdapterOptions {
  logger?: RedisKitLogger;
  /** Channel prefix, default `socket.io`. Instances that must talk to each other share it. */
  key?: string;
  /**
   * Called when the publisher or subscriber is ready again after losing Redis. Whatever was
   * broadcast meanwhile is gone, so this is the moment to tell local clients to catch up.
   */
  onReconnect?: () => void;
}

// Commands the adapters fire without handling a rejection; one failing while Redis is away
// would be an unhandled rejection, which ends a Node process.
const FIRE_AND_FORGET = [
  'publish',
  'spublish',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
] as const;

/**
 * The Socket.IO Redis adapter with its own publisher and subscriber: the classic pub/sub adapter
 * for a standalone server, the sharded one (SPUBLISH/SSUBSCRIBE) for a cluster. Resolves once both
 * clients are ready; rejects (and closes them) when Redis cannot be reached.
 * Delivery is at most once: what is broadcast while Redis is unreachable is dropped.
 */
export async function createRedisAdapter(
  config: RedisConfig,
  options: CreateRedisAdapterOptions = {},
): Promise<RedisAdapterHandle> {
  const logger = options.logger ?? createDebugLogger();
  const key = options.key ?? 'socket.io';
  const cluster = config.mode === 'cluster';
  const pub = buildClient(config, {
    name: `${key}-pub`,
    logger,
    lazyConnect: true,
    keyPrefix: false,
    // Drop instead of queueing: a late broadcast is worse than a missed one (clients catch up from the store).
    enableOfflineQueue: false,
    shardedSubscribers: cluster,
  });
  const sub = buildClient(config, {
    name: `${key}-sub`,
    logger,
    lazyConnect: true,
    keyPrefix: false,
    // Subscriptions made during an outage wait for the connection instead of failing.
    maxRetriesPerRequest: null,
    commandTimeout: false,
    // Without it ioredis' Cluster sends SSUBSCRIBE to the wrong node and crashes on MOVED.
    shardedSubscribers: cluster,
  });
  const close = async () => {
    await Promise.all([quitRedisClient(pub), quitRedisClient(sub)]);
  };
  try {
    await Promise.all([connectRedisClient(pub), connectRedisClient(sub)]);
  } catch (error) {
    await close();
    throw error;
  }
  guardFireAndForget(pub, logger);
  guardFireAndForget(sub, logger);
  if (options.onReconnect) {
    const notify = options.onReconnect;
    // Registered after the first connection, so every `ready` from here on is a comeback.
    for (const client of [pub, sub]) client.on('ready', () => notify());
  }
  const adapter = (
    cluster
      ? createShardedAdapter(pub, sub, { channelPrefix: key })
      : createAdapter(pub, sub, { key })
  ) as RedisAdapterHandle['adapter'];
  return { adapter, close };
}

function guardFireAndForget(client: RedisClient, logger: RedisKitLogger): void {
  let lastMessage: string | undefined;
  const target = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const command of FIRE_AND_FORGET) {
    const original = target[command];
    if (typeof original !== 'function') continue;
    target[command] = function (this: unknown, ...args: unknown[]) {
      const result = original.apply(client, args);
      if (!(result instanceof Promise)) return result;
      return result.catch((error: unknown) => {
        const message = `${command} dropped: ${error instanceof Error ? error.message : String(error)}`;
        if (message !== lastMessage) logger.warn(`redis adapter: ${message}`);
        lastMessage = message;
        return undefined;
      });
    };
  }
}
