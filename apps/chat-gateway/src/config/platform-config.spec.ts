import { ConfigError, loadConfig } from './app-config.js';
import { DEFAULT_SERVICE_AUDIENCE, DEV_SERVICE_TOKEN_SECRET } from './platform-config.js';

const SECRET = 'q3Vx9Lr2mT8bN4pZ1wY7cK0sF6hJ5dA2gE9uR3iO8lP4vB7nM1xC6zQ0tW5yS2kH';
const SERVICE_SECRET = 'Zt7Kq2Lm9Xw4Rb8Nc1Vp6Hs3Jd0Fg5Ya2Ue7Io4Pk9Ql1Mz6Wn3Xr8Tb0Yc5Vh2';
const WHSEC = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const production = {
  NODE_ENV: 'production',
  MONGODB_URI: 'mongodb://docdb.example:27017/chat?tls=true',
  REDIS_URL: 'rediss://:auth-token-value@cache.example:6379',
  JWT_SECRET: SECRET,
  CLIENT_URL: 'https://app.jobsphere.example',
  ATTACHMENTS_BUCKET: 'jobsphere-chat-attachments',
  ATTACHMENTS_REGION: 'eu-west-1',
};

function variables(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.variable}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('platform settings', () => {
  it('in development: the server API on the dev service secret (not the dev JWT secret), no webhooks', () => {
    const { platform } = loadConfig({});
    expect(platform).toEqual({
      service: {
        secret: DEV_SERVICE_TOKEN_SECRET,
        audience: DEFAULT_SERVICE_AUDIENCE,
        usingDevSecret: true,
      },
      scheduled: { pollMs: 1_000, leaseMs: 30_000 },
    });
  });

  it('production without SERVICE_TOKEN_SECRET has no server API; with a strong one it has', () => {
    expect(loadConfig(production).platform.service).toBeUndefined();
    expect(
      loadConfig({ ...production, SERVICE_TOKEN_SECRET: SERVICE_SECRET }).platform.service,
    ).toEqual({
      secret: SERVICE_SECRET,
      audience: DEFAULT_SERVICE_AUDIENCE,
      usingDevSecret: false,
    });
  });

  it('refuses a service secret equal to JWT_SECRET anywhere, and weak or public ones in production', () => {
    expect(variables({ JWT_SECRET: SECRET, SERVICE_TOKEN_SECRET: SECRET })).toEqual([
      'SERVICE_TOKEN_SECRET: must differ from JWT_SECRET',
    ]);
    expect(variables({ ...production, SERVICE_TOKEN_SECRET: 'a'.repeat(40) })).toEqual([
      expect.stringMatching(/^SERVICE_TOKEN_SECRET: has too little entropy/),
    ]);
    expect(variables({ ...production, SERVICE_TOKEN_SECRET: DEV_SERVICE_TOKEN_SECRET })).toEqual([
      'SERVICE_TOKEN_SECRET: is the public development secret',
    ]);
    expect(variables({ SERVICE_TOKEN_SECRET: 'short' })).toEqual([
      'SERVICE_TOKEN_SECRET: must be at least 32 bytes',
    ]);
  });

  it('webhooks: endpoints with a whsec_ secret, https in production, the delivery settings', () => {
    const { platform } = loadConfig({
      WEBHOOK_URLS: 'http://127.0.0.1:9000/hooks, https://hooks.jobsphere.example/chat',
      WEBHOOK_SECRET: WHSEC,
      WEBHOOK_TIMEOUT_MS: '2000',
      OFFLINE_NOTIFY_DELAY_MS: '5000',
    });
    expect(platform.webhooks).toEqual({
      endpoints: ['http://127.0.0.1:9000/hooks', 'https://hooks.jobsphere.example/chat'],
      secret: WHSEC,
      timeoutMs: 2_000,
      maxAttempts: 10,
      backoffBaseMs: 1_000,
      backoffMaxMs: 600_000,
      leaseMs: 30_000,
      pollMs: 1_000,
      concurrency: 4,
      // Dead letters are kept 14 days, at most 10,000.
      deadLetterTtlMs: 14 * 24 * 3_600_000,
      maxDeadLetters: 10_000,
    });
    expect(platform.offline).toEqual({ delayMs: 5_000, windowMs: 900_000 });
    expect(variables({ WEBHOOK_URLS: 'http://127.0.0.1:9000/hooks' })).toEqual([
      'WEBHOOK_SECRET: required with WEBHOOK_URLS (whsec_<base64>)',
    ]);
    expect(
      variables({ WEBHOOK_URL: 'http://127.0.0.1:1/x', WEBHOOK_SECRET: 'plain-secret' }),
    ).toEqual(['WEBHOOK_SECRET: must be whsec_<base64> (Standard Webhooks)']);
    expect(
      variables({ ...production, WEBHOOK_URLS: 'http://hooks.example/x', WEBHOOK_SECRET: WHSEC }),
    ).toEqual(['WEBHOOK_URLS: "http://hooks.example" must be https in production']);
    expect(
      variables({
        WEBHOOK_URL: 'http://127.0.0.1:1/x',
        WEBHOOK_SECRET: WHSEC,
        WEBHOOK_TIMEOUT_MS: '5000',
        WEBHOOK_LEASE_MS: '5000',
      }),
    ).toEqual(['WEBHOOK_LEASE_MS: must be longer than WEBHOOK_TIMEOUT_MS']);
  });
});
