import {
  AUDIENCE,
  ISSUER,
  TestIdentityProvider,
  hs256Token,
  unsignedToken,
} from '../support/identity-provider.js';
import {
  closeAllClients,
  connectClient,
  rest,
  startGatewayProcess,
  TEST_JWT_SECRET,
  type GatewayProcess,
} from '../support/gateway.js';

// The built gateway against an identity provider's JWKS on loopback: every token is tried where
// users present one, on REST (bearer) and at the Socket.IO handshake, with the same answer.
describe('identity provider tokens at the handshake and on REST', () => {
  let idp: TestIdentityProvider;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    await idp.addKey('rsa-1', 'RS256');
    await idp.addKey('ec-1', 'ES256');
    await idp.addKey('rsa-2', 'RS256', false);
    await idp.addKey('never-published', 'RS256', false);
    gateway = await startGatewayProcess({
      JWT_JWKS_URL: idp.jwksUrl,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_JWKS_TIMEOUT_MS: '300',
      JWT_JWKS_COOLDOWN_MS: '0',
      JWT_ROLE_CLAIM: 'groups',
      JWT_ROLE_MAP: 'chat-recruiters=recruiter,chat-candidates=candidate',
    });
  }, 30_000);
  afterEach(() => closeAllClients());
  afterAll(async () => {
    await gateway?.process.dispose();
    await idp?.close();
  });

  /** What REST and the handshake answer for one token. */
  const answers = async (token: string) => {
    const http = await rest<{ error?: { code?: string } }>(
      gateway.url,
      token,
      'GET',
      '/conversations',
    );
    const socket = await connectClient(gateway.url, token).then(
      () => 'connected',
      (error: Error & { data?: { code?: string } }) => error.data?.code ?? error.message,
    );
    return { rest: http.status, code: http.body.error?.code, socket };
  };
  const accepted = { rest: 200, code: undefined, socket: 'connected' };
  const refused = { rest: 401, code: 'UNAUTHORIZED', socket: 'UNAUTHORIZED' };

  it('accepts RS256 and ES256 tokens, with the role mapped from the groups claim', async () => {
    for (const kid of ['rsa-1', 'ec-1'])
      expect(
        await answers(await idp.token(kid, { sub: `u-${kid}`, groups: ['chat-candidates'] })),
      ).toEqual(accepted);
    // No group that maps to a role: refused, not guessed.
    expect(await answers(await idp.token('rsa-1', { groups: ['staff'] }))).toEqual(refused);
  });

  it('follows a rotation: the new key works at once, the retired one stops', async () => {
    const old = await idp.token('rsa-1', { groups: ['chat-recruiters'] });
    expect(await answers(old)).toEqual(accepted);
    idp.publish('rsa-2', 'ec-1');
    expect(await answers(await idp.token('rsa-2', { groups: ['chat-recruiters'] }))).toEqual(
      accepted,
    );
    expect(await answers(old)).toEqual(refused);
    idp.publish('rsa-1', 'ec-1');
  });

  it('refuses an unknown kid, a wrong issuer or audience, alg none and HS/RS confusion', async () => {
    const claims = { groups: ['chat-candidates'] };
    const attempts = {
      unknownKid: await idp.token('never-published', claims),
      wrongIssuer: await idp.token('rsa-1', claims, { issuer: 'https://evil.test/' }),
      wrongAudience: await idp.token('rsa-1', claims, { audience: 'another-app' }),
      algNone: unsignedToken(claims),
      hsWithPublicKey: await hs256Token(idp.publicPem('rsa-1'), claims, 'rsa-1'),
      // The gateway also has JWT_SECRET (the test default): HS256 is checked against it alone.
      hsWithTheSecret: await hs256Token(TEST_JWT_SECRET, { ...claims, sub: 'legacy' }),
    };
    const seen: Record<string, unknown> = {};
    for (const [name, token] of Object.entries(attempts)) seen[name] = await answers(token);
    expect(seen).toEqual({
      unknownKid: refused,
      wrongIssuer: refused,
      wrongAudience: refused,
      algNone: refused,
      hsWithPublicKey: refused,
      hsWithTheSecret: accepted,
    });
  });

  it('tells the client to retry (503 / UNAVAILABLE) when the provider is too slow', async () => {
    idp.publish('rsa-1', 'ec-1', 'rsa-2');
    await idp.addKey('rsa-3', 'RS256');
    idp.delayMs = 30_000;
    try {
      const started = Date.now();
      expect(await answers(await idp.token('rsa-3', { groups: ['chat-candidates'] }))).toEqual({
        rest: 503,
        code: 'UNAVAILABLE',
        socket: 'UNAVAILABLE',
      });
      // Within the 300 ms deadline per attempt, not the provider's 30 s.
      expect(Date.now() - started).toBeLessThan(10_000);
      // A key it already knows still works meanwhile.
      expect(await answers(await idp.token('ec-1', { groups: ['chat-candidates'] }))).toEqual(
        accepted,
      );
    } finally {
      idp.delayMs = 0;
    }
  });
});
