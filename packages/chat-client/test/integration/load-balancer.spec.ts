import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, ManagedProcess, waitUntil } from '@jobsphere/testing';
import {
  Device,
  startEnvironment,
  storedMessages,
  tokenFor,
  type Environment,
} from './environment.js';

// Production has one URL: the load balancer's. Behind a real one (nginx, round robin, the
// websocket upgrade passed through), an instance drains while two people send; the client only
// knows the one URL, is refused by the draining instance (UNAVAILABLE) when the balancer sends it
// back there, retries, lands on the other and loses nothing.
async function startNginx(upstreams: string[]): Promise<{ url: string; process: ManagedProcess }> {
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-nginx-'));
  const port = await getFreePort();
  const servers = upstreams.map((u) => `server ${new URL(u).host};`).join(' ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid; error_log stderr notice; worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream gateways { ${servers} }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_next_upstream error timeout;
      proxy_read_timeout 60s;
    }
  }
}
`,
  );
  const process = new ManagedProcess({
    command: 'nginx',
    args: ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    readyPattern: /start worker process/,
    tempDirs: [dir],
  });
  await process.start();
  return { url: `http://127.0.0.1:${port}`, process };
}

/** Sockets an instance holds, from its metrics. */
async function connectedSockets(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = /^chat_connected_sockets (\d+)/m.exec(text);
  if (!line) throw new Error(`no chat_connected_sockets in ${url}/metrics`);
  return Number(line[1]);
}

describe('behind a load balancer (one URL)', () => {
  let env: Environment;
  let nginx: ManagedProcess | undefined;
  const devices: Device[] = [];

  afterAll(async () => {
    for (const d of devices) await d.client.close();
    await nginx?.dispose();
    await env?.dispose();
  });

  it('a drain moves every client to the other instance; every message is stored and shown once', async () => {
    env = await startEnvironment(['A', 'B'], { SHUTDOWN_DRAIN_MS: '2000' });
    const lb = await startNginx(env.gateways.map((g) => g.url));
    nginx = lb.process;
    const refusals: string[] = [];
    const device = (userId: string, role: 'candidate' | 'recruiter') => {
      const d = new Device(`${userId}@lb`, {
        url: lb.url,
        userId,
        token: () => tokenFor(userId, role),
        timings: { backoff: { initialMs: 200, maxMs: 2_000 } },
      });
      d.client.on('connection', (s) => {
        if (s.error) refusals.push(s.error.code);
      });
      devices.push(d);
      return d;
    };
    const rita = device('rita', 'recruiter');
    const sam = device('sam', 'candidate');
    await rita.start();
    const { id } = await rita.client.openDirect({ userId: 'sam', jobId: 'job-fe-1042' });
    await sam.start();
    // A recruiter's first message to a candidate is a request: Sam accepts it, then both talk.
    await sam.client.accept(id);
    let n = 0;
    const sendFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        rita.send(id, `rita ${n}`);
        sam.send(id, `sam ${n}`);
        n++;
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    };
    await sendFor(1_000);
    // Drain the instance the balancer put the most sockets on (at least one of the two).
    const sockets = await Promise.all(env.gateways.map((g) => connectedSockets(g.url)));
    const busiest = sockets[0]! >= sockets[1]! ? 0 : 1;
    const [drainedGateway, other] = [env.gateways[busiest]!, env.gateways[1 - busiest]!];
    const drained = drainedGateway.process.stop(30_000);
    await sendFor(2_500);
    await drained;
    await sendFor(1_000);

    await waitUntil(
      'outboxes empty',
      () => devices.every((d) => d.client.pending().length === 0),
      30_000,
    );
    const stored = await storedMessages(
      env.gateways[1]!.url,
      await tokenFor('rita', 'recruiter'),
      id,
    );
    const sent = devices.flatMap((d) => d.sentIds);
    const storedIds = stored.map((m) => m.clientMessageId);
    expect(storedIds.length).toBe(new Set(storedIds).size);
    expect(new Set(storedIds)).toEqual(new Set(sent));
    for (const d of devices) {
      await waitUntil(
        `${d.name} caught up`,
        async () => (await d.readAll(id)).length >= stored.length && !d.client.syncing,
        30_000,
        250,
      );
      expect(d.client.conversation(id)!.messages.map((m) => m.id)).toEqual(stored.map((m) => m.id));
    }
    console.log(
      `behind nginx: sent ${sent.length}, stored ${stored.length} (each once), shown once on both devices; ` +
        `reconnects ${devices.map((d) => `${d.name}=${d.connects - 1}`).join(' ')}; ` +
        `refusals on the way: ${refusals.join(', ') || 'none'}`,
    );
    // The drain reached the clients on that instance: they connected again, through the one URL.
    const reconnects = devices.reduce((sum, d) => sum + d.connects - 1, 0);
    expect(sockets[busiest]).toBeGreaterThan(0);
    expect(reconnects).toBeGreaterThanOrEqual(sockets[busiest]!);
    expect(await connectedSockets(other.url)).toBe(2);
  }, 120_000);
});
