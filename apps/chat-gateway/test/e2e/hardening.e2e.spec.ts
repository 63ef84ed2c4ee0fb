import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  getFreePort,
  residentBytes,
  signTestToken,
  waitUntil,
  watchPeakResident,
} from '@jobsphere/testing';
import { LIMITS, type ConversationDto, type SyncResult } from '@jobsphere/chat-domain';
import { io, type Socket } from 'socket.io-client';
import {
  TEST_JWT_SECRET,
  connectClient,
  rest,
  startGatewayProcess,
  tokenFor,
  type ChatClient,
  type GatewayProcess,
  openAccepted,
} from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

const MB = 1024 * 1024;
/** The same socket without the event map: for what no well-behaved client would send. */
const untyped = (socket: ChatClient) => socket as unknown as Socket;
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const STRONG_SECRET = 'q3Vx9Lr2mT8bN4pZ1wY7cK0sF6hJ5dA2gE9uR3iO8lP4vB7nM1xC6zQ0tW5yS2kH';

/** A conversation between two people with `count` messages of the largest body (12 KB in UTF-8). */
async function seedHeavyConversation(url: string, count: number) {
  const alice = await tokenFor('alice', 'recruiter');
  const conversation = await openAccepted(url, alice, await tokenFor('bob', 'candidate'), {
    userId: 'bob',
  });
  const sender = await connectClient(url, alice);
  const body = '\u6f22'.repeat(LIMITS.maxBodyLength);
  for (let i = 0; i < count; i++) {
    const ack = await sender.emitWithAck('message:send', {
      conversationId: conversation.id,
      clientMessageId: `seed-${i}`,
      body,
    });
    if (!ack.ok) throw new Error(`seeding failed: ${ack.error.code}`);
  }
  sender.close();
  return conversation;
}

