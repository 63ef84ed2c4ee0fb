import { backoffDelay, tlsOptions } from './redis.client.js';
import type { RedisConfig } from './redis.config.js';

describe('backoffDelay', () => {
  it('grows exponentially from 25-50 ms and stays within 1-2 s however long the outage', () => {
    expect(backoffDelay(1, () => 0)).toBe(25);
    expect(backoffDelay(1, () => 1)).toBe(50);
    expect(backoffDelay(3, () => 1)).toBe(200);
    for (const attempt of [7, 8, 50, 10_000]) {
      expect(backoffDelay(attempt, () => 0)).toBe(1000);
      expect(backoffDelay(attempt, () => 1)).toBe(2000);
    }
  });

  it('spreads clients out (jitter)', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(8)));
    expect(delays.size).toBeGreaterThan(1);
  });
});

describe('tlsOptions', () => {
  const base: RedisConfig = {
    mode: 'standalone',
    host: 'master.x.cache.amazonaws.com',
    port: 6379,
    db: 0,
    tls: true,
    connectTimeoutMs: 1000,
    commandTimeoutMs: 1_000,
  };

  it('verifies the certificate against the host name (SNI), as ElastiCache wants', () => {
    expect(tlsOptions(base)).toEqual({ servername: 'master.x.cache.amazonaws.com' });
  });

  it('sends no SNI for an IP, passes a private CA, and can skip verification when asked', () => {
    expect(
      tlsOptions({ ...base, host: '10.0.0.1', tlsCa: 'PEM', tlsRejectUnauthorized: false }),
    ).toEqual({
      ca: 'PEM',
      rejectUnauthorized: false,
    });
    expect(tlsOptions({ ...base, tls: false })).toBeUndefined();
  });
});
