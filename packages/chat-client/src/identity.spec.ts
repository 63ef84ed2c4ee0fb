import { ChatError } from './errors.js';
import { assertSameUser, resolveUser, tokenUser } from './identity.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (payload: Record<string, unknown>) =>
  `${b64url({ alg: 'RS256' })}.${b64url(payload)}.c2ln`;

const codeOf = (run: () => unknown) => {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof ChatError ? error.code : 'not a ChatError';
  }
};

describe('whose token the client holds', () => {
  it('reads the claim as the gateway does: top-level first (dots included), else a dotted path', () => {
    const token = jwt({
      sub: 'auth0|42',
      'https://jobsphere.example/uid': 'ana',
      realm_access: { user: 'ravi' },
      'custom:jobsphere_id': 'mia',
      name: 'Ana Souza ✓',
    });
    expect(tokenUser(token, 'sub')).toBe('auth0|42');
    expect(tokenUser(token, 'https://jobsphere.example/uid')).toBe('ana');
    expect(tokenUser(token, 'realm_access.user')).toBe('ravi');
    expect(tokenUser(token, 'custom:jobsphere_id')).toBe('mia');
    expect(tokenUser(token, 'name')).toBe('Ana Souza ✓');
    expect(tokenUser(token, 'missing')).toBeUndefined();
  });

  it('names nobody for what is not a JWT with a string claim', () => {
    for (const token of [
      'opaque',
      'a.b',
      'a.!!!.c',
      `x.${b64url(['sub'])}.y`,
      jwt({ sub: 42 }),
      jwt({ sub: '' }),
    ])
      expect(tokenUser(token, 'sub')).toBeUndefined();
    expect(tokenUser(`x.${'A'.repeat(20_000)}.y`, 'sub')).toBeUndefined();
  });

  it("the user is the token string's; a userId given as well must match it", () => {
    expect(resolveUser(undefined, jwt({ sub: 'ana' }), 'sub')).toBe('ana');
    expect(resolveUser('ana', jwt({ sub: 'ana' }), 'sub')).toBe('ana');
    expect(codeOf(() => resolveUser('ravi', jwt({ sub: 'ana' }), 'sub'))).toBe('WRONG_USER');
    expect(codeOf(() => resolveUser(undefined, 'opaque', 'sub'))).toBe('TOKEN');
    // A provider: the user must be given, and each token it gives is checked.
    expect(codeOf(() => resolveUser(undefined, () => 'x', 'sub'))).toBe('TOKEN');
    expect(resolveUser('ana', () => 'x', 'sub')).toBe('ana');
    expect(codeOf(() => assertSameUser(jwt({ sub: 'ravi' }), 'ana', 'sub'))).toBe('WRONG_USER');
    expect(codeOf(() => assertSameUser(jwt({ sub: 'ana' }), 'ana', 'sub'))).toBeUndefined();
  });
});
