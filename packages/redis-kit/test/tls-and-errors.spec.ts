import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { type RedisServer, startRedis } from '@jobsphere/testing';
import { type RedisConfig, RedisConnectionError, createRedisAdapter } from '../src/index.js';
import {
  type Instance,
  type Receiver,
  connectReceiver,
  deliverOnce,
  memoryLogger,
  startInstance,
  stopInstance,
  trackUnhandledRejections,
} from './helpers.js';

const PASSWORD = 'tls-test-Pa55word';
const CONNECT_TIMEOUT_MS = 1_000;

describe('Redis with password and TLS', () => {
  const logger = memoryLogger();
  const unhandled = trackUnhandledRejections();
  let secure: RedisServer;
  let plain: RedisServer;
  let config: RedisConfig;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let receiver: Receiver | undefined;

  beforeAll(async () => {
    [secure, plain] = await Promise.all([
      startRedis({ tls: true, password: PASSWORD }),
      startRedis({ password: PASSWORD }),
    ]);
    config = {
      mode: 'standalone',
      host: secure.host,
      port: secure.port,
      password: PASSWORD,
      db: 0,
      tls: true,
      tlsCa: secure.tls!.ca,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      commandTimeoutMs: 1_000,
    };
  });

  afterAll(async () => {
    receiver?.socket.disconnect();
    await stopInstance(a);
    await stopInstance(b);
    await Promise.all([secure?.dispose(), plain?.dispose()]);
    unhandled.stop();
  });

  it('delivers a room broadcast across instances over TLS with AUTH', async () => {
    a = await startInstance(config, logger);
    b = await startInstance(config, logger);
    receiver = await connectReceiver(b, 'room-tls');
    await expect(deliverOnce(a, 'room-tls', receiver)).resolves.toBe(true);
    expect(logger.lines.join('\n')).not.toContain(PASSWORD);
  });

  describe('fails fast with a clear error, never hangs, never leaks the password', () => {
    let silent: NetServer;
    let silentPort: number;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      // Accepts connections and never answers: a host that swallows packets, seen from the client.
      silent = createServer((s) => {
        sockets.add(s);
        s.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      silentPort = (silent.address() as AddressInfo).port;
    });

    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    const cases: [string, () => RedisConfig, RegExp][] = [
      ['wrong password', () => ({ ...config, password: 'not-the-password' }), /WRONGPASS/],
      [
        'no password for a server that wants one',
        () => ({ ...config, password: undefined }),
        /NOAUTH/,
      ],
      ['TLS client to a plain server', () => ({ ...config, port: plain.port }), /TLS is on/],
      [
        'plain client to a TLS server',
        () => ({ ...config, tls: false, tlsCa: undefined }),
        /TLS is off|ECONNRESET/,
      ],
      [
        'untrusted certificate (no CA given)',
        () => ({ ...config, tlsCa: undefined }),
        /self-signed certificate/,
      ],
      [
        'nothing listening on the port',
        () => ({ ...config, tls: false, tlsCa: undefined, port: 1 }),
        /ECONNREFUSED/,
      ],
      [
        'a host that never answers',
        () => ({ ...config, tls: false, tlsCa: undefined, host: '127.0.0.1', port: silentPort }),
        /no reply within the connect timeout|ETIMEDOUT/,
      ],
      [
        'a TLS host that never answers',
        () => ({ ...config, host: '127.0.0.1', port: silentPort }),
        /ETIMEDOUT|connect timeout/,
      ],
    ];

    it.each(cases)('%s', async (_name, makeConfig, expected) => {
      const started = Date.now();
      const error: unknown = await createRedisAdapter(makeConfig(), {
        logger: memoryLogger(),
      }).then(
        () => new Error('connected, unexpectedly'),
        (e: unknown) => e,
      );
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(RedisConnectionError);
      const message = (error as Error).message;
      expect(message).toMatch(expected);
      expect(message).toMatch(/cannot connect to socket\.io-(pub|sub) redis/);
      expect(message).not.toContain(PASSWORD);
      console.log(
        `[figure] "${_name}" failed after ${elapsed} ms (connect timeout ${CONNECT_TIMEOUT_MS} ms): ${message}`,
      );
    });

    it('left no unhandled rejection behind', async () => {
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled.reasons).toEqual([]);
    });
  });
});
