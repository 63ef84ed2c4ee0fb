import 'reflect-metadata';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { REDIS_ADAPTER, REDIS_CLIENT } from './redis.constants.js';
import { RedisHealthIndicator } from './redis.health.js';

interface FakeClient {
  status: string;
  ping: () => Promise<string>;
}

async function indicatorWith(
  client: FakeClient,
  adapter?: { publisher: FakeClient; subscriber: { status: string } },
): Promise<RedisHealthIndicator> {
  const moduleRef = await Test.createTestingModule({
    providers: [
      HealthIndicatorService,
      RedisHealthIndicator,
      { provide: REDIS_CLIENT, useValue: client },
      ...(adapter ? [{ provide: REDIS_ADAPTER, useValue: adapter }] : []),
    ],
  }).compile();
  return moduleRef.get(RedisHealthIndicator);
}

describe('RedisHealthIndicator', () => {
  it('is up when PING answers', async () => {
    const indicator = await indicatorWith({ status: 'ready', ping: () => Promise.resolve('PONG') });
    await expect(indicator.isHealthy()).resolves.toEqual({ redis: { status: 'up' } });
  });

  it('reports every client of the adapter by name, down when any one is', async () => {
    const ready = { status: 'ready', ping: () => Promise.resolve('PONG') };
    const healthy = await indicatorWith(ready, {
      publisher: ready,
      subscriber: { status: 'ready' },
    });
    await expect(healthy.isHealthy()).resolves.toEqual({
      redis: {
        status: 'up',
        clients: {
          commands: { status: 'up' },
          publisher: { status: 'up' },
          subscriber: { status: 'up' },
        },
      },
    });
    const lostSubscriber = await indicatorWith(ready, {
      publisher: ready,
      subscriber: { status: 'reconnecting' },
    });
    await expect(lostSubscriber.isHealthy()).resolves.toEqual({
      redis: {
        status: 'down',
        message: 'subscriber: not connected (reconnecting)',
        clients: {
          commands: { status: 'up' },
          publisher: { status: 'up' },
          subscriber: { status: 'down', message: 'not connected (reconnecting)' },
        },
      },
    });
  });

  it('uses the given key', async () => {
    const indicator = await indicatorWith({ status: 'ready', ping: () => Promise.resolve('PONG') });
    await expect(indicator.isHealthy('cache')).resolves.toEqual({ cache: { status: 'up' } });
  });

  it('is down, without sending anything, while the client is not connected', async () => {
    let pings = 0;
    const ping = () => {
      pings++;
      return Promise.resolve('PONG');
    };
    const indicator = await indicatorWith({ status: 'reconnecting', ping });
    await expect(indicator.isHealthy()).resolves.toEqual({
      redis: { status: 'down', message: 'commands: not connected (reconnecting)' },
    });
    expect(pings).toBe(0);
  });

  it('is down when PING fails', async () => {
    const indicator = await indicatorWith({
      status: 'ready',
      ping: () => Promise.reject(new Error('LOADING Redis is loading')),
    });
    await expect(indicator.isHealthy()).resolves.toEqual({
      redis: { status: 'down', message: 'commands: LOADING Redis is loading' },
    });
  });

  it('is down, not hanging, when PING never answers, and a late failure is not unhandled', async () => {
    let rejectLate: (e: Error) => void = () => {};
    const indicator = await indicatorWith({
      status: 'ready',
      ping: () => new Promise((_resolve, reject) => (rejectLate = reject)),
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(indicator.isHealthy('redis', 50)).resolves.toEqual({
        redis: { status: 'down', message: 'commands: no PONG within 50 ms' },
      });
      rejectLate(new Error('Connection is closed.'));
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
