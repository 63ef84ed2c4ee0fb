import { request } from 'node:http';
import { signTestToken } from '@jobsphere/testing';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { startLocalCluster, type LocalCluster } from '../src/stack.js';

// Behind nginx every request comes from nginx's address. The local stack, like the AWS stack,
// tells the gateways there is one proxy in front (TRUST_PROXY_HOPS=1), so per-IP budgets count
// the clients nginx saw, and an X-Forwarded-For a client writes itself chooses nothing: nginx
// appends the real peer after it (as the ALB does) and only that last entry is believed.
const REST_PER_IP = 20;
const HANDSHAKES_PER_IP = 3;
/** Gateway workers per instance (two instances), as `GATEWAY_WORKERS=auto` gives on 2 vCPUs. */
const WORKERS = 2;
const ANA = '127.0.0.2';
const BEN = '127.0.0.3';

describe('per-IP budgets through nginx', () => {
  let cluster: LocalCluster;
  const tokens: Record<string, string> = {};
  const sockets: Socket[] = [];

  beforeAll(async () => {
    cluster = await startLocalCluster({
      drainMs: 500,
      workers: String(WORKERS),
      env: {
        RATE_LIMIT_REST_PER_IP_PER_MIN: String(REST_PER_IP),
        RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN: String(HANDSHAKES_PER_IP),
      },
    });
    console.log(`local cluster store: ${cluster.mongoDescription}`);
    for (const user of ['ana', 'ben', 'ana2', 'ben2'])
      tokens[user] = await signTestToken({
        secret: cluster.jwtSecret,
        userId: user,
        role: 'candidate',
        ttlSeconds: 600,
      });
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await cluster?.stop();
  });

  /** GET /conversations from `from` (a loopback address of its own), through nginx. */
  const get = (from: string, user: string, forwardedFor?: string) =>
    new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      const url = new URL('/conversations', cluster.url);
      const req = request(
        url,
        {
          localAddress: from,
          headers: {
            authorization: `Bearer ${tokens[user]}`,
            ...(forwardedFor && { 'x-forwarded-for': forwardedFor }),
          },
          timeout: 5_000,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', reject);
      req.end();
    });
  /** Calls until the first refusal: how many were allowed, and the refusal. */
  const untilRefused = async <T>(call: () => Promise<T>, allowed: (result: T) => boolean) => {
    let count = 0;
    for (;;) {
      const result = await call();
      if (!allowed(result) || count >= 100) return { allowed: count, refusal: result };
      count++;
    }
  };
  // Budgets are shared through Redis without a round trip on the request's path: a client acting
  // one call at a time may get one call more per other gateway process (budget.service.ts), and
  // each instance runs WORKERS of them.
  const SLACK = 2 * WORKERS - 1;

  it('gives two clients two REST budgets, and a forged X-Forwarded-For moves no request', async () => {
    const ana = await untilRefused(
      () => get(ANA, 'ana'),
      (r) => r.status === 200,
    );
    expect(ana.allowed).toBeGreaterThanOrEqual(REST_PER_IP);
    expect(ana.allowed).toBeLessThanOrEqual(REST_PER_IP + SLACK);
    expect(ana.refusal.status).toBe(429);
    expect(Number(ana.refusal.retryAfter)).toBeGreaterThan(0);
    // Ana cannot escape her spent budget by naming another address...
    expect((await get(ANA, 'ana2', '198.51.100.7')).status).toBe(429);
    // ...and Ben, naming Ana's address, is counted as himself (else this would be a 429).
    expect((await get(BEN, 'ben', ANA)).status).toBe(200);
    const ben = await untilRefused(
      () => get(BEN, 'ben2'),
      (r) => r.status === 200,
    );
    // The forged request above was the first point of Ben's own budget.
    expect(1 + ben.allowed).toBeGreaterThanOrEqual(REST_PER_IP);
    expect(1 + ben.allowed).toBeLessThanOrEqual(REST_PER_IP + SLACK);
    expect(ben.refusal.status).toBe(429);
    console.log(
      `per-IP REST budget through nginx (${REST_PER_IP}/min, 2 gateways): ${ANA} got ${ana.allowed} x 200, then 429 (Retry-After ${ana.refusal.retryAfter} s), ` +
        `also with a forged X-Forwarded-For; then ${BEN} got ${1 + ben.allowed} x 200 (the first with X-Forwarded-For: ${ANA}), then 429 (Retry-After ${ben.refusal.retryAfter} s)`,
    );
  });

  it('gives two clients two handshake budgets, whatever X-Forwarded-For they send', async () => {
    const connect = (from: string, user: string, forwardedFor?: string) =>
      new Promise<string>((resolve) => {
        // engine.io-client hands `localAddress` to the websocket in Node; its types omit it.
        const options: Partial<ManagerOptions & SocketOptions> & { localAddress: string } = {
          transports: ['websocket'],
          reconnection: false,
          timeout: 5_000,
          localAddress: from,
          auth: { token: tokens[user] },
          ...(forwardedFor && { extraHeaders: { 'x-forwarded-for': forwardedFor } }),
        };
        const socket = io(cluster.url, options);
        sockets.push(socket);
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (error: Error & { data?: { code?: string } }) =>
          resolve(error.data?.code ?? error.message),
        );
      });
    const ana = await untilRefused(
      () => connect(ANA, 'ana', '198.51.100.7'),
      (r) => r === 'connected',
    );
    expect(ana.allowed).toBeGreaterThanOrEqual(HANDSHAKES_PER_IP);
    expect(ana.allowed).toBeLessThanOrEqual(HANDSHAKES_PER_IP + SLACK);
    expect(ana.refusal).toBe('RATE_LIMITED');
    expect(await connect(ANA, 'ana', '198.51.100.8')).toBe('RATE_LIMITED');
    const ben = await untilRefused(
      () => connect(BEN, 'ben', ANA),
      (r) => r === 'connected',
    );
    expect(ben.allowed).toBeGreaterThanOrEqual(HANDSHAKES_PER_IP);
    expect(ben.allowed).toBeLessThanOrEqual(HANDSHAKES_PER_IP + SLACK);
    expect(ben.refusal).toBe('RATE_LIMITED');
    console.log(
      `per-IP handshake budget through nginx (${HANDSHAKES_PER_IP}/min): ${ANA} ${ana.allowed} sockets then ${ana.refusal}; ${BEN} (sending X-Forwarded-For: ${ANA}) ${ben.allowed} then ${ben.refusal}`,
    );
  });
});
