import {
  type RedisConfig,
  RedisConfigError,
  describeRedisConfig,
  parseRedisConfig,
} from './redis.config.js';

function issuesOf(env: Record<string, string | undefined>): RedisConfigError {
  try {
    parseRedisConfig(env);
  } catch (error) {
    if (error instanceof RedisConfigError) return error;
    throw error;
  }
  throw new Error('expected a RedisConfigError');
}

const vars = (error: RedisConfigError) => error.issues.map((i) => i.variable);

describe('parseRedisConfig', () => {
  it('returns undefined when no Redis variable is set (empty values count as unset)', () => {
    expect(parseRedisConfig({})).toBeUndefined();
    expect(parseRedisConfig({ PATH: '/bin', REDIS_URL: '', REDIS_HOST: '  ' })).toBeUndefined();
  });

  it('reads a plain URL with defaults', () => {
    expect(parseRedisConfig({ REDIS_URL: 'redis://cache.internal' })).toEqual<RedisConfig>({
      mode: 'standalone',
      host: 'cache.internal',
      port: 6379,
      db: 0,
      tls: false,
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 1_000,
    });
  });

  it('reads rediss://, user, percent-encoded password, port and db from the URL', () => {
    expect(parseRedisConfig({ REDIS_URL: 'rediss://app:p%40ss%2Fw0rd@10.0.0.5:6380/3' })).toEqual({
      mode: 'standalone',
      host: '10.0.0.5',
      port: 6380,
      username: 'app',
      password: 'p@ss/w0rd',
      db: 3,
      tls: true,
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 1_000,
    });
    expect(parseRedisConfig({ REDIS_URL: 'redis://:only-pass@h/' })).toMatchObject({
      password: 'only-pass',
      db: 0,
    });
    expect(parseRedisConfig({ REDIS_URL: 'redis://[::1]:7000' })).toMatchObject({
      host: '::1',
      port: 7000,
    });
  });

  it('takes the AUTH token from REDIS_PASSWORD next to a URL without credentials (ElastiCache + Secrets Manager)', () => {
    expect(
      parseRedisConfig({
        REDIS_URL: 'rediss://master.cache.amazonaws.com:6379',
        REDIS_PASSWORD: 'tok',
      }),
    ).toMatchObject({
      password: 'tok',
      tls: true,
    });
  });

  it('reads every separate variable', () => {
    expect(
      parseRedisConfig({
        REDIS_HOST: ' clustercfg.cache.amazonaws.com ',
        REDIS_PORT: '6380',
        REDIS_USERNAME: 'gateway',
        REDIS_PASSWORD: 'secret',
        REDIS_DB: '0',
        REDIS_TLS: 'YES',
        REDIS_TLS_REJECT_UNAUTHORIZED: 'false',
        REDIS_TLS_CA: '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n',
        REDIS_CLUSTER: '1',
        REDIS_CONNECT_TIMEOUT_MS: '2500',
        REDIS_COMMAND_TIMEOUT_MS: '750',
        REDIS_KEY_PREFIX: 'chat:',
      }),
    ).toEqual({
      mode: 'cluster',
      host: 'clustercfg.cache.amazonaws.com',
      port: 6380,
      username: 'gateway',
      password: 'secret',
      db: 0,
      tls: true,
      tlsRejectUnauthorized: false,
      tlsCa: '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n',
      connectTimeoutMs: 2500,
      commandTimeoutMs: 750,
      keyPrefix: 'chat:',
    });
  });

  it.each([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
    ['TRUE', true],
    ['No', false],
  ])('accepts REDIS_CLUSTER=%s', (value, cluster) => {
    expect(parseRedisConfig({ REDIS_HOST: 'h', REDIS_CLUSTER: value })?.mode).toBe(
      cluster ? 'cluster' : 'standalone',
    );
  });

  it.each([
    [{ REDIS_PORT: 'abc' }, 'REDIS_PORT'],
    [{ REDIS_PORT: '0' }, 'REDIS_PORT'],
    [{ REDIS_PORT: '65536' }, 'REDIS_PORT'],
    [{ REDIS_PORT: '63.5' }, 'REDIS_PORT'],
    [{ REDIS_PORT: '-1' }, 'REDIS_PORT'],
    [{ REDIS_DB: '16' }, 'REDIS_DB'],
    [{ REDIS_DB: '1.5' }, 'REDIS_DB'],
    [{ REDIS_DB: 'one' }, 'REDIS_DB'],
    [{ REDIS_TLS: 'maybe' }, 'REDIS_TLS'],
    [{ REDIS_CLUSTER: 'on' }, 'REDIS_CLUSTER'],
    [{ REDIS_TLS: 'true', REDIS_TLS_REJECT_UNAUTHORIZED: 'nah' }, 'REDIS_TLS_REJECT_UNAUTHORIZED'],
    [{ REDIS_CONNECT_TIMEOUT_MS: '0' }, 'REDIS_CONNECT_TIMEOUT_MS'],
    [{ REDIS_CONNECT_TIMEOUT_MS: '5s' }, 'REDIS_CONNECT_TIMEOUT_MS'],
    [{ REDIS_CONNECT_TIMEOUT_MS: '999999' }, 'REDIS_CONNECT_TIMEOUT_MS'],
    [{ REDIS_CLUSTER: 'true', REDIS_DB: '2' }, 'REDIS_DB'],
    [{ REDIS_USERNAME: 'u' }, 'REDIS_PASSWORD'],
    [{ REDIS_TLS_CA: 'not a pem', REDIS_TLS: 'true' }, 'REDIS_TLS_CA'],
    [{ REDIS_TLS_CA: '-----BEGIN CERTIFICATE-----x' }, 'REDIS_TLS_CA'],
    [{ REDIS_TLS_REJECT_UNAUTHORIZED: 'false' }, 'REDIS_TLS_REJECT_UNAUTHORIZED'],
  ])('rejects %j next to REDIS_HOST, naming %s', (env, variable) => {
    expect(vars(issuesOf({ REDIS_HOST: 'h', ...env }))).toEqual([variable]);
  });

  it.each([
    [{ REDIS_HOST: 'redis://h:6379' }, 'REDIS_HOST'],
    [{ REDIS_HOST: 'h w' }, 'REDIS_HOST'],
    [{ REDIS_PORT: '6379' }, 'REDIS_HOST'],
    [{ REDIS_URL: 'http://h:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'h:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://h:6379/16' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://h:6379/x' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://h:6379?tls=true' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://h/2', REDIS_CLUSTER: 'true' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://h', REDIS_HOST: 'h' }, 'REDIS_HOST'],
    [{ REDIS_URL: 'redis://h', REDIS_PORT: '1' }, 'REDIS_PORT'],
    [{ REDIS_URL: 'redis://:a@h', REDIS_PASSWORD: 'b' }, 'REDIS_PASSWORD'],
    [{ REDIS_URL: 'redis://u:a@h', REDIS_USERNAME: 'v' }, 'REDIS_USERNAME'],
    [{ REDIS_URL: 'redis://h/1', REDIS_DB: '2' }, 'REDIS_DB'],
    [{ REDIS_URL: 'redis://h', REDIS_TLS: 'true' }, 'REDIS_TLS'],
    [{ REDIS_URL: 'rediss://h', REDIS_TLS: 'false' }, 'REDIS_TLS'],
  ])('rejects %j, naming %s', (env, variable) => {
    expect(vars(issuesOf(env))).toEqual([variable]);
  });

  it('reports every bad variable at once, in one message', () => {
    const error = issuesOf({
      REDIS_HOST: 'h',
      REDIS_PORT: 'x',
      REDIS_DB: '99',
      REDIS_TLS: 'sure',
      REDIS_CLUSTER: '2',
    });
    expect(vars(error).sort()).toEqual(['REDIS_CLUSTER', 'REDIS_DB', 'REDIS_PORT', 'REDIS_TLS']);
    expect(error.name).toBe('RedisConfigError');
    for (const v of vars(error)) expect(error.message).toContain(v);
  });

  it('never puts the password in the error, whatever is wrong', () => {
    const secret = 'Sup3r-S3cret-Token';
    const cases: Record<string, string>[] = [
      { REDIS_URL: `redis://user:${secret}@h:99999` },
      { REDIS_URL: `ftp://user:${secret}@h` },
      { REDIS_URL: `redis://:${secret}@h/${secret}` },
      { REDIS_URL: `redis://:${secret}@h?x=${secret}`, REDIS_PASSWORD: secret },
      { REDIS_URL: `not a url ${secret}` },
      { REDIS_HOST: 'h', REDIS_PASSWORD: secret, REDIS_PORT: secret, REDIS_TLS: secret },
    ];
    for (const env of cases) {
      const error = issuesOf(env);
      expect(error.message).not.toContain(secret);
      expect(JSON.stringify(error.issues)).not.toContain(secret);
    }
  });
});

describe('describeRedisConfig', () => {
  const base: RedisConfig = {
    mode: 'standalone',
    host: 'h',
    port: 6379,
    db: 0,
    tls: false,
    connectTimeoutMs: 1000,
    commandTimeoutMs: 1_000,
  };

  it('masks the password and names the mode', () => {
    expect(describeRedisConfig({ ...base, tls: true, password: 'secret', mode: 'cluster' })).toBe(
      'rediss://***@h:6379/0 (cluster)',
    );
    expect(describeRedisConfig({ ...base, username: 'app', password: 'secret', db: 2 })).toBe(
      'redis://app:***@h:6379/2 (standalone)',
    );
    expect(describeRedisConfig({ ...base, host: '::1' })).toBe('redis://[::1]:6379/0 (standalone)');
    expect(describeRedisConfig({ ...base, tls: true, tlsRejectUnauthorized: false })).toBe(
      'rediss://h:6379/0 (standalone, certificate not verified)',
    );
  });
});