// What a signed-in attacker would try first: the largest requests, the most connections,
// floods, a client that stops reading, bad settings in production.
describe('hardening against a signed-in attacker', () => {
  describe('the worst-case sync on the embedded default', () => {
    let gateway: GatewayProcess;
    let conversation: ConversationDto;

    beforeAll(async () => {
      gateway = await startGatewayProcess({
        RATE_LIMIT_SEND_PER_10S: '1000',
        RATE_LIMIT_SYNC_PER_MIN: '1000',
      });
      conversation = await seedHeavyConversation(gateway.url, 100);
    }, 60_000);
    afterAll(async () => {
      await gateway?.process.dispose();
    });

    it('answers a sync naming one heavy conversation 200 times with one bounded answer, and 5 in parallel stay under 100 MB', async () => {
      const bob = await tokenFor('bob', 'candidate');
      const attackers = await Promise.all(
        Array.from({ length: 5 }, () => connectClient(gateway.url, bob)),
      );
      const payload = {
        conversations: Array.from({ length: 200 }, () => ({
          conversationId: conversation.id,
          afterVersion: 0,
        })),
        limit: LIMITS.maxSyncMessagesPerConversation,
      };
      const one = await attackers[0]!.timeout(10_000).emitWithAck('sync', payload);
      expect(one.ok).toBe(true);
      const answer = (one as { ok: true; data: SyncResult }).data;
      const bytes = Buffer.byteLength(JSON.stringify(answer));
      expect(answer.conversations).toHaveLength(1);
      expect(answer.conversations[0]!.hasMore).toBe(true);
      expect(bytes).toBeLessThanOrEqual(LIMITS.maxAnswerBytes + 64 * 1024);

      const pid = gateway.process.pid!;
      const before = await residentBytes(pid);
      const peak = watchPeakResident(pid);
      for (let round = 0; round < 4; round++) {
        const acks = await Promise.all(
          attackers.map((s) => s.timeout(10_000).emitWithAck('sync', payload)),
        );
        expect(acks.every((a) => a.ok)).toBe(true);
      }
      const growth = (await peak.stop()) - before;
      console.log(
        `[figure] worst-case sync: one answer ${(bytes / 1024).toFixed(0)} KiB for 200 repeats of a ` +
          `conversation of 100 x 12 KB messages; 5 parallel x 4 rounds grew RSS by ${(growth / MB).toFixed(1)} MB`,
      );
      expect(growth).toBeLessThan(100 * MB);
      for (const s of attackers) s.close();
    }, 60_000);

    it('cuts off a client that stops reading, and keeps serving everyone else', async () => {
      const bob = await tokenFor('bob', 'candidate');
      const victimOfItself = await connectClient(gateway.url, bob);
      const bystander = await connectClient(gateway.url, await tokenFor('alice', 'recruiter'));
      // Stop reading: the kernel buffers fill up and everything the server sends queues in it.
      const engine = victimOfItself.io.engine as unknown as {
        transport: { ws?: { _socket?: { pause(): void; resume(): void } } };
      };
      const tcp = engine.transport.ws!._socket!;
      tcp.pause();
      // ws resumes a paused socket once its parser drains; this client really never reads again.
      tcp.resume = () => undefined;
      const pid = gateway.process.pid!;
      const before = await residentBytes(pid);
      const peak = watchPeakResident(pid);
      // Each answer is up to 512 KiB; asked for every 10 ms they would queue 50 MB a second for
      // a reader that never reads. (Its sync budget is raised here so only the cap can stop it.)
      const cutOff = async () =>
        /chat_sockets_cut_off_total\{reason="slow"\} [1-9]/.test(
          (await rest<string>(gateway.url, undefined, 'GET', '/metrics')).body,
        );
      const started = Date.now();
      let asked = 0;
      while (!(await cutOff())) {
        if (Date.now() - started > 10_000) throw new Error('the slow consumer was never cut off');
        for (let i = 0; i < 5; i++, asked++) {
          untyped(victimOfItself).emit(
            'sync',
            {
              conversations: [{ conversationId: conversation.id, afterVersion: 0 }],
              limit: LIMITS.maxSyncMessagesPerConversation,
            },
            () => undefined, // asks for the answer, which then has nowhere to go
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const cutAfterMs = Date.now() - started;
      const growth = (await peak.stop()) - before;
      console.log(
        `[figure] slow consumer: cut off ${cutAfterMs} ms after it stopped reading (${asked} syncs asked); RSS peak growth ${(growth / MB).toFixed(1)} MB`,
      );
      expect(growth).toBeLessThan(100 * MB);
      const ping = await bystander.timeout(5_000).emitWithAck('presence:query', {
        userIds: ['alice'],
      });
      expect(ping.ok).toBe(true);
      victimOfItself.close();
      bystander.close();
    }, 60_000);

    it('disconnects a socket that floods packets', async () => {
      const flood = await startGatewayProcess({ SOCKET_MAX_PACKETS_PER_10S: '50' });
      try {
        const socket = await connectClient(flood.url, await tokenFor('fl', 'candidate'));
        const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
        for (let i = 0; i < 100; i++) socket.emit('typing:stop', { conversationId: 'c1' });
        expect(await gone).toMatch(/transport close|server disconnect/);
        expect(flood.logs()).toMatch(
          /cut off socket .* of fl: flood, more than 50 packets in 10 s/,
        );
      } finally {
        await flood.process.dispose();
      }
    }, 30_000);
  });

  describe('connection budgets', () => {
    let env: Environment;
    beforeAll(async () => {
      env = await startEnvironment({ gateways: 2 });
    }, 60_000);
    afterAll(async () => {
      await env?.dispose();
    });

    it('refuses the 21st socket of one user across instances with TOO_MANY_CONNECTIONS, and lets one in again after a close', async () => {
      const [A, B] = env.gateways;
      const token = await tokenFor('many', 'candidate');
      const sockets: ChatClient[] = [];
      for (let i = 0; i < 20; i++)
        sockets.push(await connectClient(i % 2 ? B!.url : A!.url, token));
      for (const url of [A!.url, B!.url]) {
        const refused = await connectClient(url, token).then(
          () => undefined,
          (error: { data?: unknown }) => error.data,
        );
        expect(refused).toEqual({
          code: 'TOO_MANY_CONNECTIONS',
          message: 'at most 20 connections per user; close another device or tab first',
        });
      }
      sockets.pop()!.close();
      await waitUntil(
        'a slot is free again',
        () =>
          connectClient(A!.url, token).then(
            (s) => (sockets.push(s), true),
            () => false,
          ),
        5_000,
      );
      expect(sockets.filter((s) => s.connected)).toHaveLength(20);
      for (const s of sockets) s.close();
    }, 30_000);
  });

  it('throttles handshakes per client IP, bad tokens sooner, and tells IPs apart behind a trusted proxy', async () => {
    const gateway = await startGatewayProcess({
      RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN: '8',
      RATE_LIMIT_AUTH_FAILURES_PER_IP_PER_MIN: '3',
      TRUST_PROXY_HOPS: '1',
    });
    try {
      const attempt = (token: string, ip: string) =>
        new Promise<unknown>((resolve) => {
          const socket = io(gateway.url, {
            auth: { token },
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
            extraHeaders: { 'x-forwarded-for': ip },
          });
          socket.once('connect', () => {
            socket.close();
            resolve('connected');
          });
          socket.once('connect_error', (error: { data?: { code?: string } }) => {
            socket.close();
            resolve(error.data?.code);
          });
        });
      const good = await tokenFor('gina', 'candidate');
      const bad = 'not.a.token';
      const outcomes: unknown[] = [];
      for (let i = 0; i < 4; i++) outcomes.push(await attempt(bad, '203.0.113.7'));
      // Three bad tokens are answered as such; the fourth is throttled, good ones still pass.
      expect(outcomes).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED', 'RATE_LIMITED']);
      for (let i = 0; i < 4; i++) outcomes.push(await attempt(good, '203.0.113.7'));
      // 8 handshakes from that IP spent the budget; the 9th is throttled.
      outcomes.push(await attempt(good, '203.0.113.7'));
      expect(outcomes.slice(4)).toEqual([
        'connected',
        'connected',
        'connected',
        'connected',
        'RATE_LIMITED',
      ]);
      // Another client behind the same load balancer has its own budget.
      expect(await attempt(good, '198.51.100.9')).toBe('connected');
    } finally {
      await gateway.process.dispose();
    }
  }, 30_000);

  describe('one gateway in test mode', () => {
    let gateway: GatewayProcess;
    let alice: string;
    let conversation: ConversationDto;
    beforeAll(async () => {
      gateway = await startGatewayProcess({});
      alice = await tokenFor('alice', 'recruiter');
      conversation = await openAccepted(gateway.url, alice, await tokenFor('bob', 'candidate'), {
        userId: 'bob',
      });
    }, 30_000);
    afterAll(async () => {
      await gateway?.process.dispose();
    });

    it('sends HTTP answers a browser and a scanner find nothing to exploit in', async () => {
      const list = await rest(gateway.url, alice, 'GET', '/conversations');
      expect(list.status).toBe(200);
      expect(list.headers.get('x-powered-by')).toBeNull();
      expect(list.headers.get('x-content-type-options')).toBe('nosniff');
      expect(list.headers.get('cache-control')).toBe('no-store');
      expect(list.headers.get('content-security-policy')).toContain("default-src 'self'");

      const noToken = await rest(gateway.url, undefined, 'GET', '/conversations');
      expect(noToken.status).toBe(401);
      expect(noToken.headers.get('www-authenticate')).toBe('Bearer realm="jobsphere-chat"');
      const badToken = await rest(gateway.url, 'garbage', 'GET', '/conversations');
      expect(badToken.headers.get('www-authenticate')).toBe(
        'Bearer realm="jobsphere-chat", error="invalid_token"',
      );

      const asText = await fetch(`${gateway.url}/conversations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'text/plain' },
        body: '{"kind":"direct","userId":"carol"}',
      });
      expect(asText.status).toBe(415);
      expect(await asText.json()).toEqual({
        error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send the body as application/json' },
      });
      const noType = await fetch(`${gateway.url}/conversations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}` },
        body: '{"kind":"direct","userId":"carol"}',
      });
      expect(noType.status).toBe(415);

      const malformed = await rest(gateway.url, alice, 'POST', '/conversations', '{"kind": "dir');
      expect(malformed).toMatchObject({
        status: 400,
        body: { error: { code: 'INVALID_PAYLOAD', message: 'malformed JSON body' } },
      });
      const unknown = await rest(gateway.url, alice, 'GET', '/no/such/route');
      expect(unknown.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
      // Nothing above created anything.
      const after = await rest<{ conversations: ConversationDto[] }>(
        gateway.url,
        alice,
        'GET',
        '/conversations',
      );
      expect(after.body.conversations.map((c) => c.id)).toEqual([conversation.id]);
    });

    it('answers a client-emitted "error" as an unknown event and never logs what it carried', async () => {
      const socket = await connectClient(gateway.url, alice);
      const forged = `\n[Nest] 1 - ERROR [Bootstrap] FORGED LINE ${'x'.repeat(30_000)}`;
      const ack: unknown = await untyped(socket).timeout(5_000).emitWithAck('error', forged);
      expect(ack).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
      const odd: unknown = await untyped(socket).timeout(5_000).emitWithAck('evil\nname', {});
      expect(odd).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
      socket.close();
      expect(gateway.logs()).not.toContain('FORGED LINE');
      expect(
        Math.max(
          ...gateway
            .logs()
            .split('\n')
            .map((l) => l.length),
        ),
      ).toBeLessThan(2_000);
    });

    it('refuses an auth:refresh whose exp is no date, before changing anything', async () => {
      const socket = await connectClient(gateway.url, alice);
      const absurd = await signTestToken({
        secret: TEST_JWT_SECRET,
        userId: 'alice',
        role: 'admin',
        exp: 1e13,
      });
      const refresh = await socket.timeout(5_000).emitWithAck('auth:refresh', { token: absurd });
      expect(refresh).toEqual({
        ok: false,
        error: { code: 'UNAUTHORIZED', message: 'invalid token expiry' },
      });
      // The socket keeps the rights it had (a recruiter's), nothing more and nothing less.
      const send = await socket.timeout(5_000).emitWithAck('message:send', {
        conversationId: conversation.id,
        clientMessageId: 'after-refresh',
        body: 'still here',
      });
      expect(send.ok).toBe(true);
      socket.close();
    });
  });

  describe('production fails closed', () => {
    const base = {
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://127.0.0.1:1/chat',
      REDIS_URL: 'rediss://127.0.0.1:1',
      JWT_SECRET: STRONG_SECRET,
      CLIENT_URL: 'https://app.jobsphere.example',
    };
    it.each([
      [
        'the dev secret',
        { JWT_SECRET: 'jobsphere-chat-dev-secret-not-for-production' },
        'JWT_SECRET',
      ],
      ["'a' x 40", { JWT_SECRET: 'a'.repeat(40) }, 'JWT_SECRET'],
      ['CLIENT_URL=*', { CLIENT_URL: '*' }, 'CLIENT_URL'],
      ['plaintext Redis', { REDIS_URL: 'redis://127.0.0.1:1' }, 'REDIS_TLS'],
    ])('refuses to start with %s, naming %s in one line', (_, override, variable) => {
      const run = spawnSync(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH, ...base, ...override },
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^chat-gateway: invalid configuration: ${variable}: `));
      expect(run.stderr).not.toContain(STRONG_SECRET);
    });
  });

  describe('production keeps operations off the public port', () => {
    let env: Environment;
    let gateway: GatewayProcess;
    let metricsPort: number;
    beforeAll(async () => {
      env = await startEnvironment({ gateways: 0 });
      metricsPort = await getFreePort();
      gateway = await startGatewayProcess({
        ...env.gatewayEnv,
        NODE_ENV: 'production',
        JWT_SECRET: STRONG_SECRET,
        CLIENT_URL: 'https://app.jobsphere.example',
        REDIS_ALLOW_PLAINTEXT: 'true',
        METRICS_PORT: String(metricsPort),
        ATTACHMENTS_LOCAL_IN_PRODUCTION: 'true',
      });
    }, 60_000);
    afterAll(async () => {
      await gateway?.process.dispose();
      await env?.dispose();
    });

    it('serves /metrics only on its own port, and no API description, try page or token minting', async () => {
      for (const [method, path] of [
        ['GET', '/metrics'],
        ['GET', '/openapi.json'],
        ['GET', '/try'],
        ['POST', '/dev/token'],
      ] as const) {
        const answer = await rest(
          gateway.url,
          undefined,
          method,
          path,
          method === 'POST' ? {} : undefined,
        );
        expect([path, answer.status]).toEqual([path, 404]);
      }
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('chat_connected_sockets');
      expect((await rest(gateway.url, undefined, 'GET', '/health')).status).toBe(200);
    });

    it('answers CORS for the configured origin only, without credentials', async () => {
      const preflight = (origin: string) =>
        fetch(`${gateway.url}/conversations`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'GET' },
        });
      const allowed = await preflight('https://app.jobsphere.example');
      expect(allowed.headers.get('access-control-allow-origin')).toBe(
        'https://app.jobsphere.example',
      );
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      const evil = await preflight('https://evil.example');
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});
