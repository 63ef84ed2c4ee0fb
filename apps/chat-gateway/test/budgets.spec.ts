import {
  createRedisClient,
  parseRedisConfig,
  quitRedisClient,
  type RedisClient,
} from '@jobsphere/redis-kit';
import { startRedis, waitUntil, type RedisServer } from '@jobsphere/testing';
import { RateLimitedError } from '@jobsphere/chat-domain';
import { type AppConfig, type BudgetScope } from '../src/config/app-config.js';
import { BudgetService } from '../src/limits/budget.service.js';
import { MetricsService } from '../src/metrics/metrics.service.js';

// Budgets held across instances through a real redis-server: what Redis is told, and when.
const SEND_BUDGET = 30;
const config = {
  budgets: new Proxy({} as Record<BudgetScope, { points: number; durationS: number }>, {
    get: () => ({ points: SEND_BUDGET, durationS: 60 }),
    ownKeys: () => ['send'],
    getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
  }),
} as unknown as AppConfig;

let redis: RedisServer;
const clients: RedisClient[] = [];
let probe: RedisClient;

/** An instance's budgets on its own Redis connection, once that connection is ready. */
async function instance(): Promise<BudgetService> {
  const client = createRedisClient(parseRedisConfig({ REDIS_URL: redis.url })!);
  clients.push(client);
  await client.ping();
  return new BudgetService(config, new MetricsService(), client);
}

/** Commands Redis has processed, but for the probe's own (INFO, GET). */
async function commandsProcessed(): Promise<number> {
  const info = await probe.info('commandstats');
  let calls = 0;
  for (const [, command, n] of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (command !== 'info' && command !== 'get') calls += Number(n);
  }
  return calls;
}

/** What Redis counts as spent for `user` (the shared window's counter). */
async function sharedSpent(user: string): Promise<number> {
  return Number((await probe.get(`chat:rl:send:${user}`)) ?? 0);
}

beforeAll(async () => {
  redis = await startRedis();
  probe = createRedisClient(parseRedisConfig({ REDIS_URL: redis.url })!);
}, 30_000);

afterAll(async () => {
  await Promise.all([probe, ...clients].map((c) => quitRedisClient(c)));
  await redis.dispose();
});

it('tells Redis about a burst in a couple of commands, and the whole of it', async () => {
  const budgets = await instance();
  // Warm the connection and the limiter's script so the count below is the burst's own.
  await budgets.consume('send', 'warm');
  await waitUntil('warm-up told', async () => (await sharedSpent('warm')) === 1, 5_000);
  const before = await commandsProcessed();
  await Promise.all(Array.from({ length: 20 }, () => budgets.consume('send', 'burst')));
  await waitUntil('the burst told', async () => (await sharedSpent('burst')) === 20, 5_000);
  const during = (await commandsProcessed()) - before;
  // Twenty sends cost two limiter calls (the first, then the other nineteen added up), not
  // twenty. A call is one EVALSHA, and Redis counts the script's own commands too (at most 3).
  expect(during).toBeLessThanOrEqual(2 * 4);
  console.log(`[figure] a burst of 20 sends told Redis in ${during} commands`);
}, 20_000);

it('holds the budget across two instances for a client acting one at a time', async () => {
  const [a, b] = await Promise.all([instance(), instance()]);
  let accepted = 0;
  for (let i = 0; i < SEND_BUDGET + 6; i++) {
    const budgets = i % 2 === 0 ? a : b;
    const ok = await budgets.consume('send', 'alternating').then(
      () => true,
      (error: unknown) => {
        expect(error).toBeInstanceOf(RateLimitedError);
        return false;
      },
    );
    if (ok) accepted++;
    // The next action comes after this one's answer from Redis, as a client's next send would.
    await waitUntil('told', async () => (await sharedSpent('alternating')) >= accepted, 5_000);
  }
  expect(accepted).toBeGreaterThanOrEqual(SEND_BUDGET);
  expect(accepted).toBeLessThanOrEqual(SEND_BUDGET + 1);
}, 30_000);

it('does not tell Redis about points given back before they were told', async () => {
  const budgets = await instance();
  await budgets.consume('send', 'refunded');
  // The first is in flight; these two wait for it, and one is given back meanwhile.
  await budgets.consume('send', 'refunded');
  await budgets.consume('send', 'refunded');
  await budgets.refund('send', 'refunded');
  await waitUntil('told', async () => (await sharedSpent('refunded')) === 2, 5_000);
  // Nothing more arrives later.
  await budgets.consume('send', 'other');
  await waitUntil('a later key told', async () => (await sharedSpent('other')) === 1, 5_000);
  expect(await sharedSpent('refunded')).toBe(2);
}, 20_000);
