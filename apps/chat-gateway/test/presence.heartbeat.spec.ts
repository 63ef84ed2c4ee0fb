import { type Chat } from '@jobsphere/chat-domain';
import {
  createRedisClient,
  parseRedisConfig,
  quitRedisClient,
  type RedisClient,
} from '@jobsphere/redis-kit';
import { startRedis, type RedisServer } from '@jobsphere/testing';
import { type AppConfig } from '../src/config/app-config.js';
import { PresenceService } from '../src/presence/presence.service.js';
import { type RealtimeBus } from '../src/realtime/realtime-bus.js';

// One instance's heartbeat over many connections, against a real redis-server: every connection
// is refreshed, and never all of them in one burst (a burst of 45,000 commands holds the event
// loop, and every socket on it, for most of a second).
const CONNECTIONS = 1_200;
const TTL_MS = 60_000;

let redis: RedisServer;
let client: RedisClient;
let inFlight = 0;
let maxInFlight = 0;

/** The client, counting the commands it has issued and not yet had answered. */
function counting(target: RedisClient): RedisClient {
  return new Proxy(target, {
    get(object, name, receiver) {
      const value = Reflect.get(object, name, receiver) as unknown;
      if (typeof value !== 'function' || !['zadd', 'pexpireat'].includes(String(name)))
        return value;
      return (...args: unknown[]) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return (value as (...a: unknown[]) => Promise<unknown>)
          .apply(object, args)
          .finally(() => inFlight--);
      };
    },
  });
}

beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient(parseRedisConfig({ REDIS_URL: redis.url })!);
  await client.ping();
}, 30_000);

afterAll(async () => {
  await quitRedisClient(client);
  await redis.dispose();
});

it('refreshes every connection of the instance, a slice at a time', async () => {
  const config = {
    presence: { ttlMs: TTL_MS, heartbeatMs: TTL_MS / 3, maxFanout: 0, offlineGraceMs: 1_000 },
  } as AppConfig;
  const bus = { hasLocalSocket: () => true } as unknown as RealtimeBus;
  const presence = new PresenceService(config, {} as Chat, bus, counting(client));
  for (let i = 0; i < CONNECTIONS; i++) await presence.connected(`user-${i}`, `socket-${i}`);
  const before = await client.zscore('chat:presence:online', 'user-0');
  maxInFlight = 0;
  await presence.heartbeat();

  // Every connection's expiry moved forward: none was left out of the slices.
  const online = await client.zrange('chat:presence:online', '0', '-1', 'WITHSCORES');
  const scores = new Map<string, number>();
  for (let i = 0; i < online.length; i += 2) scores.set(online[i]!, Number(online[i + 1]));
  expect(scores.size).toBe(CONNECTIONS);
  for (let i = 0; i < CONNECTIONS; i++) {
    expect(scores.get(`user-${i}`)).toBeGreaterThan(Number(before));
  }
  // 500 connections per slice, 3 commands each (two ZADD, one PEXPIREAT): never the whole
  // instance's 3,600 at once.
  expect(maxInFlight).toBeLessThanOrEqual(500 * 3);
  expect(maxInFlight).toBeGreaterThan(0);
  console.log(
    `[figure] heartbeat of ${CONNECTIONS} connections: at most ${maxInFlight} of their commands in flight at once`,
  );
}, 60_000);
