import { backoffMs } from './outbox.worker.js';

describe('webhook retry backoff', () => {
  const config = { backoffBaseMs: 1_000, backoffMaxMs: 60_000 };

  it('waits a random time up to base * 2^(n-1): full jitter', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, config, () => 0.999_999))).toEqual([
      999, 1_999, 3_999, 7_999,
    ]);
    expect(backoffMs(3, config, () => 0)).toBe(0);
    expect(backoffMs(3, config, () => 0.5)).toBe(2_000);
  });

  it('is capped, also after very many attempts', () => {
    expect(backoffMs(7, config, () => 0.999_999)).toBe(59_999);
    expect(backoffMs(1_000, config, () => 0.999_999)).toBe(59_999);
  });
});
