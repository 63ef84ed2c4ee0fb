import { parseMongoSecret, parseRedisSecret } from './credentials.js';
import { RotatingSecret, type SecretReader } from './rotating-secret.js';

/** A secret store in memory whose reads can be held, failed and counted. */
function memoryReader(initial: string) {
  let value = initial;
  let version = 1;
  let failing = false;
  let hold: Promise<void> | undefined;
  const reads: string[] = [];
  const reader: SecretReader = {
    read: async (secretId) => {
      reads.push(secretId);
      if (hold) await hold;
      if (failing) throw new Error('service unavailable');
      return { value, versionId: `v${version}` };
    },
    close: () => {},
  };
  return {
    reader,
    reads,
    rotate: (next: string) => {
      value = next;
      version++;
    },
    fail: (on: boolean) => {
      failing = on;
    },
    holdReads: () => {
      let release = () => {};
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

const logLines = () => {
  const lines: string[] = [];
  return { lines, log: (m: string) => lines.push(m), warn: (m: string) => lines.push(`warn ${m}`) };
};

const load = (reader: SecretReader, logger = logLines(), minRefusalIntervalMs = 0) =>
  RotatingSecret.load({
    reader,
    secretId: 'app/redis',
    label: 'Redis AUTH token',
    parse: parseRedisSecret,
    logger,
    minRefusalIntervalMs,
  });

describe('RotatingSecret', () => {
  it('re-reads on demand, tells listeners about a change, and never logs the value', async () => {
    const store = memoryReader('token-one-1');
    const logger = logLines();
    const secret = await load(store.reader, logger);
    const seen: string[] = [];
    secret.onChange((value) => seen.push(value.password));
    expect(secret.current()).toEqual({ password: 'token-one-1' });

    expect(await secret.refresh('refused')).toBe(false); // same version
    store.rotate('token-two-2');
    expect(await secret.refresh('refused')).toBe(true);
    expect(secret.current()).toEqual({ password: 'token-two-2' });
    expect(seen).toEqual(['token-two-2']);
    expect(logger.lines).toEqual([
      'Redis AUTH token: read from Secrets Manager (version v1)',
      'Redis AUTH token: changed in Secrets Manager (version v1 -> v2, refused)',
    ]);
  });

  it('reads once for a burst of refusals', async () => {
    const store = memoryReader('token-one-1');
    const secret = await load(store.reader, logLines(), 60_000);
    store.rotate('token-two-2');
    const release = store.holdReads();
    // The first refusal comes long after boot (rewound here): it reads; the rest share it.
    (secret as unknown as { lastRead: number }).lastRead = 0;
    const burst = [secret.refresh('refused'), secret.refresh('refused'), secret.refresh('refused')];
    release();
    expect(await Promise.all(burst)).toEqual([true, true, true]);
    expect(await secret.refresh('refused')).toBe(false); // within the interval: from memory
    expect(store.reads).toHaveLength(2); // boot + one re-read
  });

  it('keeps the last good value when a re-read fails or the new value is unusable', async () => {
    const store = memoryReader('token-one-1');
    const logger = logLines();
    const secret = await load(store.reader, logger);
    store.fail(true);
    expect(await secret.refresh('periodic')).toBe(false);
    store.fail(false);
    store.rotate('   ');
    expect(await secret.refresh('periodic')).toBe(false);
    expect(secret.current()).toEqual({ password: 'token-one-1' });
    expect(logger.lines.slice(1)).toEqual([
      'warn Redis AUTH token: re-read (periodic) failed, keeping version v1: service unavailable',
      'warn the Redis AUTH token in app/redis cannot be used: the value is empty; keeping version v1',
    ]);
  });

  it('picks a rotation up by itself on its timer', async () => {
    const store = memoryReader('token-one-1');
    const secret = await load(store.reader);
    const changed = new Promise<string>((resolve) => secret.onChange((v) => resolve(v.password)));
    secret.startRefreshing(20);
    store.rotate('token-two-2');
    try {
      const deadline = new Promise<string>((resolve) =>
        setTimeout(() => resolve('no change'), 2_000).unref(),
      );
      expect(await Promise.race([changed, deadline])).toBe('token-two-2');
    } finally {
      secret.stop();
    }
  });

  it('fails the boot with the reason when the secret cannot be read', async () => {
    const store = memoryReader('x');
    store.fail(true);
    await expect(load(store.reader)).rejects.toThrow(
      'cannot read the Redis AUTH token from Secrets Manager (app/redis): service unavailable',
    );
  });
});

describe('secret formats', () => {
  it('reads a Redis AUTH token plain or as JSON', () => {
    expect(parseRedisSecret('abc')).toEqual({ password: 'abc' });
    expect(parseRedisSecret('{"username":"chat","password":"abc"}')).toEqual({
      username: 'chat',
      password: 'abc',
    });
    expect(() => parseRedisSecret('{"user":"x"}')).toThrow('no "password"');
  });

  it('reads a MongoDB user, and says when the first rotation has not set its password yet', () => {
    expect(parseMongoSecret('{"username":"chat_app","password":"p","dbname":"jobsphere"}')).toEqual(
      {
        username: 'chat_app',
        password: 'p',
      },
    );
    expect(() => parseMongoSecret('{"username":"chat_app","password":""}')).toThrow(
      'has the first rotation run?',
    );
    expect(() => parseMongoSecret('chat_app:p')).toThrow('not JSON');
  });
});
