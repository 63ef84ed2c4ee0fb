import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, ManagedProcess, waitUntil } from '@jobsphere/testing';

export interface Upstream {
  readonly name: string;
  /** http://127.0.0.1:<port> of the gateway. */
  readonly url: string;
}

export interface LoadBalancer {
  readonly url: string;
  readonly process: ManagedProcess;
  /** Names of the upstreams nginx routes new connections to. */
  inRotation(): string[];
  /** Resolves once `name` is in (true) or out (false) of rotation, or rejects after `timeoutMs`. */
  waitForRotation(name: string, inRotation: boolean, timeoutMs: number): Promise<void>;
  /** Every change of rotation, for the record: when, which upstream, why. */
  readonly events: readonly { at: number; name: string; inRotation: boolean; reason: string }[];
  stop(): Promise<void>;
}

export interface LoadBalancerOptions {
  upstreams: Upstream[];
  /** Listen port (a free one by default). */
  port?: number;
  /** How often each upstream's health check runs (the ALB: every 10 s; here faster). */
  intervalMs?: number;
  /** Consecutive results that change an upstream's state (the ALB: 2 healthy, 2 unhealthy). */
  threshold?: number;
  /** Idle timeout of proxied connections; above Socket.IO's ping interval plus timeout. */
  idleTimeoutSeconds?: number;
  /** Debian's nginx; NGINX_BIN elsewhere. */
  binary?: string;
  log?: (line: string) => void;
}

/**
 * Debian's nginx as the load balancer, shaped like the ALB in front of the gateways: websocket
 * upgrades passed through, `/metrics` answered 404 by the balancer itself, and a health check of
 * every instance's `GET /health`. nginx has no active health checks of its own, so this module
 * does them and takes an instance out of rotation (nginx `down`, then a graceful reload) after
 * `threshold` failures, as the ALB does with a draining target: new connections go elsewhere,
 * connections already open stay on the old workers until they close.
 */
export async function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer> {
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-nginx-'));
  const port = options.port ?? (await getFreePort());
  const intervalMs = options.intervalMs ?? 500;
  const threshold = options.threshold ?? 2;
  const log = options.log ?? (() => {});
  const healthy = new Map(options.upstreams.map((u) => [u.name, true]));
  const streak = new Map(options.upstreams.map((u) => [u.name, 0]));
  const events: { at: number; name: string; inRotation: boolean; reason: string }[] = [];
  const waiters = new Set<() => void>();

  // With nothing healthy the ALB routes to every target (fails open); so does this.
  const routed = () => {
    const up = options.upstreams.filter((u) => healthy.get(u.name));
    return up.length > 0 ? up : options.upstreams;
  };
  const writeUpstreams = () => {
    const inRotation = new Set(routed().map((u) => u.name));
    writeFileSync(
      join(dir, 'upstreams.conf'),
      options.upstreams
        .map(
          (u) =>
            `server ${new URL(u.url).host} max_fails=0${inRotation.has(u.name) ? '' : ' down'};`,
        )
        .join('\n') + '\n',
    );
  };
  writeUpstreams();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `# The local stack's load balancer (apps/local-cluster/src/nginx.ts): the ALB's job, on loopback.
pid ${dir}/nginx.pid;
error_log stderr notice;
worker_processes 1;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream gateways { include ${dir}/upstreams.conf; }
  server {
    listen 127.0.0.1:${port};
    # Like the ALB's listener rule: metrics never leave the instances.
    location = /metrics { return 404; }
    location /metrics/ { return 404; }
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      # Appended, as the ALB does: whatever a client sent stays in front, and the gateway
      # (TRUST_PROXY_HOPS=1) reads only the entry this proxy added.
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout ${options.idleTimeoutSeconds ?? 60}s;
      proxy_send_timeout ${options.idleTimeoutSeconds ?? 60}s;
      proxy_connect_timeout 2s;
    }
  }
}
`,
  );
  const nginx = new ManagedProcess({
    command: options.binary ?? process.env.NGINX_BIN ?? '/usr/sbin/nginx',
    args: ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    readyPattern: /start worker process/,
    tempDirs: [dir],
  });
  await nginx.start();
  const workerStarts = () =>
    nginx
      .recentOutput(500)
      .split('\n')
      .filter((l) => /start worker process/.test(l)).length;

  let reloading = Promise.resolve();
  const reload = () => {
    reloading = reloading.then(async () => {
      const before = workerStarts();
      writeUpstreams();
      if (nginx.pid === undefined) return;
      process.kill(nginx.pid, 'SIGHUP');
      // The new configuration is live once nginx has started its new worker.
      await waitUntil('nginx to reload its upstreams', () => workerStarts() > before, 5_000, 20);
    });
    return reloading;
  };

  let stopped = false;
  const checking = new Set<string>();
  const check = async (upstream: Upstream) => {
    // One check per upstream at a time: a slow answer must not count twice.
    if (checking.has(upstream.name)) return;
    checking.add(upstream.name);
    try {
      await checkOnce(upstream);
    } finally {
      checking.delete(upstream.name);
    }
  };
  const checkOnce = async (upstream: Upstream) => {
    let ok = false;
    let reason: string;
    try {
      const response = await fetch(`${upstream.url}/health`, {
        signal: AbortSignal.timeout(1_000),
      });
      ok = response.status === 200;
      reason = `/health ${response.status}`;
    } catch (error) {
      reason = `/health ${error instanceof Error ? error.message : String(error)}`;
    }
    if (stopped || ok === healthy.get(upstream.name)) {
      streak.set(upstream.name, 0);
      return;
    }
    streak.set(upstream.name, streak.get(upstream.name)! + 1);
    if (streak.get(upstream.name)! < threshold) return;
    streak.set(upstream.name, 0);
    healthy.set(upstream.name, ok);
    events.push({ at: Date.now(), name: upstream.name, inRotation: ok, reason });
    log(
      `load balancer: gateway ${upstream.name} ${ok ? 'back in rotation' : 'out of rotation'} (${reason})`,
    );
    await reload();
    for (const waiter of [...waiters]) waiter();
  };
  const timer = setInterval(() => {
    for (const upstream of options.upstreams) void check(upstream);
  }, intervalMs);

  const inRotation = () => routed().map((u) => u.name);
  return {
    url: `http://127.0.0.1:${port}`,
    process: nginx,
    inRotation,
    events,
    waitForRotation: (name, wanted, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const done = () => {
          if (inRotation().includes(name) !== wanted) return;
          clearTimeout(deadline);
          waiters.delete(done);
          resolve();
        };
        const deadline = setTimeout(() => {
          waiters.delete(done);
          reject(
            new Error(
              `gateway ${name} not ${wanted ? 'in' : 'out of'} rotation within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        waiters.add(done);
        done();
      }),
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await reloading.catch(() => undefined);
      await nginx.dispose();
    },
  };
}
