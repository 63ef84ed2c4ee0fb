import { jest } from '@jest/globals';
import { TokenService } from '../src/auth/token.service.js';
import { ConfigError, loadConfig } from '../src/config/app-config.js';
import {
  AUDIENCE,
  ISSUER,
  TestIdentityProvider,
  hs256Token,
  unsignedToken,
} from './support/identity-provider.js';

// The gateway's token check against an identity provider's JWKS served over real HTTP on
// loopback: algorithms, rotation, unknown keys, a slow provider, claims mapping, and the attacks.
const SECRET = 'q3Vx9Lr2mT8bN4pZ1wY7cK0sF6hJ5dA2gE9uR3iO8lP4vB7nM1xC6zQ0tW5yS2kH';

let idp: TestIdentityProvider;
beforeAll(async () => {
  idp = await TestIdentityProvider.start();
  await idp.addKey('rsa-1', 'RS256');
  await idp.addKey('ec-1', 'ES256');
  await idp.addKey('rsa-2', 'RS256', false);
  await idp.addKey('never-published', 'RS256', false);
});
afterAll(() => idp.close());
beforeEach(() => {
  idp.publish('rsa-1', 'ec-1');
  idp.delayMs = 0;
  idp.padding = 0;
});

const tokens = (env: Record<string, string> = {}) =>
  new TokenService(
    loadConfig({
      JWT_JWKS_URL: idp.jwksUrl,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_JWKS_TIMEOUT_MS: '300',
      JWT_JWKS_COOLDOWN_MS: '0',
      ...env,
    }),
  );
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: Error) => `${error.constructor.name}: ${error.message}`,
  );

