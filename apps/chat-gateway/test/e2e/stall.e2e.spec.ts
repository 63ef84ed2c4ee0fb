import { waitUntil } from '@jobsphere/testing';
import { type ConversationDto, type MessageDto } from '@jobsphere/chat-domain';
import { Device } from '../support/device.js';
import { connectClient, rest, tokenFor, acceptInvitations } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

const STALL_MS = 4_000;
const GOAL_MS = 2_000;

interface Observed {
  maxAnswerMs: number;
  answers: Record<string, number>;
  handshakeMs: number;
  restMs: number;
  restStatus: number;
  health: { status: number; dependency: string | undefined };
  readyStatus: number;
}

// A dependency that stops answering without closing its connections (SIGSTOP: what a network
// blackhole or a failover in progress looks like) must not hang anyone: sends are answered
// within 2 s, handshakes and REST too, health says what is wrong, and afterwards everything
// recovers by itself with nothing acked missing.
describe('dependency stalls', () => {
  let env: Environment;
  const devices: Device[] = [];

  afterAll(async () => {
    for (const d of devices) await d.close();
    await env?.dispose();
  });

  it('answers in time while Redis, then the store, stall, and loses nothing acked', async () => {
    env = await startEnvironment({
      env: { RATE_LIMIT_SEND_PER_10S: '100000', RATE_LIMIT_SYNC_PER_MIN: '100000' },
    });
    const [A, B] = env.gateways;
    const rita = await tokenFor('rita', 'recruiter');
    const conversation = (
      await rest<ConversationDto>(A!.url, rita, 'POST', '/conversations', {
        kind: 'group',
        title: 'Stalls',
        memberIds: ['sam', 'cora'],
      })
    ).body;
    await acceptInvitations(
      B!.url,
      conversation.id,
      await Promise.all(['sam', 'cora'].map((u) => tokenFor(u, 'candidate'))),
    );
    for (const [user, role, url] of [
      ['rita', 'recruiter', A!.url],
      ['sam', 'candidate', B!.url],
      ['cora', 'candidate', A!.url],
      ['cora', 'candidate', B!.url],
    ] as const) {
      const device = new Device(user, user, role, [url, url === A!.url ? B!.url : A!.url]);
      await device.start();
      devices.push(device);
    }
    const [ritaDevice, samDevice] = devices;
    let sent = 0;
    let sending = true;
    const loop = (async () => {
      while (sending) {
        ritaDevice!.send(conversation.id, `rita ${sent}`);
        samDevice!.send(conversation.id, `sam ${sent}`);
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const timed = async <T>(work: () => Promise<T>) => {
      const started = Date.now();
      const value = await work();
      return { value, ms: Date.now() - started };
    };
    const observe = async (pause: () => void, resume: () => void, key: string) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const from = Date.now();
      pause();
      try {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const handshake = await timed(() => connectClient(A!.url, rita, 5_000));
        handshake.value.close();
        const list = await timed(() => rest(B!.url, rita, 'GET', '/conversations'));
        const health = await rest<{ dependencies: Record<string, { status: string }> }>(
          A!.url,
          undefined,
          'GET',
          '/health',
        );
        const ready = await rest(A!.url, undefined, 'GET', '/health/ready');
        await new Promise((resolve) => setTimeout(resolve, STALL_MS - 1_000 - (Date.now() - from)));
        const during = devices
          .flatMap((d) => d.attempts)
          .filter((a) => a.at >= from && a.at < Date.now() - GOAL_MS);
        const answers: Record<string, number> = {};
        for (const a of during) answers[a.code] = (answers[a.code] ?? 0) + 1;
        return {
          maxAnswerMs: Math.max(...during.map((a) => a.ms)),
          answers,
          handshakeMs: handshake.ms,
          restMs: list.ms,
          restStatus: list.value.status,
          health: { status: health.status, dependency: health.body.dependencies[key]?.status },
          readyStatus: ready.status,
        } satisfies Observed;
      } finally {
        resume();
      }
    };

    const redis = await observe(
      () => env.redis!.pause(),
      () => env.redis!.resume(),
      'redis',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const store = await observe(
      () => env.mongo.pause(),
      () => env.mongo.resume(),
      'store',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    sending = false;
    await loop;
    console.log(`[figure] Redis stall: ${JSON.stringify(redis)}`);
    console.log(`[figure] store stall: ${JSON.stringify(store)}`);

    for (const observed of [redis, store]) {
      expect(observed.maxAnswerMs).toBeLessThan(GOAL_MS);
      expect(observed.answers['TIMEOUT']).toBeUndefined();
      expect(observed.handshakeMs).toBeLessThan(GOAL_MS);
      expect(observed.restMs).toBeLessThan(GOAL_MS);
      // The load balancer's check stays green (a shared dependency, not this instance);
      // the details and the readiness check say what is wrong.
      expect(observed.health).toEqual({ status: 200, dependency: 'down' });
      expect(observed.readyStatus).toBe(503);
    }
    // Redis stalling does not stop sends; the store stalling answers UNAVAILABLE (retry).
    expect(Object.keys(redis.answers)).toEqual(['OK']);
    expect(store.answers['UNAVAILABLE']).toBeGreaterThan(0);
    expect(store.restStatus).toBe(503);

    // Afterwards: everything recovers by itself and nothing acked is missing anywhere.
    await waitUntil('every send acknowledged', () => devices.every((d) => d.unacked === 0), 30_000);
    const acked = new Map<string, MessageDto>(
      [...ritaDevice!.acked.values(), ...samDevice!.acked.values()].map((m) => [m.id, m]),
    );
    expect(acked.size).toBe(sent * 2);
    const shows = (d: Device) => new Set(d.shown(conversation.id).map((m) => m.id));
    await waitUntil(
      'every device shows every acked message',
      () => devices.every((d) => [...acked.keys()].every((id) => shows(d).has(id))),
      20_000,
    );
    for (const d of devices) expect(shows(d).size).toBe(acked.size);
    expect((await rest(A!.url, undefined, 'GET', '/health/ready')).status).toBe(200);
    console.log(`[figure] stalls: ${acked.size} acked, all shown on ${devices.length} devices`);
  }, 120_000);
});
