import { signTestToken, waitUntil } from '@jobsphere/testing';
import { Device } from '../src/device.js';
import { connectedSockets } from '../src/drain-proof.js';
import { startLocalCluster, type LocalCluster } from '../src/stack.js';

// `pnpm dev:cluster` as a user meets it: one URL, production behaviour behind it.
describe('the production-shaped local stack', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startLocalCluster({ drainMs: 1_000 });
    console.log(`local cluster store: ${cluster.mongoDescription}`);
  }, 60_000);
  afterAll(() => cluster?.stop());

  const get = (path: string, base = cluster.url) =>
    fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });

  it('answers through nginx and keeps the metrics off the public path', async () => {
    expect((await get('/health')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(404);
    // ...the scraper reads them on each instance's own loopback port.
    const metrics = await get('/metrics', cluster.gateways[0]!.metricsUrl).catch(() => undefined);
    const onMainPort = await get('/metrics', cluster.gateways[0]!.url);
    expect(metrics?.status === 200 || onMainPort.status === 200).toBe(true);
  });

  it('runs the gateways in production mode, with credentials from Secrets Manager', async () => {
    expect((await get('/try')).status).toBe(404); // the try page is development-only
    for (const gateway of cluster.gateways) {
      const logs = gateway.logs();
      expect(logs).toMatch(/^\{"level":"log".*"context":"Bootstrap"/m); // JSON logs
      expect(logs).toContain('Redis AUTH token: read from Secrets Manager');
      expect(logs).toContain('MongoDB user: read from Secrets Manager');
      expect(logs).toContain('(production)');
    }
  });

  it('passes websocket upgrades through, spreading devices over both instances', async () => {
    const token = await signTestToken({
      secret: cluster.jwtSecret,
      userId: 'rita',
      role: 'recruiter',
      ttlSeconds: 600,
    });
    const created = await fetch(`${cluster.url}/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'group', title: 'Stack', memberIds: ['sam'] }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const devices = [1, 2, 3, 4].map(
      (n) => new Device(`rita-${n}`, cluster.url, 'rita', token, id),
    );
    try {
      for (const device of devices) await device.start();
      const spread = await Promise.all(cluster.gateways.map((g) => connectedSockets(g)));
      expect(spread).toEqual([2, 2]); // nginx round robin
      devices[0]!.send('hello-1', 'hello through nginx');
      await waitUntil(
        'every device to show it',
        () => devices.every((d) => d.shown().size > 0),
        5_000,
      );
      expect(devices.map((d) => d.client.conversation(id)!.messages.map((m) => m.body))).toEqual(
        devices.map(() => ['hello through nginx']),
      );
    } finally {
      await Promise.all(devices.map((device) => device.close()));
    }
  });
});
