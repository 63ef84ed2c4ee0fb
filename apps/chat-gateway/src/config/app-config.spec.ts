import { ConfigError, DEV_JWT_SECRET, loadConfig, weakSecretReason } from './app-config.js';

// 48 random bytes, base64: what `openssl rand -base64 48` prints.
const SECRET = 'q3Vx9Lr2mT8bN4pZ1wY7cK0sF6hJ5dA2gE9uR3iO8lP4vB7nM1xC6zQ0tW5yS2kH';
const production = {
  NODE_ENV: 'production',
  MONGODB_URI: 'mongodb://docdb.example:27017/chat?tls=true',
  REDIS_URL: 'rediss://:auth-token-value@cache.example:6379',
  JWT_SECRET: SECRET,
  CLIENT_URL: 'https://app.jobsphere.example',
  ATTACHMENTS_BUCKET: 'jobsphere-chat-prod-attachments-1',
  AWS_REGION: 'us-east-1',
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
      jwt: { secret: DEV_JWT_SECRET, usingDevSecret: true, maxTtlMs: 86_400_000 },
      store: { timeoutMs: 1_500 },
      http: { maxBodyBytes: 65_536, trustProxyHops: 0 },
    });
    expect(config.mongodbUri).toBeUndefined();
    expect(config.redis).toBeUndefined();
    expect(config.metrics).toBeUndefined();
    expect(config.socket).toEqual({
      pingIntervalMs: 25_000,
      pingTimeoutMs: 20_000,
      maxPayloadBytes: 65_536,
      transports: ['websocket'],
      maxPerUser: 20,
      maxBufferedBytes: 1_048_576,
      maxPacketsPer10s: 300,
    });
    expect(config.budgets).toEqual({
      send: { points: 30, durationS: 10 },
      typing: { points: 20, durationS: 10 },
      sync: { points: 60, durationS: 60 },
      read: { points: 120, durationS: 60 },
      presence: { points: 30, durationS: 60 },
      refresh: { points: 10, durationS: 60 },
      rest: { points: 120, durationS: 60 },
      conversations: { points: 60, durationS: 3600 },
      revise: { points: 30, durationS: 60 },
      react: { points: 60, durationS: 60 },
      answer: { points: 30, durationS: 60 },
      block: { points: 60, durationS: 3600 },
      report: { points: 20, durationS: 3600 },
      service: { points: 6000, durationS: 60 },
      uploads: { points: 100, durationS: 3600 },
      restIp: { points: 600, durationS: 60 },
      handshakeIp: { points: 120, durationS: 60 },
      authFailureIp: { points: 20, durationS: 60 },
    });
    // The domain's defaults: three messages before an answer, fifteen minutes to edit.
    expect(config.trust).toEqual({ requestAllowance: 3, editWindowMs: 900_000 });
    // Any single emoji, three per person and twenty different ones per message.
    expect(config.reactions).toEqual({ perPerson: 3, perMessage: 20 });
  });

  it('reads the reaction settings, and refuses an allowed list that is not single emoji', () => {
    expect(
      loadConfig({
        REACTIONS_ALLOWED: '👍, ❤️,🎉,👍',
        REACTIONS_PER_PERSON: '1',
        REACTIONS_PER_MESSAGE: '5',
      }).reactions,
    ).toEqual({ allowed: ['👍', '❤️', '🎉'], perPerson: 1, perMessage: 5 });
    expect(
      issuesOf({ REACTIONS_ALLOWED: '👍,ok', REACTIONS_PER_PERSON: '0' }).issues.map(
        (i) => i.variable,
      ),
    ).toEqual(['REACTIONS_PER_PERSON', 'REACTIONS_ALLOWED']);
  });

  it('reads the trust settings', () => {
    expect(
      loadConfig({ TRUST_REQUEST_ALLOWANCE: '0', TRUST_EDIT_WINDOW_MS: '60000' }).trust,
    ).toEqual({ requestAllowance: 0, editWindowMs: 60_000 });
    expect(issuesOf({ TRUST_REQUEST_ALLOWANCE: '-1' }).issues.map((i) => i.variable)).toEqual([
      'TRUST_REQUEST_ALLOWANCE',
    ]);
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
      corsOrigin: ['https://app.jobsphere.example'],
      jwt: { secret: SECRET, usingDevSecret: false, maxTtlMs: 86_400_000 },
      devEndpoints: false,
      metrics: { port: 9464, host: '127.0.0.1' },
      redis: {
        mode: 'standalone',
        host: 'cache.example',
        port: 6379,
        tls: true,
        password: 'auth-token-value',
      },
      socket: { transports: ['websocket', 'polling'] },
      budgets: { send: { points: 5, durationS: 10 } },
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
    expect([...new Set(error.issues.map((i) => i.variable))].sort()).toEqual([
      'ATTACHMENTS_BUCKET',
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

  it.each([
    ['the public dev secret', 'JWT_SECRET', { JWT_SECRET: DEV_JWT_SECRET }, /public development/],
    ['a 40-character run of one letter', 'JWT_SECRET', { JWT_SECRET: 'a'.repeat(40) }, /entropy/],
    ['a repeated pattern', 'JWT_SECRET', { JWT_SECRET: 'abcdefghij'.repeat(4) }, /entropy|pattern/],
    ['a secret under 32 bytes', 'JWT_SECRET', { JWT_SECRET: 'Zx8#kL2q' }, /32 bytes/],
    ['CLIENT_URL=*', 'CLIENT_URL', { CLIENT_URL: '*' }, /not \*/],
    [
      'a CLIENT_URL that is not an origin',
      'CLIENT_URL',
      { CLIENT_URL: 'app.example.com' },
      /origin/,
    ],
    [
      'a CLIENT_URL with a path',
      'CLIENT_URL',
      { CLIENT_URL: 'https://app.example.com/chat' },
      /origin/,
    ],
    ['plaintext Redis', 'REDIS_TLS', { REDIS_URL: 'redis://cache.example:6379' }, /without TLS/],
  ])('refuses production with %s, naming %s', (_, variable, override, message) => {
    const error = issuesOf({ ...production, ...override });
    expect(error.issues).toEqual([{ variable, message: expect.stringMatching(message) }]);
  });

  it('accepts plaintext Redis in production only when told so explicitly', () => {
    const env = { ...production, REDIS_URL: 'redis://cache.example:6379' };
    expect(loadConfig({ ...env, REDIS_ALLOW_PLAINTEXT: 'true' }).redis?.tls).toBe(false);
  });

  it('judges secrets by length, variety and repetition', () => {
    expect(weakSecretReason(SECRET)).toBeUndefined();
    expect(weakSecretReason('correct horse battery staple, violet 1987!')).toBeUndefined();
    expect(weakSecretReason('0'.repeat(64))).toMatch(/entropy/);
    expect(weakSecretReason('ab'.repeat(32))).toMatch(/entropy/);
    expect(weakSecretReason('Tr0ub4dor&3' + 'Tr0ub4dor&3' + 'Tr0ub4dor&3')).toMatch(
      /pattern|entropy/,
    );
  });

  it.each([
    ['NODE_ENV unset, dev secret', false, {}],
    ['NODE_ENV=development, dev secret', true, { NODE_ENV: 'development' }],
    ['NODE_ENV=test, dev secret', true, { NODE_ENV: 'test' }],
    [
      'NODE_ENV=development with a real secret',
      false,
      { NODE_ENV: 'development', JWT_SECRET: SECRET },
    ],
    ['NODE_ENV unset with a real secret', false, { JWT_SECRET: SECRET }],
  ])('%s: dev endpoints = %s', (_, expected, env) => {
    expect(loadConfig(env).devEndpoints).toBe(expected);
  });

  it('serves metrics on their own port when asked, and always in production', () => {
    expect(loadConfig({ METRICS_PORT: '0', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({
      port: 0,
      host: '0.0.0.0',
    });
    expect(loadConfig({ ...production, METRICS_PORT: '9100' }).metrics).toEqual({
      port: 9100,
      host: '127.0.0.1',
    });
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

  it('keeps attachments in a local folder by default, with the documented limits', () => {
    const { attachments } = loadConfig({ PORT: '4100' });
    expect(attachments).toMatchObject({
      storage: {
        kind: 'local',
        dir: expect.stringContaining('jobsphere-chat-attachments'),
        publicUrl: 'http://localhost:4100',
      },
      maxBytes: 10 * 1024 * 1024,
      uploadWindowMs: 15 * 60_000,
      pendingTtlMs: 24 * 3_600_000,
      downloadTtlMs: 5 * 60_000,
      sweepIntervalMs: 10 * 60_000,
      timeoutMs: 1_500,
    });
    // The folder's links are signed with a key derived from the JWT secret, never the secret.
    const local = attachments.storage.kind === 'local' ? attachments.storage : undefined;
    expect(local?.signingKey.toString('utf8')).not.toContain(DEV_JWT_SECRET);
  });

  it('uses S3 when a bucket is named, path style for an endpoint of its own', () => {
    expect(loadConfig(production).attachments.storage).toEqual({
      kind: 's3',
      bucket: 'jobsphere-chat-prod-attachments-1',
      region: 'us-east-1',
      forcePathStyle: false,
    });
    expect(
      loadConfig({
        ATTACHMENTS_BUCKET: 'test-bucket',
        ATTACHMENTS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      }).attachments.storage,
    ).toEqual({
      kind: 's3',
      bucket: 'test-bucket',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4569',
      forcePathStyle: true,
    });
  });

  it('refuses production without a bucket unless the local folder is chosen explicitly', () => {
    const { ATTACHMENTS_BUCKET: _, ...withoutBucket } = production;
    expect(issuesOf(withoutBucket).issues).toEqual([
      { variable: 'ATTACHMENTS_BUCKET', message: expect.stringMatching(/required/) },
    ]);
    const local = loadConfig({ ...withoutBucket, ATTACHMENTS_LOCAL_IN_PRODUCTION: 'true' });
    expect(local.attachments.storage.kind).toBe('local');
    expect(
      issuesOf({ ATTACHMENTS_BUCKET: 'Not_A_Bucket', ATTACHMENTS_MAX_BYTES: '0' }).issues.map(
        (i) => i.variable,
      ),
    ).toEqual(['ATTACHMENTS_BUCKET', 'ATTACHMENTS_MAX_BYTES', 'ATTACHMENTS_REGION']);
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
