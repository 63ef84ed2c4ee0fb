import { waitUntil } from '@jobsphere/testing';
import { type ConversationDto, type MessageDto } from '@jobsphere/chat-domain';
import { Device } from '../support/device.js';
import { connectClient, rest, tokenFor, acceptInvitations } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// A rolling deploy: SIGTERM one instance during traffic.
describe('graceful shutdown', () => {
  let env: Environment;
  const devices: Device[] = [];
  let sending = false;

  afterAll(async () => {
    sending = false;
    for (const d of devices) await d.close();
    await env?.dispose();
  });

  it('turns /health 503, drains its clients to the other instance, loses nothing and exits 0', async () => {
    env = await startEnvironment({
      env: { SHUTDOWN_DRAIN_MS: '3000', RATE_LIMIT_SEND_PER_10S: '100000' },
    });
    const [A, B] = env.gateways;
    const recruiter = await tokenFor('rita', 'recruiter');
    const conversation = (
      await rest<ConversationDto>(A!.url, recruiter, 'POST', '/conversations', {
        kind: 'group',
        title: 'Deploy',
        memberIds: ['sam', 'cora'],
      })
    ).body;
    await acceptInvitations(
      B!.url,
      conversation.id,
      await Promise.all(['sam', 'cora'].map((u) => tokenFor(u, 'candidate'))),
    );
    for (const [user, role] of [
      ['rita', 'recruiter'],
      ['sam', 'candidate'],
      ['cora', 'candidate'],
    ] as const) {
      const device = new Device(user, user, role, [B!.url, A!.url]);
      await device.start();
      devices.push(device);
    }
    expect((await rest(B!.url, undefined, 'GET', '/health')).status).toBe(200);
    const [rita, sam] = devices;
    let sent = 0;
    sending = true;
    const traffic = (async () => {
      while (sending) {
        rita!.send(conversation.id, `r ${sent}`);
        sam!.send(conversation.id, `s ${sent}`);
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 800));

    const exited = B!.terminate();
    // Readiness fails at once, so the load balancer stops sending new connections.
    await waitUntil(
      '/health 503',
      async () =>
        (await rest(B!.url, undefined, 'GET', '/health').catch(() => ({ status: 0 }))).status ===
        503,
      2_000,
    );
    // Still answering (the drain window is 3 s), with Terminus' body; Terminus itself says
    // `shutting_down` once Nest's shutdown hooks start.
    const health = await rest<{ status: string; error: Record<string, unknown> }>(
      B!.url,
      undefined,
      'GET',
      '/health',
    );
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({
      status: expect.stringMatching(/^(error|shutting_down)$/),
      error: { lifecycle: { status: 'down', message: 'draining' } },
    });
    // New sockets are refused while draining.
    const refused = await connectClient(B!.url, recruiter).then(
      () => undefined,
      (e: Error & { data?: { code: string } }) => e.data?.code ?? e.message,
    );
    expect(refused === 'UNAVAILABLE' || /xhr|websocket|ECONNREFUSED/i.test(String(refused))).toBe(
      true,
    );

    expect(await exited).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    sending = false;
    await traffic;
    await waitUntil('every send acknowledged', () => devices.every((d) => d.unacked === 0), 20_000);

    const acked = new Map<string, MessageDto>(
      [...rita!.acked.values(), ...sam!.acked.values()].map((m) => [m.id, m]),
    );
    const missing = (d: Device) => {
      const shown = new Set(d.shown(conversation.id).map((m) => m.id));
      return [...acked.keys()].filter((id) => !shown.has(id));
    };
    await waitUntil(
      'every device shows every acked message',
      () => devices.every((d) => missing(d).length === 0),
      10_000,
    );
    for (const d of devices) {
      expect(d.drainNotices).toBe(1);
      expect(missing(d)).toEqual([]);
    }
    expect(B!.logs()).toMatch(/draining 3 sockets/);
    expect(B!.logs()).toMatch(/shutdown complete/);
    console.log(
      `shutdown: ${acked.size} messages acked during a rolling restart, all on every device; exit code 0`,
    );
  }, 60_000);
});
