// The SDK's own cost is measured on a fake socket and clock; this checks the measurement itself:
// every message is handled once, every send acked, and the figures are real numbers.
import { measureSdkCost } from '../src/sdk-cost.js';

describe('measureSdkCost', () => {
  it('times incoming messages and sends through the SDK without a server', async () => {
    const cost = await measureSdkCost(1_000);
    expect(cost.shownOnce).toBe(true);
    expect(cost.messages).toBe(1_000);
    expect(cost.incomingUs.map((c) => c.held)).toEqual([20, 5_000]);
    for (const us of [...cost.incomingUs.map((c) => c.us), cost.sendUs]) {
      expect(Number.isFinite(us)).toBe(true);
      expect(us).toBeGreaterThan(0);
    }
  });
});
