import {
  createRedisClient,
  parseRedisConfig,
  quitRedisClient,
  type RedisClient,
} from '@jobsphere/redis-kit';
import { startRedis, type RedisServer } from '@jobsphere/testing';
import {
  MemoryPresenceStore,
  RedisPresenceStore,
  type PresenceStore,
} from '../src/presence/presence.store.js';

// One presence contract for the in-process store (embedded default) and the Redis one.
function describePresenceContract(
  name: string,
  open: () => Promise<PresenceStore>,
  close: () => Promise<void>,
) {
  describe(`${name} presence store`, () => {
    let store: PresenceStore;
    let now: number;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(close);
    beforeEach(() => {
      now = Date.now();
    });

    it('goes online with the first device, stays online while one remains, offline after the last', async () => {
      expect(await store.connect('u1', 'dev-a', now + 10_000)).toEqual({
        admitted: true,
        cameOnline: true,
        live: 1,
      });
      expect(await store.connect('u1', 'dev-b', now + 10_000)).toEqual({
        admitted: true,
        cameOnline: false,
        live: 2,
      });
      expect(await store.disconnect('u1', 'dev-a', now)).toBe(false);
      expect(await store.lookup(['u1'], now)).toEqual([{ userId: 'u1', online: true }]);
      expect(await store.disconnect('u1', 'dev-b', now + 1)).toBe(true);
      expect(await store.lookup(['u1'], now + 2)).toEqual([
        { userId: 'u1', online: false, lastSeenAt: now + 1 },
      ]);
    });

    it('admits at most the cap of simultaneous connections, refreshes one it holds, and counts expired ones out', async () => {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => store.connect('capped', `dev-${i}`, now + 10_000, 5)),
      );
      expect(answers.filter((a) => a.admitted)).toHaveLength(5);
      expect(answers.find((a) => !a.admitted)).toEqual({
        admitted: false,
        cameOnline: false,
        live: 5,
      });
      const held = answers.findIndex((a) => a.admitted);
      expect(await store.connect('capped', `dev-${held}`, now + 20_000, 5)).toMatchObject({
        admitted: true,
        live: 5,
      });
      await store.connect('stale', 'old', now - 1, 1);
      expect(await store.connect('stale', 'new', now + 10_000, 1)).toMatchObject({
        admitted: true,
        live: 1,
      });
    });

    it('ignores a disconnect it never saw (e.g. after a sweep)', async () => {
      expect(await store.disconnect('ghost', 'dev-x', now)).toBe(false);
    });

    it('lets connections that are not refreshed expire, and reports each user once', async () => {
      await store.connect('u2', 'dead-instance:s1', now + 50);
      await store.connect('u3', 'live-instance:s1', now + 50);
      await store.refresh([{ userId: 'u3', connectionId: 'live-instance:s1' }], now + 10_000);
      const later = now + 100;
      expect(await store.sweep(later)).toEqual(['u2']);
      expect(await store.sweep(later)).toEqual([]);
      expect(await store.lookup(['u2', 'u3', 'never-seen'], later)).toEqual([
        { userId: 'u2', online: false, lastSeenAt: expect.any(Number) },
        { userId: 'u3', online: true },
        { userId: 'never-seen', online: false },
      ]);
    });
  });
}

describePresenceContract(
  'in-memory',
  async () => new MemoryPresenceStore(),
  async () => {},
);

let redis: RedisServer;
let client: RedisClient;
describePresenceContract(
  'Redis',
  async () => {
    redis = await startRedis();
    client = createRedisClient(parseRedisConfig({ REDIS_URL: redis.url })!);
    return new RedisPresenceStore(client);
  },
  async () => {
    await quitRedisClient(client);
    await redis.dispose();
  },
);
