import { waitUntil } from '@jobsphere/testing';
import { connectClient, rest, tokenFor, type ChatClient } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// One instance with GATEWAY_WORKERS=2: a supervisor and two workers behind one port, on a real
// Redis and store, driven by real socket.io clients.
const WORKERS = { GATEWAY_WORKERS: '2', METRICS_PORT: '0', SHUTDOWN_DRAIN_MS: '1500' };

const workerPids = (logs: string) =>
  [...logs.matchAll(/worker (\d+) listening/g)].map((m) => Number(m[1]));
const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
type Health = { status: string; info?: Record<string, { status: string }> };

async function metricsOf(env: Environment): Promise<string> {
  const port = /metrics on [\d.]+:(\d+)\/metrics \(all workers\)/.exec(env.gateways[0]!.logs());
  if (!port) throw new Error('the supervisor did not say where its metrics are');
  return (await fetch(`http://127.0.0.1:${port[1]}/metrics`)).text();
}
const metric = (text: string, name: string) =>
  Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);

async function connectAll(url: string, count: number): Promise<ChatClient[]> {
  const clients: ChatClient[] = [];
  // One after the other: the primary hands connections to the workers in turn.
  for (let i = 0; i < count; i++)
    clients.push(await connectClient(url, await tokenFor(`worker-user-${i}`)));
  return clients;
}

describe('gateway workers (GATEWAY_WORKERS=2)', () => {
  let env: Environment | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it('replaces a killed worker; /health and /metrics cover every worker', async () => {
    env = await startEnvironment({ gateways: 1, env: WORKERS });
    const gateway = env.gateways[0]!;
    const pids = workerPids(gateway.logs());
    expect(pids).toHaveLength(2);
    expect(gateway.logs()).toMatch(/chat gateway listening on :\d+ \(test\) with 2 workers/);

    const clients = await connectAll(gateway.url, 4);
    // Summed over the workers, whichever one each socket landed on.
    await waitUntil(
      'metrics count all 4 sockets',
      async () => metric(await metricsOf(env!), 'chat_connected_sockets') === 4,
      5_000,
    );
    const metrics = await metricsOf(env);
    expect(metric(metrics, 'chat_gateway_workers')).toBe(2);
    expect(metric(metrics, 'chat_gateway_worker_restarts_total')).toBe(0);
    await waitUntil(
      '/health reports both workers',
      async () =>
        (await rest<Health>(gateway.url, undefined, 'GET', '/health')).body.info?.['workers']
          ?.status === 'up',
      5_000,
    );
    expect((await rest<Health>(gateway.url, undefined, 'GET', '/health')).body).toMatchObject({
      status: 'ok',
      info: { workers: { status: 'up', alive: 2, expected: 2 } },
    });

    const disconnected = clients.map(() => false);
    clients.forEach((c, i) => c.on('disconnect', () => (disconnected[i] = true)));
    process.kill(pids[0]!, 'SIGKILL');
    await waitUntil(
      'a third worker listens',
      () => workerPids(gateway.logs()).length === 3,
      30_000,
    );
    const replacement = workerPids(gateway.logs())[2]!;
    expect(pids).not.toContain(replacement);
    expect(gateway.logs()).toMatch(new RegExp(`worker ${pids[0]} exited \\(signal SIGKILL\\)`));
    // Only the sockets of the killed worker were cut; the others kept their connection.
    const cut = disconnected.filter(Boolean).length;
    expect(cut).toBeGreaterThan(0);
    expect(cut).toBeLessThan(4);

    await waitUntil(
      'metrics: one restart, two workers',
      async () => {
        const text = await metricsOf(env!);
        return (
          metric(text, 'chat_gateway_worker_restarts_total') === 1 &&
          metric(text, 'chat_gateway_workers') === 2
        );
      },
      5_000,
    );
    // The instance serves new sockets as before, and its target check passes.
    const again = await connectClient(gateway.url, await tokenFor('after-restart'));
    expect(again.connected).toBe(true);
    expect((await rest<Health>(gateway.url, undefined, 'GET', '/health')).status).toBe(200);
  }, 90_000);

  it('SIGTERM drains every worker: clients are told, each worker drains its own, exit 0', async () => {
    env = await startEnvironment({ gateways: 1, env: WORKERS });
    const gateway = env.gateways[0]!;
    const pids = workerPids(gateway.logs());
    const clients = await connectAll(gateway.url, 4);
    const told = clients.map(() => 0);
    clients.forEach((c, i) => c.on('server:draining', () => told[i]!++));

    const exited = gateway.terminate();
    await waitUntil(
      '/health 503 while draining',
      async () =>
        (await rest(gateway.url, undefined, 'GET', '/health').catch(() => ({ status: 0 })))
          .status === 503,
      5_000,
    );
    expect(await exited).toBe(0);

    expect(told).toEqual([1, 1, 1, 1]);
    expect(clients.every((c) => !c.connected)).toBe(true);
    const drained = [...gateway.logs().matchAll(/draining (\d+) sockets/g)].map((m) =>
      Number(m[1]),
    );
    expect(drained).toHaveLength(2);
    expect(drained.reduce((a, b) => a + b, 0)).toBe(4);
    expect(gateway.logs()).toMatch(/shutdown complete \(exit 0\)/);
    expect(pids.filter(isRunning)).toEqual([]);
  }, 90_000);

  it('refuses long polling with several workers (no sticky sessions), naming the setting', async () => {
    await expect(
      startEnvironment({
        gateways: 1,
        env: { ...WORKERS, SOCKET_TRANSPORTS: 'websocket,polling' },
      }),
    ).rejects.toThrow(/SOCKET_TRANSPORTS: must be websocket only with GATEWAY_WORKERS=2/);
  }, 60_000);
});
