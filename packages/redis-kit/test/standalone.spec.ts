import 'reflect-metadata';
import { waitUntil } from '@jobsphere/testing';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type RedisServer, startRedis } from '@jobsphere/testing';
import {
  type RedisClient,
  type RedisConfig,
  REDIS_CLIENT,
  REDIS_CONFIG,
  RedisHealthIndicator,
  RedisModule,
  createRedisClient,
  quitRedisClient,
} from '../src/index.js';
import {
  type Instance,
  type Receiver,
  connectReceiver,
  deliverOnce,
  medianLatency,
  memoryLogger,
  startInstance,
  stopInstance,
  timeUntilDelivery,
  trackUnhandledRejections,
} from './helpers.js';

// One redis-server for the file; the outage test kills and restarts it last.
describe('standalone Redis', () => {
  const logger = memoryLogger();
  const unhandled = trackUnhandledRejections();
  let server: RedisServer;
  let config: RedisConfig;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let receiver: Receiver;
  let client: RedisClient;
  let health: RedisHealthIndicator;

  beforeAll(async () => {
    server = await startRedis();
    config = {
      mode: 'standalone',
      host: server.host,
      port: server.port,
      db: 0,
      tls: false,
      connectTimeoutMs: 1_000,
      commandTimeoutMs: 300,
    };
    a = await startInstance(config, logger);
    b = await startInstance(config, logger);
    receiver = await connectReceiver(b, 'room-1');
    client = createRedisClient(config, { name: 'health', logger });
    health = new RedisHealthIndicator(new HealthIndicatorService(), client);
  });

  afterAll(async () => {
    receiver?.socket.disconnect();
    await stopInstance(a);
    await stopInstance(b);
    if (client) await quitRedisClient(client);
    await server?.dispose();
    unhandled.stop();
  });

  it('delivers a room broadcast from one instance to a client of another', async () => {
    await expect(deliverOnce(a!, 'room-1', receiver)).resolves.toBe(true);
    // Not to a client outside the room.
    await expect(deliverOnce(a!, 'other-room', receiver, 200)).resolves.toBe(false);
  });

  it('measures cross-instance broadcast latency on loopback', async () => {
    const figures = await medianLatency(a!, 'room-1', receiver, 200);
    console.log(
      `[figure] standalone cross-instance broadcast latency over 200 messages: median ${figures.medianMs} ms, p95 ${figures.p95Ms} ms, lost ${figures.lost}`,
    );
    expect(figures.lost).toBe(0);
  });

  it('RedisModule.forRootAsync injects a working client and config, and app.close() quits the client', async () => {
    @Injectable()
    class Settings {
      readonly redis = config;
    }
    @Module({ providers: [Settings], exports: [Settings] })
    class SettingsModule {}
    @Injectable()
    class Consumer {
      constructor(
        @Inject(REDIS_CLIENT) readonly client: RedisClient,
        @Inject(REDIS_CONFIG) readonly config: RedisConfig,
        readonly health: RedisHealthIndicator,
      ) {}
    }

    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({
            config: settings.redis,
            logger,
            name: 'nest-test',
          }),
        }),
      ],
      providers: [Consumer],
    }).compile();
    // An application context (no HTTP platform needed); close() runs the same shutdown hooks.
    const app = await moduleRef.init();
    const consumer = app.get(Consumer);
    expect(consumer.config).toBe(config);
    await expect(consumer.client.set('nest', 'ok')).resolves.toBe('OK');
    await expect(consumer.health.isHealthy()).resolves.toEqual({ redis: { status: 'up' } });
    const clientList = () => client.client('LIST') as Promise<string>;
    expect(await clientList()).toContain('name=nest-test');

    await app.close();
    expect(consumer.client.status).toBe('end');
    await waitUntil(
      'server forgets the connection',
      async () => !(await clientList()).includes('name=nest-test'),
      2_000,
    );
  });

  it('answers within the command timeout while Redis stalls (SIGSTOP), and works again after', async () => {
    await expect(client.set('stall', 'before')).resolves.toBe('OK');
    server.pause();
    try {
      const started = Date.now();
      await expect(client.get('stall')).rejects.toThrow(/timed out/i);
      const waitedMs = Date.now() - started;
      // The connection stays open: only the command timeout can end the wait.
      expect(client.status).toBe('ready');
      expect(waitedMs).toBeLessThan(2_000);
      await expect(health.isHealthy('redis', 500)).resolves.toMatchObject({
        redis: { status: 'down' },
      });
      console.log(`[figure] standalone command during a stall failed after ${waitedMs} ms`);
    } finally {
      server.resume();
    }
    await waitUntil('answers again', async () => (await client.get('stall')) === 'before', 5_000);
    expect(unhandled.reasons).toEqual([]);
  });

  it('survives Redis being SIGKILLed and restarted: down, then up, delivery resumes, no unhandled rejection', async () => {
    await expect(health.isHealthy()).resolves.toEqual({ redis: { status: 'up' } });

    await server.kill();
    await waitUntil(
      'health down',
      async () => (await health.isHealthy('redis', 200)).redis?.status === 'down',
      5_000,
    );
    const down = await health.isHealthy('redis', 200);
    expect(down.redis?.status).toBe('down');
    // Broadcasting while Redis is gone neither throws nor crashes; the packets are dropped.
    for (let i = 0; i < 20; i++) a!.io.to('room-1').emit('probe', `lost-${i}`);
    await new Promise((r) => setTimeout(r, 300));
    await expect(client.get('k')).rejects.toThrow();

    const restartedAt = Date.now();
    await server.restart();
    const reconnectMs = await waitUntil(
      'client ready again',
      () => client.status === 'ready',
      10_000,
    );
    await waitUntil(
      'health up',
      async () => (await health.isHealthy()).redis?.status === 'up',
      10_000,
    );
    const waited = await timeUntilDelivery(a!, 'room-1', receiver, 10_000);
    expect(waited).toBeDefined();
    console.log(
      `[figure] standalone reconnect after SIGKILL + restart: command client ready ${reconnectMs} ms after restart, ` +
        `cross-instance delivery confirmed ${Date.now() - restartedAt} ms after restart (upper bound: includes the health checks)`,
    );
    await expect(deliverOnce(a!, 'room-1', receiver)).resolves.toBe(true);
    await expect(client.set('k', 'v')).resolves.toBe('OK');

    expect(unhandled.reasons).toEqual([]);
    // The outage was logged once per client, without a flood and without secrets.
    expect(
      logger.lines.some((l) => l.includes('ECONNREFUSED') || l.includes('Connection is closed')),
    ).toBe(true);
    expect(
      logger.lines.filter((l) => l.includes('health') && l.includes('ECONNREFUSED')).length,
    ).toBeLessThanOrEqual(2);
  });
});
