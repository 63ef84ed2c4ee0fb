import { type AppConfig } from '../config/app-config.js';
import { TokenRevocations } from './revocations.service.js';

// The embedded default (no Redis): the deny-list lives in the process. The shared one (Redis,
// two instances) is proven by test/e2e/lifecycle.e2e.spec.ts.
const config = { jwt: { maxTtlMs: 60_000 } } as AppConfig;

describe('token revocations in process', () => {
  it('refuses the erased person’s tokens issued until then, and no one else’s', async () => {
    const revocations = new TokenRevocations(config);
    const at = Date.now();
    await revocations.revokeUser('eva', at);
    expect(await revocations.revoked('eva', at - 1_000)).toBe(true);
    expect(await revocations.revoked('eva', at)).toBe(true);
    // A token without `iat` cannot show it came after.
    expect(await revocations.revoked('eva', undefined)).toBe(true);
    expect(await revocations.revoked('eva', at + 1_000)).toBe(false);
    expect(await revocations.revoked('ron', at - 1_000)).toBe(false);
  });

  it('forgets a revocation once every token it covered has expired', async () => {
    const revocations = new TokenRevocations(config);
    await revocations.revokeUser('old', Date.now() - 61_000);
    expect(await revocations.revoked('old', Date.now() - 120_000)).toBe(false);
  });
});
