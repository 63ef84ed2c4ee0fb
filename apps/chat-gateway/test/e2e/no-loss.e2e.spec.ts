import { waitUntil } from '@jobsphere/testing';
import { type ConversationDto, type MessageDto } from '@jobsphere/chat-domain';
import { rest, tokenFor } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';
import { ResilientDevice } from '../support/resilient-device.js';

// Sustained sending while Redis restarts and one instance is SIGKILLed: every acked
// message ends up exactly once on every device, and nothing is acked that is not stored.
describe('no loss under faults', () => {
  let env: Environment;
  const devices: ResilientDevice[] = [];

  afterAll(async () => {
    for (const d of devices) d.close();
    await env?.dispose();
  });

  it('keeps every acked message through a Redis restart and an instance SIGKILL', async () => {
    env = await startEnvironment({
      env: { RATE_LIMIT_SEND_PER_10S: '100000', RATE_LIMIT_SYNC_PER_MIN: '100000' },
    });
    const [A, B] = env.gateways;
    const alive = new Set([A!.url, B!.url]);
    const token = (u: string, role: 'recruiter' | 'candidate') => tokenFor(u, role);
    const recruiter = await token('rita', 'recruiter');
    const conversation = (
      await rest<ConversationDto>(A!.url, recruiter, 'POST', '/conversations', {
        kind: 'group',
        title: 'Loop',
        memberIds: ['sam', 'cora', 'dan'],
      })
    ).body;
    // Preferred instance first; when it is gone the device moves to the other.
    const prefer = (url: string) => () =>
      [url, ...[...alive].filter((u) => u !== url)].filter((u) => alive.has(u));
    const spec: [string, 'recruiter' | 'candidate', string][] = [
      ['rita', 'recruiter', A!.url],
      ['sam', 'candidate', B!.url],
      ['cora', 'candidate', B!.url],
      ['cora', 'candidate', A!.url],
      ['dan', 'candidate', B!.url],
    ];
    for (const [user, role, url] of spec) {
      const device = new ResilientDevice(
        `${user}@${url === A!.url ? 'A' : 'B'}`,
        await token(user, role),
        conversation.id,
        prefer(url),
      );
      await device.start();
      devices.push(device);
    }
    const [rita, sam] = devices;

    let sent = 0;
    const sendFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        rita!.send(`r-${sent}`, `from rita ${sent}`);
        sam!.send(`s-${sent}`, `from sam ${sent}`);
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    await sendFor(1_500);
    await env.redis!.kill();
    await sendFor(1_000);
    await env.redis!.restart();
    await sendFor(1_500);
    alive.delete(B!.url);
    await B!.kill();
    await sendFor(1_500);

    await waitUntil('every send acknowledged', () => devices.every((d) => d.unacked === 0), 30_000);
    const acked = new Map<string, MessageDto>([...rita!.acked, ...sam!.acked]);
    expect(acked.size).toBe(sent * 2);

    // The store holds exactly what was acked: nothing acked is missing, nothing extra.
    const stored: MessageDto[] = [];
    for (let after = 0; ;) {
      const page = await rest<{ messages: MessageDto[]; hasMore: boolean }>(
        A!.url,
        recruiter,
        'GET',
        `/conversations/${conversation.id}/messages?after=${after}&limit=100`,
      );
      stored.push(...page.body.messages);
      if (!page.body.hasMore) break;
      after = page.body.messages.at(-1)!.seq;
    }
    expect(stored.map((m) => m.id).sort()).toEqual([...acked.keys()].sort());
    expect(new Set(stored.map((m) => m.seq)).size).toBe(stored.length);

    // Every device holds every acked message once, after its own syncs.
    for (const d of devices) await d.sync();
    await waitUntil(
      'every device caught up',
      () => devices.every((d) => [...acked.keys()].every((id) => d.messages.has(id))),
      20_000,
    );
    for (const d of devices) {
      expect(d.messages.size).toBe(acked.size);
      expect(new Set([...d.messages.values()].map((m) => m.seq)).size).toBe(acked.size);
    }
    const moved = devices.filter((d) => d.reconnects > 0).map((d) => d.name);
    console.log(
      `no-loss: ${acked.size} messages acked and stored, ${stored.length} in the store, ` +
        `${devices.length} devices each holding all ${acked.size}; reconnected after the SIGKILL: ${moved.join(', ')}; ` +
        `recovered through sync (missed live): ${devices.map((d) => `${d.name}=${d.recoveredBySync}`).join(' ')}`,
    );
    expect(moved.sort()).toEqual(['cora@B', 'dan@B', 'sam@B']);
  }, 90_000);
});