describe('tokens from a JWKS', () => {
  it('accepts RS256 and ES256 tokens signed with published keys', async () => {
    const service = tokens();
    for (const kid of ['rsa-1', 'ec-1'])
      await expect(
        service.verify(await idp.token(kid, { sub: `u-${kid}` })),
      ).resolves.toMatchObject({ userId: `u-${kid}`, role: 'candidate' });
  });

  it('follows a key rotation: the new kid is fetched, the retired key is refused', async () => {
    const service = tokens();
    await service.verify(await idp.token('rsa-1'));
    idp.publish('rsa-2', 'ec-1');
    const before = idp.fetches;
    await expect(
      service.verify(await idp.token('rsa-2', { sub: 'rotated' })),
    ).resolves.toMatchObject({ userId: 'rotated' });
    expect(idp.fetches).toBe(before + 1);
    expect(await refusal(service.verify(await idp.token('rsa-1')))).toBe(
      'UnauthorizedError: invalid access token',
    );
  });

  it('refuses an unknown kid, and a flood of made-up kids costs one fetch per cooldown', async () => {
    const service = tokens({ JWT_JWKS_COOLDOWN_MS: '60000' });
    await service.verify(await idp.token('rsa-1'));
    const before = idp.fetches;
    const forged = await idp.token('never-published');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => refusal(service.verify(forged))),
    );
    expect(new Set(answers)).toEqual(new Set(['UnauthorizedError: invalid access token']));
    expect(idp.fetches - before).toBe(0); // within the cooldown of the first fetch
  });

  it('answers UNAVAILABLE within the deadline when the provider is slow, and keeps known keys', async () => {
    const service = tokens({ JWT_JWKS_CACHE_MAX_AGE_MS: '1000' });
    const known = await idp.token('rsa-1', { sub: 'known' });
    await service.verify(known);
    idp.delayMs = 30_000;
    idp.publish('rsa-1', 'ec-1', 'rsa-2');
    const started = Date.now();
    // A key the gateway has never seen: it cannot tell, so the client is told to retry.
    expect(await refusal(service.verify(await idp.token('rsa-2')))).toBe(
      'UnavailableError: identity provider keys unavailable, retry',
    );
    // The provider would answer in 30 s; the deadline (300 ms) answered instead.
    expect(Date.now() - started).toBeLessThan(10_000);
    // Past the cache's age, with the provider still stalled: known keys keep verifying.
    jest.useFakeTimers({
      doNotFake: [
        'setTimeout',
        'clearTimeout',
        'setImmediate',
        'nextTick',
        'queueMicrotask',
        'setInterval',
        'clearInterval',
        'hrtime',
        'performance',
      ],
    });
    try {
      jest.setSystemTime(Date.now() + 5_000);
      await expect(service.verify(known)).resolves.toMatchObject({ userId: 'known' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses a key set past its bounds (keys, bytes) instead of trusting it', async () => {
    idp.padding = 150;
    expect(await refusal(tokens().verify(await idp.token('rsa-1')))).toBe(
      'UnavailableError: identity provider keys unavailable, retry',
    );
  });

  it('refuses a wrong issuer, a wrong audience, alg none and HS/RS confusion', async () => {
    const service = tokens();
    const confused = await hs256Token(idp.publicPem('rsa-1'), { sub: 'mallory' }, 'rsa-1');
    expect({
      issuer: await refusal(
        service.verify(await idp.token('rsa-1', {}, { issuer: 'https://evil.test/' })),
      ),
      audience: await refusal(
        service.verify(await idp.token('rsa-1', {}, { audience: 'other-app' })),
      ),
      none: await refusal(service.verify(unsignedToken({ sub: 'mallory' }))),
      confusion: await refusal(service.verify(confused)),
      expired: await refusal(service.verify(await idp.token('rsa-1', {}, { ttlSeconds: -60 }))),
    }).toEqual({
      issuer: 'UnauthorizedError: invalid access token',
      audience: 'UnauthorizedError: invalid access token',
      none: 'UnauthorizedError: invalid access token',
      confusion: 'UnauthorizedError: invalid access token',
      expired: 'UnauthorizedError: access token expired',
    });
    // With a JWT_SECRET too, HS256 is checked against that secret only, never a public key.
    const both = tokens({ JWT_SECRET: SECRET });
    expect(await refusal(both.verify(confused))).toBe('UnauthorizedError: invalid access token');
    await expect(both.verify(await hs256Token(SECRET, { sub: 'legacy' }))).resolves.toMatchObject({
      userId: 'legacy',
    });
  });

  it('refuses an algorithm the operator did not list', async () => {
    const service = tokens({ JWT_ALGORITHMS: 'ES256' });
    expect(await refusal(service.verify(await idp.token('rsa-1')))).toBe(
      'UnauthorizedError: invalid access token',
    );
    await expect(service.verify(await idp.token('ec-1'))).resolves.toBeDefined();
  });
});

describe('claims as providers write them', () => {
  it('Keycloak: realm roles mapped, the strongest wins, none refused without a default', async () => {
    const service = tokens({
      JWT_ROLE_CLAIM: 'realm_access.roles',
      JWT_ROLE_MAP: 'chat-candidate=candidate,chat-recruiter=recruiter,chat-moderator=admin',
    });
    const roleOf = async (roles: string[]) =>
      service.verify(await idp.token('rsa-1', { role: undefined, realm_access: { roles } })).then(
        (p) => p.role,
        (e: Error) => e.message,
      );
    expect(await roleOf(['offline_access', 'chat-recruiter'])).toBe('recruiter');
    expect(await roleOf(['chat-recruiter', 'chat-moderator'])).toBe('admin');
    expect(await roleOf(['offline_access'])).toBe('invalid token role');
    // An unmapped value that happens to be a role name is not a role.
    expect(await roleOf(['admin'])).toBe('invalid token role');
  });

  it('Cognito: groups, client_id as the audience, token_use access, a default role', async () => {
    const service = tokens({
      JWT_AUDIENCE: '4abc1example2clientid3',
      JWT_AUDIENCE_CLAIM: 'client_id',
      JWT_ROLE_CLAIM: 'cognito:groups',
      JWT_ROLE_MAP: 'recruiters=recruiter,moderators=admin',
      JWT_DEFAULT_ROLE: 'candidate',
    });
    const cognito = (claims: Record<string, unknown>) =>
      idp.token(
        'rsa-1',
        { role: undefined, token_use: 'access', client_id: '4abc1example2clientid3', ...claims },
        { audience: 'unused' },
      );
    await expect(
      service.verify(await cognito({ 'cognito:groups': ['recruiters'] })),
    ).resolves.toMatchObject({ role: 'recruiter' });
    await expect(service.verify(await cognito({}))).resolves.toMatchObject({ role: 'candidate' });
    expect(await refusal(service.verify(await cognito({ client_id: 'another-app' })))).toBe(
      'UnauthorizedError: unexpected "client_id" claim value',
    );
    expect(await refusal(service.verify(await cognito({ token_use: 'service' })))).toBe(
      'UnauthorizedError: service tokens are not accepted here',
    );
  });

  it('Auth0: a namespaced user id and roles claim (names with dots are read whole)', async () => {
    const service = tokens({
      JWT_USER_ID_CLAIM: 'https://jobsphere.example/user_id',
      JWT_ROLE_CLAIM: 'https://jobsphere.example/roles',
      JWT_ROLE_MAP: 'Recruiter=recruiter,Candidate=candidate',
    });
    const token = await idp.token('ec-1', {
      sub: 'auth0|65f0c1d2e3',
      role: undefined,
      'https://jobsphere.example/user_id': 'js-4711',
      'https://jobsphere.example/roles': ['Recruiter'],
    });
    await expect(service.verify(token)).resolves.toMatchObject({
      userId: 'js-4711',
      role: 'recruiter',
    });
  });
});

describe('the company a person acts for', () => {
  it("is Auth0 Organizations' org_id by default, another claim when configured, never a malformed one", async () => {
    const byDefault = tokens({});
    await expect(
      byDefault.verify(await idp.token('rsa-1', { role: 'recruiter', org_id: 'org_acme42' })),
    ).resolves.toMatchObject({
      userId: expect.any(String),
      role: 'recruiter',
      companyId: 'org_acme42',
    });
    const none = await byDefault.verify(await idp.token('rsa-1', { role: 'recruiter' }));
    expect(none).not.toHaveProperty('companyId');

    const keycloak = tokens({ JWT_COMPANY_CLAIM: 'organization.id' });
    await expect(
      keycloak.verify(await idp.token('ec-1', { organization: { id: 'acme' }, org_id: 'ignored' })),
    ).resolves.toMatchObject({ companyId: 'acme' });
    for (const bad of [['acme', 'globex'], 42, '', 'a b', 'x'.repeat(65)])
      expect(await refusal(byDefault.verify(await idp.token('rsa-1', { org_id: bad })))).toBe(
        'UnauthorizedError: invalid "org_id" claim value',
      );
  });

  it('survives the development tokens the try page and `pnpm token --company` mint', async () => {
    const service = new TokenService(
      loadConfig({ JWT_SECRET: 's'.repeat(40), JWT_COMPANY_CLAIM: 'tenant' }),
    );
    const token = await service.sign({ userId: 'r1', role: 'recruiter', companyId: 'acme' });
    await expect(service.verify(token)).resolves.toMatchObject({ userId: 'r1', companyId: 'acme' });
    const plain = await service.verify(await service.sign({ userId: 'c1', role: 'candidate' }));
    expect(plain).not.toHaveProperty('companyId');
  });
});

describe('identity configuration', () => {
  const production = {
    NODE_ENV: 'production',
    MONGODB_URI: 'mongodb://docdb.example:27017/chat?tls=true',
    REDIS_URL: 'rediss://:auth-token-value@cache.example:6379',
    CLIENT_URL: 'https://app.jobsphere.example',
    ATTACHMENTS_BUCKET: 'jobsphere-chat-prod-attachments-1',
    AWS_REGION: 'us-east-1',
  };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.issues.map((i) => `${i.variable}: ${i.message}`);
    }
  };

  it('runs production on a JWKS alone (https, issuer and audience named)', () => {
    const config = loadConfig({
      ...production,
      JWT_JWKS_URL:
        'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc/.well-known/jwks.json',
      JWT_ISSUER: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc',
      JWT_AUDIENCE: 'client-a, client-b',
    });
    expect(config.jwt).toMatchObject({ usingDevSecret: false, audience: ['client-a', 'client-b'] });
    expect(config.jwt.secret).toBeUndefined();
    expect(config.devEndpoints).toBe(false);
  });

  it('names every identity setting that cannot work, at once', () => {
    expect(
      problems({
        ...production,
        JWT_JWKS_URL: 'http://idp.internal/jwks.json',
        JWT_ROLE_MAP: 'recruiters=boss',
        JWT_DEFAULT_ROLE: 'root',
      }),
    ).toEqual([
      'JWT_DEFAULT_ROLE: Invalid option: expected one of "candidate"|"recruiter"|"admin"',
      'JWT_JWKS_URL: must be https in production',
      'JWT_ISSUER: required with JWT_JWKS_URL in production',
      'JWT_AUDIENCE: required with JWT_JWKS_URL in production',
      'JWT_ROLE_MAP: "recruiters=boss" is not <provider value>=<candidate|recruiter|admin> (entries separated by commas)',
    ]);
    expect(problems({ ...production })).toEqual([
      'JWT_SECRET: required when NODE_ENV=production (unless JWT_JWKS_URL is set)',
    ]);
    expect(problems({ JWT_ALGORITHMS: 'RS256' })).toEqual([
      'JWT_ALGORITHMS: needs JWT_JWKS_URL (HS256 is implied by JWT_SECRET)',
    ]);
  });

  it('accepts no HS256 token when only a JWKS is configured (no development secret behind it)', async () => {
    const service = tokens();
    expect(
      await refusal(
        service.verify(
          await hs256Token('jobsphere-chat-dev-secret-not-for-production', { sub: 'dev' }),
        ),
      ),
    ).toBe('UnauthorizedError: invalid access token');
    await expect(service.sign({ userId: 'x', role: 'candidate' })).rejects.toThrow(/no JWT_SECRET/);
  });
});
