import {
  createRedisClient,
  parseRedisConfig,
  quitRedisClient,
  type RedisClient,
} from '@jobsphere/redis-kit';
import {
  startRedis,
  startRedisCluster,
  type RedisCluster,
  type RedisServer,
} from '@jobsphere/testing';
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
    }, 60_000);
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

    it('refreshes every listed connection, several of one user among them, and no other', async () => {
      await store.connect('multi', 'a:s1', now + 50);
      await store.connect('multi', 'a:s2', now + 50);
      await store.connect('multi', 'b:s1', now + 50); // another instance's, which died
      await store.connect('single', 'a:s3', now + 50);
      await store.refresh(
        [
          { userId: 'multi', connectionId: 'a:s1' },
          { userId: 'single', connectionId: 'a:s3' },
          { userId: 'multi', connectionId: 'a:s2' },
        ],
        now + 10_000,
      );
      expect(await store.disconnect('multi', 'a:s1', now + 100)).toBe(false); // a:s2 still live
      expect(await store.lookup(['multi', 'single'], now + 100)).toEqual([
        { userId: 'multi', online: true },
        { userId: 'single', online: true },
      ]);
      expect(await store.disconnect('multi', 'a:s2', now + 100)).toBe(true); // b:s1 expired
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

// The heartbeat's script takes many keys on one Redis, one user's keys on a cluster (other slots).
let cluster: RedisCluster;
let clusterClient: RedisClient;
describePresenceContract(
  'Redis cluster',
  async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    const node = cluster.startupNodes[0]!;
    clusterClient = createRedisClient(
      parseRedisConfig({
        REDIS_HOST: node.host,
        REDIS_PORT: String(node.port),
        REDIS_CLUSTER: 'true',
      })!,
    );
    return new RedisPresenceStore(clusterClient);
  },
  async () => {
    await quitRedisClient(clusterClient);
    await cluster.dispose();
  },
);

it('refreshes after Redis lost its scripts (a restart, a failover)', async () => {
  const server = await startRedis();
  const redisClient = createRedisClient(parseRedisConfig({ REDIS_URL: server.url })!);
  try {
    const store = new RedisPresenceStore(redisClient);
    const now = Date.now();
    await store.connect('u', 'c1', now + 50);
    await store.refresh([{ userId: 'u', connectionId: 'c1' }], now + 1_000);
    await redisClient.script('FLUSH');
    await store.refresh([{ userId: 'u', connectionId: 'c1' }], now + 10_000);
    expect(await store.lookup(['u'], now + 5_000)).toEqual([{ userId: 'u', online: true }]);
  } finally {
    await quitRedisClient(redisClient);
    await server.dispose();
  }
}, 30_000);
