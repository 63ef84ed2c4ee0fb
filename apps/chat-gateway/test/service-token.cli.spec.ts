import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/app-config.js';
import { ServiceTokenService } from '../src/service/service-token.service.js';

const CLI = fileURLToPath(new URL('../dist/cli/service-token.js', import.meta.url));
const run = promisify(execFile);
const SECRET = 'cli-service-secret-0123456789abcdefghijkl';

// The dev CLI as a developer runs it (after a build): what it prints, the gateway accepts.
describe('pnpm -s run service-token', () => {
  const env = (extra: Record<string, string>) => ({ PATH: process.env['PATH'], ...extra });

  it('prints a token the server API of the same settings accepts, with the scopes asked for', async () => {
    const { stdout } = await run(
      process.execPath,
      [CLI, 'backend', '--scope', 'users:export,webhooks:admin', '--ttl', '60'],
      { env: env({ SERVICE_TOKEN_SECRET: SECRET }), timeout: 10_000 },
    );
    const verifier = new ServiceTokenService(loadConfig({ SERVICE_TOKEN_SECRET: SECRET }));
    expect(await verifier.verify(stdout.trim())).toEqual({
      service: 'backend',
      scopes: ['users:export', 'webhooks:admin'],
    });
  });

  it('refuses unknown scopes, and production', async () => {
    await expect(
      run(process.execPath, [CLI, 'backend', '--scope', 'root'], { env: env({}), timeout: 10_000 }),
    ).rejects.toMatchObject({ code: 2 });
    await expect(
      run(process.execPath, [CLI, 'backend'], {
        env: env({ NODE_ENV: 'production' }),
        timeout: 10_000,
      }),
    ).rejects.toMatchObject({ code: expect.any(Number) });
  });
});
