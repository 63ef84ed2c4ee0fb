import { type ChatStore } from '@jobsphere/chat-domain';
import { AppModule } from '../app.module.js';
import { startGateway, type RunningGateway } from '../bootstrap.js';
import { loadConfig, type AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TryModule } from './try.module.js';

// Production needs MongoDB and Redis to boot through main.ts; registration reads only
// `devEndpoints` (see app-config.spec for when it is set), so switching it shows both sides.
function configFor(nodeEnv: AppConfig['nodeEnv']): AppConfig {
  const base = loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'error' });
  return { ...base, nodeEnv, devEndpoints: nodeEnv !== 'production' };
}

describe('try page registration', () => {
  it.each([
    ['production', false],
    ['development', true],
    ['test', true],
  ] as const)('NODE_ENV=%s: TryModule registered = %s', (nodeEnv, registered) => {
    const module = AppModule.forRoot({
      config: configFor(nodeEnv),
      store: {} as ChatStore,
      metrics: new MetricsService(),
    });
    expect(module.imports?.includes(TryModule)).toBe(registered);
  });

  describe('over HTTP', () => {
    let gateway: RunningGateway | undefined;
    afterEach(async () => {
      await gateway?.shutdown();
      gateway = undefined;
    });

    const mint = (g: RunningGateway) =>
      fetch(`${g.url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'ana', role: 'candidate' }),
      });

    it('production: /try and /dev/token do not exist', async () => {
      gateway = await startGateway(configFor('production'));
      const page = await fetch(`${gateway.url}/try`);
      expect(page.status).toBe(404);
      expect(await page.json()).toEqual({
        error: { code: 'NOT_FOUND', message: 'no such route' },
      });
      expect((await mint(gateway)).status).toBe(404);
    });

    it('development: /try serves the page and /dev/token mints a token the gateway accepts', async () => {
      gateway = await startGateway(configFor('development'));
      const page = await fetch(`${gateway.url}/try`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toContain('<script type="module" src="/try/app.js">');
      expect((await fetch(`${gateway.url}/try/app.js`)).status).toBe(200);
      expect((await fetch(`${gateway.url}/try/package.json`)).status).toBe(404);

      const { token } = (await (await mint(gateway)).json()) as { token: string };
      const list = await fetch(`${gateway.url}/conversations`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(list.status).toBe(200);
      expect(await list.json()).toEqual({
        conversations: [],
        totalUnread: 0,
        totalUnreadCapped: false,
        epoch: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
    });

    it('development: /dev/token rejects a malformed identity', async () => {
      gateway = await startGateway(configFor('development'));
      const response = await fetch(`${gateway.url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'no spaces', role: 'boss' }),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as {
        error: { code: string; issues: { path: string }[] };
      };
      expect(body.error.code).toBe('INVALID_PAYLOAD');
      expect(body.error.issues.map((i) => i.path)).toEqual(['userId', 'role']);
    });
  });
});
