import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

/** What the listener serves: one instance's registry, or the supervisor's sum of its workers. */
export interface MetricsSource {
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * /metrics on its own listener (production: port 9464 on 127.0.0.1 by default, for the agent on
 * the instance), so the public port that the load balancer forwards never serves it.
 */
export async function startMetricsServer(
  metrics: MetricsSource,
  options: { port: number; host: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) =>
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
