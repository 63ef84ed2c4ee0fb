import { ConfigError, DEV_JWT_SECRET, loadConfig } from './app-config.js';

const SECRET = 'x'.repeat(40);
const production = {
  NODE_ENV: 'production',
  MONGODB_URI: 'mongodb://docdb.example:27017/chat?tls=true',
  REDIS_URL: 'rediss://:auth-token-value@cache.example:6379',
  JWT_SECRET: SECRET,
  CLIENT_URL: 'https://app.jobsphere.example',
};

function issuesOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs on the embedded default with nothing set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      nodeEnv: 'development',
      corsOrigin: true,
      jwt: { secret: DEV_JWT_SECRET, usingDevSecret: true },
    });
    expect(config.mongodbUri).toBeUndefined();
    expect(config.redis).toBeUndefined();
    expect(config.socket).toEqual({
      pingIntervalMs: 25_000,
      pingTimeoutMs: 20_000,
      maxPayloadBytes: 65_536,
      transports: ['websocket'],
    });
  });

  it('reads a full production setting, with the seed\u2019s variable names', () => {
    const config = loadConfig({
      ...production,
      PORT: '4100',
      SOCKET_TRANSPORTS: 'websocket, polling',
      RATE_LIMIT_SEND_PER_10S: '5',
    });
    expect(config).toMatchObject({
      port: 4100,
      nodeEnv: 'production',
      mongodbUri: production.MONGODB_URI,
      corsOrigin: 'https://app.jobsphere.example',
      jwt: { secret: SECRET, usingDevSecret: false },
      redis: {
        mode: 'standalone',
        host: 'cache.example',
        port: 6379,
        tls: true,
        password: 'auth-token-value',
      },
      socket: { transports: ['websocket', 'polling'] },
      rateLimits: { send: { points: 5, durationS: 10 } },
    });
  });

  it('reads REDIS_HOST and friends, and cluster mode', () => {
    const config = loadConfig({
      REDIS_HOST: 'cfg.cache.example',
      REDIS_PORT: '6380',
      REDIS_TLS: 'true',
      REDIS_CLUSTER: 'true',
    });
    expect(config.redis).toMatchObject({
      mode: 'cluster',
      host: 'cfg.cache.example',
      port: 6380,
      tls: true,
    });
  });

  it('refuses to start in production without a store, Redis, a secret or a CORS origin, naming each', () => {
    const error = issuesOf({ NODE_ENV: 'production' });
    expect(error.issues.map((i) => i.variable).sort()).toEqual([
      'CLIENT_URL',
      'JWT_SECRET',
      'MONGODB_URI',
      'REDIS_URL',
    ]);
    expect(error.message).toMatch(/^invalid configuration: /);
  });

  it('names every bad variable at once', () => {
    const error = issuesOf({
      PORT: 'eighty',
      NODE_ENV: 'staging',
      MONGODB_URI: 'postgres://x',
      JWT_SECRET: 'short',
      SOCKET_TRANSPORTS: 'carrier-pigeon',
      LOG_LEVEL: 'loud',
      REDIS_PORT: '6379',
    });
    expect(error.issues.map((i) => i.variable).sort()).toEqual(
      expect.arrayContaining([
        'JWT_SECRET',
        'LOG_LEVEL',
        'MONGODB_URI',
        'NODE_ENV',
        'PORT',
        'SOCKET_TRANSPORTS',
      ]),
    );
    expect(error.issues.some((i) => i.variable.startsWith('REDIS_'))).toBe(true);
  });

  it('never puts a secret\u2019s value in the error', () => {
    const error = issuesOf({
      JWT_SECRET: 'tooshort-but-secret',
      REDIS_URL: 'redis://:hunter2-token@:notaport',
    });
    expect(error.message).not.toContain('tooshort-but-secret');
    expect(error.message).not.toContain('hunter2-token');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', MONGODB_URI: '', REDIS_URL: '' })).toMatchObject({ port: 4000 });
  });

  it('reads rotating credentials from Secrets Manager settings', () => {
    const config = loadConfig({
      ...production,
      REDIS_URL: 'rediss://cache.example:6379',
      REDIS_AUTH_SECRET_ID: 'arn:aws:secretsmanager:us-east-1:1:secret:redis-AbCd',
      MONGODB_SECRET_ID: 'jobsphere-chat-prod/docdb-app',
      AWS_REGION: 'us-east-1',
    });
    expect(config.secrets).toEqual({
      redisAuthSecretId: 'arn:aws:secretsmanager:us-east-1:1:secret:redis-AbCd',
      mongodbSecretId: 'jobsphere-chat-prod/docdb-app',
      region: 'us-east-1',
      refreshMs: 60_000,
    });
    expect(loadConfig({}).secrets).toBeUndefined();
  });

  it('refuses secret settings that cannot work together, naming each', () => {
    const error = issuesOf({
      REDIS_URL: 'redis://:inline-password@cache.example:6379',
      REDIS_AUTH_SECRET_ID: 'redis-token',
      MONGODB_URI: 'mongodb://user:pass@docdb.example:27017/chat',
      MONGODB_SECRET_ID: 'docdb-app',
      SECRETS_REFRESH_MS: '10',
    });
    expect(error.issues.map((i) => i.variable).sort()).toEqual([
      'AWS_REGION',
      'MONGODB_URI',
      'REDIS_AUTH_SECRET_ID',
      'SECRETS_REFRESH_MS',
    ]);
    expect(error.message).not.toContain('inline-password');
  });
});
