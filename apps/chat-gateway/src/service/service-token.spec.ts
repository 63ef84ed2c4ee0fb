import { SignJWT } from 'jose';
import { TokenService } from '../auth/token.service.js';
import { loadConfig } from '../config/app-config.js';
import { ServiceTokenService } from './service-token.service.js';

const SECRET = 'unit-service-secret-0123456789abcdefghijk';

describe('service tokens', () => {
  const config = loadConfig({ NODE_ENV: 'test', SERVICE_TOKEN_SECRET: SECRET });
  const service = new ServiceTokenService(config);
  const users = new TokenService(config);
  const sign = (
    claims: Record<string, unknown>,
    audience = 'jobsphere-chat-service',
    secret = SECRET,
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('backend')
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));

  it('verifies what it signs: the service and its known scopes', async () => {
    const token = await service.sign('backend', ['users:erase', 'messages:write']);
    expect(await service.verify(token)).toEqual({
      service: 'backend',
      scopes: ['users:erase', 'messages:write'],
    });
    const odd = await sign({ token_use: 'service', scope: 'users:erase root admin:all' });
    expect((await service.verify(odd)).scopes).toEqual(['users:erase']);
  });

  it('refuses user tokens, other audiences, tokens without token_use, and other secrets', async () => {
    const user = await users.sign({ userId: 'ann', role: 'admin' });
    await expect(service.verify(user)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(
      service.verify(await sign({ token_use: 'service' }, 'someone-else')),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(service.verify(await sign({ scope: 'users:erase' }))).rejects.toThrow(
      'not a service token',
    );
    const forged = await sign(
      { token_use: 'service' },
      'jobsphere-chat-service',
      config.jwt.secret,
    );
    await expect(service.verify(forged)).rejects.toThrow('invalid service token');
    await expect(service.verify(undefined)).rejects.toThrow('missing service token');
  });

  it('a user-token verifier refuses a service token even signed with its own secret', async () => {
    const token = await new SignJWT({ role: 'admin', token_use: 'service' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('backend')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(config.jwt.secret));
    await expect(users.verify(token)).rejects.toThrow('service tokens are not accepted here');
  });
});
