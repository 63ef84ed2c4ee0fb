import { waitUntil } from '@jobsphere/testing';
import type { ChatError, MessageDto } from '../../src/index.js';
import {
  Device,
  startEnvironment,
  storedMessages,
  tokenFor,
  type Environment,
} from './environment.js';

// Three people send through the SDK while everything that goes wrong in production goes wrong:
// Redis dies and comes back, an instance is SIGKILLed, another drains (SIGTERM), tokens expire
// (one device refreshes them, one is cut off at expiry and comes back), and a page reloads
// with messages still pending. Every message passed to send() must end up stored once and
// shown once, in order, on every device of every member.
describe('the client through faults, against real gateways', () => {
  let env: Environment;
  const devices: Device[] = [];

  afterAll(async () => {
    for (const d of devices) await d.client.close();
    await env?.dispose();
  });

  it('shows every message passed to send() exactly once, in order, on every device; stores none twice', async () => {
    env = await startEnvironment(['A', 'B', 'C'], { SHUTDOWN_DRAIN_MS: '2000' });
    const [A, B, C] = env.gateways as [
      (typeof env.gateways)[0],
      (typeof env.gateways)[0],
      (typeof env.gateways)[0],
    ];
    const errors: string[] = [];
    const device = (
      name: string,
      userId: string,
      role: 'candidate' | 'recruiter',
      urls: string[],
      token: (force: boolean) => Promise<string>,
    ) => {
      const d = new Device(name, {
        url: urls,
        userId,
        token: ({ forceRefresh }) => token(forceRefresh),
        timings: { backoff: { initialMs: 200, maxMs: 2_000 }, requestTimeoutMs: 3_000 },
      });
      d.client.on('error', (e: ChatError) => errors.push(`${name}: ${e.code} ${e.message}`));
      devices.push(d);
      return d;
    };
    const longLived = (userId: string, role: 'candidate' | 'recruiter') => () =>
      tokenFor(userId, role);
    // Tokens that expire 33 s after they are minted: the gateway warns after 3 s.
    const shortLived = (userId: string) => () => tokenFor(userId, 'candidate', 33);
    let refusedRefreshes = 0;
    const rita = device(
      'rita@A',
      'rita',
      'recruiter',
      [A.url, C.url, B.url],
      longLived('rita', 'recruiter'),
    );
    const sam = device('sam@B', 'sam', 'candidate', [B.url, C.url, A.url], shortLived('sam'));
    const coraPhone = device(
      'cora@A',
      'cora',
      'candidate',
      [A.url, C.url, B.url],
      longLived('cora', 'candidate'),
    );
    const coraLaptop = device(
      'cora@B',
      'cora',
      'candidate',
      [B.url, C.url, A.url],
      longLived('cora', 'candidate'),
    );
    // Dan's tokens live 4 s and his identity service cannot refresh them: the gateway cuts him
    // off at every expiry and he comes back with a new one.
    const dan = device('dan@B', 'dan', 'candidate', [B.url, C.url, A.url], async (force) => {
      if (force) {
        refusedRefreshes++;
        throw new Error('identity service unavailable');
      }
      return tokenFor('dan', 'candidate', 4);
    });

    await rita.start();
    const conversation = await rita.client.createGroup({
      title: 'Frontend Engineer – interview loop',
      memberIds: ['sam', 'cora', 'dan'],
      jobId: 'job-fe-1042',
    });
    for (const d of [sam, coraPhone, coraLaptop, dan]) await d.start();
    const id = conversation.id;
    // Rita's invitees (not her contacts yet) accept before taking part.
    for (const d of [sam, coraPhone, dan]) await d.client.accept(id);
    const senders = [rita, sam, coraPhone];
    let n = 0;
    const sendFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (const s of senders) s.send(id, `${s.name} #${n}`);
        n++;
        await new Promise((resolve) => setTimeout(resolve, 75));
      }
    };
    const phases: string[] = [];
    const phase = async (name: string, fault: () => Promise<unknown>, ms = 1_500) => {
      const started = Date.now();
      await fault();
      await sendFor(ms);
      phases.push(`${name} ${Date.now() - started} ms`);
    };

    await phase('steady', async () => undefined);
    await phase('redis down', () => env.redis.kill(), 1_000);
    await phase('redis back', () => env.redis.restart());
    await phase('page reload with pending messages', async () => {
      for (let i = 0; i < 5; i++) rita.send(id, `rita before reload ${i}`);
      await rita.reload(id);
    });
    await phase('instance B SIGKILLed', () => B.process.kill());
    let drained: Promise<void> | undefined;
    await phase('instance A drains (SIGTERM)', async () => {
      drained = A.process.stop(30_000);
    });
    await drained;
    // Tokens kept expiring all along (sam refreshes, dan is cut off): one more round of each.
    await phase('tokens expiring', async () => undefined, 4_500);

    // Everything passed to send() gets acknowledged.
    await waitUntil(
      'every outbox empty',
      () => senders.every((s) => s.client.pending().length === 0),
      60_000,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}\n${devices.map((d) => d.describe(id)).join('\n')}\n${errors.slice(-10).join('\n')}`,
      );
    });
    const reader = await tokenFor('rita', 'recruiter');
    const stored = await storedMessages(C.url, reader, id);
    const sent = senders.flatMap((s) => s.sentIds);

    // Stored once each, nothing else stored.
    const storedIds = stored.map((m) => m.clientMessageId);
    expect(storedIds.length).toBe(new Set(storedIds).size);
    expect(new Set(storedIds)).toEqual(new Set(sent));
    // In the order each person sent them.
    for (const s of senders) {
      const mine = stored
        .filter((m) => m.senderId === s.client.userId)
        .map((m) => m.clientMessageId);
      const theirs = senders
        .filter((x) => x.client.userId === s.client.userId)
        .flatMap((x) => x.sentIds);
      expect(mine).toEqual(theirs);
    }

    // Shown once each, in seq order, on every device of every member.
    const expected = stored.map((m) => m.id);
    const shown = new Map<string, readonly MessageDto[]>();
    for (const d of devices) {
      await waitUntil(
        `${d.name} caught up`,
        async () => {
          const messages = await d.readAll(id);
          shown.set(d.name, messages);
          return messages.length >= expected.length && !d.client.syncing;
        },
        30_000,
        250,
      ).catch((error: Error) => {
        const have = new Set(shown.get(d.name)?.map((m) => m.id));
        const missing = stored.filter((m) => !have.has(m.id)).map((m) => `${m.seq}/v${m.version}`);
        throw new Error(
          `${error.message}\n${d.describe(id)}; missing ${missing.length}: ${missing.slice(0, 10).join(' ')}\n${errors
            .filter((e) => e.startsWith(d.name))
            .slice(-10)
            .join('\n')}`,
        );
      });
      expect(shown.get(d.name)!.map((m) => m.id)).toEqual(expected);
    }

    const duplicatesPushed = devices.map(
      (d) => d.pushed.length - new Set(d.pushed.map((m) => m.id)).size,
    );
    const acked = new Set(senders.flatMap((s) => [...s.acked]));
    const connects = devices.map((d) => `${d.name}=${d.connects}`).join(' ');
    console.log(
      [
        `faults through the SDK: sent ${sent.length}, acked ${acked.size} (any other was confirmed by a sync copy), ` +
          `stored ${stored.length}, lost ${sent.length - new Set(storedIds).size}, stored twice ${storedIds.length - new Set(storedIds).size}`,
        `displayed per device: ${devices.map((d) => `${d.name}=${shown.get(d.name)!.length}`).join(' ')}; duplicates displayed: 0`,
        `duplicates pushed by the server and absorbed: ${devices.map((d, i) => `${d.name}=${duplicatesPushed[i]}`).join(' ')}`,
        `connections per device (first + reconnects): ${connects}; auth:expiring to sam ${sam.expiring} (refreshed, no drop), ` +
          `dan refused refreshes ${refusedRefreshes}`,
        `syncs sent per device: ${devices.map((d) => `${d.name}=${d.requests.get('sync') ?? 0}`).join(' ')}`,
        `phases: ${phases.join('; ')}; client errors reported: ${errors.length}`,
      ].join('\n'),
    );
    // The faults happened to the devices, not only to the servers.
    expect(sam.expiring).toBeGreaterThan(2);
    expect(sam.connects).toBe(2); // the first, and after B's death: never dropped for expiry
    expect(refusedRefreshes).toBeGreaterThan(0);
    expect(dan.connects).toBeGreaterThan(3); // first, B's death, and at least two expiries
    expect(coraPhone.connects).toBeGreaterThan(1); // moved off draining A
  }, 180_000);
});
