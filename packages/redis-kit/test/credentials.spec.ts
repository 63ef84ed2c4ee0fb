import { Redis } from 'ioredis';
import {
  startRedis,
  startRedisCluster,
  waitUntil,
  type RedisCluster,
  type RedisServer,
} from '@jobsphere/testing';
import {
  type RedisConfig,
  type RedisCredentialsProvider,
  createRedisClient,
  quitRedisClient,
  type RedisClient,
} from '../src/index.js';
import {
  type Instance,
  type Receiver,
  connectReceiver,
  memoryLogger,
  startInstance,
  stopInstance,
  timeUntilDelivery,
  trackUnhandledRejections,
} from './helpers.js';

/**
 * A rotating secret as the gateway sees Secrets Manager: `stored` is what a re-read returns,
 * `publish()` is a periodic re-read that found a new value.
 */
function rotatingSecret(initial: string) {
  let stored = initial;
  let current = initial;
  const listeners = new Set<() => void>();
  const refreshes: string[] = [];
  const provider: RedisCredentialsProvider = {
    current: () => ({ password: current }),
    refresh: async (reason) => {
      refreshes.push(reason);
      const changed = stored !== current;
      current = stored;
      return changed;
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    provider,
    refreshes,
    /** The secret changed in the store; nobody was told. */
    store: (value: string) => {
      stored = value;
    },
    /** A periodic re-read saw the new value. */
    publish: (value: string) => {
      stored = value;
      current = value;
      for (const listener of listeners) listener();
    },
    listenerCount: () => listeners.size,
  };
}

/** Changes the server's password and cuts every client, as a failover after a rotation does. */
async function rotateServer(admin: Redis, password: string): Promise<void> {
  await admin.config('SET', 'requirepass', password);
  await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
}

describe('rotating Redis credentials (standalone)', () => {
  const logger = memoryLogger();
  let server: RedisServer;
  let admin: Redis;
  let client: RedisClient | undefined;

  beforeAll(async () => {
    server = await startRedis({ password: 'first-Pass-1' });
    admin = new Redis({ host: server.host, port: server.port, password: 'first-Pass-1' });
  });
  afterEach(async () => {
    if (client) await quitRedisClient(client);
    client = undefined;
  });
  afterAll(async () => {
    admin.disconnect();
    await server.dispose();
  });

  const configWith = (provider: RedisCredentialsProvider): RedisConfig => ({
    mode: 'standalone',
    host: server.host,
    port: server.port,
    db: 0,
    tls: false,
    connectTimeoutMs: 2_000,
    commandTimeoutMs: 1_000,
    credentials: provider,
  });

  it('re-reads the secret when Redis refuses the old one, and comes back by itself', async () => {
    const secret = rotatingSecret('first-Pass-1');
    client = createRedisClient(configWith(secret.provider), { logger, name: 'rotation-test' });
    expect(await client.ping()).toBe('PONG');

    secret.store('second-Pass-2');
    await rotateServer(admin, 'second-Pass-2');
    const recovery = await waitUntil(
      'PING with the rotated password',
      async () => (await client!.ping()) === 'PONG',
      10_000,
      50,
    );
    expect(secret.refreshes[0]).toMatch(/WRONGPASS/);
    expect(recovery).toBeLessThan(5_000);
    expect(logger.lines.join('\n')).toContain(
      'credentials were refused; the next connection uses the re-read ones',
    );
    expect(logger.lines.join('\n')).not.toMatch(/first-Pass-1|second-Pass-2/);
  });

  it('uses a value a periodic re-read found without ever being refused', async () => {
    await admin.config('SET', 'requirepass', 'second-Pass-2');
    const secret = rotatingSecret('second-Pass-2');
    client = createRedisClient(configWith(secret.provider), { logger, name: 'periodic-test' });
    expect(await client.ping()).toBe('PONG');

    secret.publish('third-Pass-3');
    await rotateServer(admin, 'third-Pass-3');
    await waitUntil(
      'PING after the rotation',
      async () => (await client!.ping()) === 'PONG',
      10_000,
      50,
    );
    expect(secret.refreshes).toEqual([]);
  });

  it('stops following the secret once the client has ended', async () => {
    await admin.config('SET', 'requirepass', 'third-Pass-3');
    const secret = rotatingSecret('third-Pass-3');
    const ended = createRedisClient(configWith(secret.provider), { logger });
    expect(await ended.ping()).toBe('PONG');
    expect(secret.listenerCount()).toBe(1);
    await quitRedisClient(ended);
    expect(secret.listenerCount()).toBe(0);
  });
});

describe('rotating Redis credentials (cluster, sharded Socket.IO adapter)', () => {
  const logger = memoryLogger();
  const unhandled = trackUnhandledRejections();
  let cluster: RedisCluster;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let receiver: Receiver | undefined;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, password: 'cluster-Pass-1' });
  });
  afterAll(async () => {
    receiver?.socket.disconnect();
    await stopInstance(a);
    await stopInstance(b);
    await cluster.dispose();
    unhandled.stop();
  });

  it('keeps fan-out working across a rotation on every node', async () => {
    const secret = rotatingSecret('cluster-Pass-1');
    const first = cluster.startupNodes[0]!;
    const config: RedisConfig = {
      mode: 'cluster',
      host: first.host,
      port: first.port,
      db: 0,
      tls: false,
      connectTimeoutMs: 2_000,
      commandTimeoutMs: 1_000,
      credentials: secret.provider,
    };
    a = await startInstance(config, logger);
    b = await startInstance(config, logger);
    receiver = await connectReceiver(b, 'room-rotation');
    expect(await timeUntilDelivery(a, 'room-rotation', receiver, 5_000)).toBeDefined();

    secret.store('cluster-Pass-2');
    for (const node of cluster.nodes) {
      const admin = new Redis({ host: node.host, port: node.port, password: 'cluster-Pass-1' });
      try {
        await rotateServer(admin, 'cluster-Pass-2');
      } finally {
        admin.disconnect();
      }
    }
    const interruption = await timeUntilDelivery(a, 'room-rotation', receiver, 15_000);
    expect(interruption).toBeDefined();
    expect(secret.refreshes.length).toBeGreaterThan(0);
    expect(unhandled.reasons).toEqual([]);
    console.log(
      `cluster rotation: fan-out back ${interruption} ms after every node changed its password`,
    );
  }, 40_000);
});
