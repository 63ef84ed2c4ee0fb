import { jest } from '@jest/globals';
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
// is refreshed, a slice at a time, in two commands per slice (it was three per connection: at
// 15,000 sockets 45,000 commands every 10 s, most of what an idle instance allocated and the
// cause of its minor GCs and event-loop lag).
const CONNECTIONS = 1_200;
const TTL_MS = 60_000;

let redis: RedisServer;
let client: RedisClient;
let inFlight = 0;
let maxInFlight = 0;
let issued = 0;

const REDIS_COMMANDS = new Set([
  'zadd',
  'pexpireat',
  'eval',
  'evalsha',
  'call',
  'pipeline',
  'multi',
]);

/** The client, counting the commands it has issued and not yet had answered. */
function counting(target: RedisClient): RedisClient {
  return new Proxy(target, {
    get(object, name, receiver) {
      const value = Reflect.get(object, name, receiver) as unknown;
      if (typeof value !== 'function' || !REDIS_COMMANDS.has(String(name))) return value;
      return (...args: unknown[]) => {
        issued++;
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
  issued = 0;
  await presence.heartbeat();

  // Every connection's expiry moved forward: none was left out of the slices.
  const online = await client.zrange('chat:presence:online', '0', '-1', 'WITHSCORES');
  const scores = new Map<string, number>();
  for (let i = 0; i < online.length; i += 2) scores.set(online[i]!, Number(online[i + 1]));
  expect(scores.size).toBe(CONNECTIONS);
  for (let i = 0; i < CONNECTIONS; i++) {
    expect(scores.get(`user-${i}`)).toBeGreaterThan(Number(before));
    // The connection itself and its key's expiry too.
    const [, score] = await client.zrange(`chat:presence:conn:user-${i}`, '0', '-1', 'WITHSCORES');
    expect(Number(score)).toBe(scores.get(`user-${i}`));
    expect(await client.pexpiretime(`chat:presence:conn:user-${i}`)).toBe(Number(score));
  }
  // 500 connections per slice, one slice in flight at a time, two commands each (the shared
  // set's ZADD and one script over the connection keys): 6 commands, not 3,600.
  // The first heartbeat also loads the script (EVALSHA answered NOSCRIPT, then one EVAL).
  const slices = Math.ceil(CONNECTIONS / 500);
  expect(issued).toBe(slices * 2 + 1);
  expect(maxInFlight).toBeLessThanOrEqual(2);
  issued = 0;
  await presence.heartbeat();
  expect(issued).toBe(slices * 2);
  console.log(
    `[figure] heartbeat of ${CONNECTIONS} connections: ${issued} Redis commands, at most ${maxInFlight} in flight at once`,
  );
}, 60_000);

it('drops a connection admitted but never connected here, and refreshes the rest', async () => {
  const config = {
    presence: { ttlMs: TTL_MS, heartbeatMs: TTL_MS / 3, maxFanout: 0, offlineGraceMs: 1_000 },
  } as AppConfig;
  // The client of `left` went away during its handshake: no socket of that id on this instance.
  const bus = { hasLocalSocket: (id: string) => id !== 'left' } as unknown as RealtimeBus;
  const presence = new PresenceService(config, {} as Chat, bus, client);
  await presence.connected('stays', 'stays');
  await presence.connected('leaves', 'left');
  const score = async (userId: string) => {
    const [, expiry] = await client.zrange(`chat:presence:conn:${userId}`, '0', '-1', 'WITHSCORES');
    return Number(expiry);
  };
  const [stays, leaves] = [await score('stays'), await score('leaves')];
  // One heartbeat period later (the clock moved, not a wait).
  const now = Date.now() + TTL_MS / 3 + 1;
  const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
  try {
    await presence.heartbeat();
  } finally {
    clock.mockRestore();
  }
  expect(await score('stays')).toBe(now + TTL_MS);
  expect(await score('stays')).toBeGreaterThan(stays);
  expect(await score('leaves')).toBe(leaves); // not refreshed: it expires with its TTL
}, 30_000);
