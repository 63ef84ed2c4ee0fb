import { createServer } from 'node:net';

/** Asks the kernel for a free TCP port on loopback. `max` keeps room for Redis' cluster bus (+10000). */
export async function getFreePort(max = 55_000): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const address = srv.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0 && port <= max) return port;
  }
  throw new Error(`no free port at or below ${max} after 50 attempts`);
}
