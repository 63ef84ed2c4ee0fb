import { runRedisCli, waitUntil, type GatewayProcess } from '@jobsphere/testing';
import { type ConversationDto, type MessageDto } from '@jobsphere/chat-domain';
import { Device } from '../support/device.js';
import { rest, tokenFor, acceptInvitations } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

/** What an instance's adapter received from Redis so far (messages). */
async function received(gateway: GatewayProcess): Promise<number> {
  const metrics = (await rest<string>(gateway.url, undefined, 'GET', '/metrics')).body;
  return Number(
    /chat_redis_adapter_messages_total\{direction="in"\} (\d+)/.exec(metrics)?.[1] ?? 0,
  );
}

// Fan-out addressed to the instances that hold the recipients, on the three-master cluster with
// four gateways: every device gets every message once and in order, an instance with no
// recipient hears nothing of it, and a master failover or a node restart ends in sync:required
// and no acked message missing anywhere.
describe('routed fan-out on a Redis cluster with four instances', () => {
  let env: Environment;
  const devices: Device[] = [];
  let conversation: ConversationDto;
  let alice: Device, bob: Device, carol: Device, dave: Device;

  beforeAll(async () => {
    env = await startEnvironment({
      topology: 'cluster',
      replicas: true,
      gateways: 4,
      env: { RATE_LIMIT_SEND_PER_10S: '100000', RATE_LIMIT_SYNC_PER_MIN: '100000' },
    });
    const [A, B, C, D] = env.gateways as [
      GatewayProcess,
      GatewayProcess,
      GatewayProcess,
      GatewayProcess,
    ];
    conversation = (
      await rest<ConversationDto>(
        A.url,
        await tokenFor('alice', 'recruiter'),
        'POST',
        '/conversations',
        {
          kind: 'group',
          title: 'Panel',
          memberIds: ['bob', 'carol'],
        },
      )
    ).body;
    await acceptInvitations(A.url, conversation.id, [
      await tokenFor('bob', 'candidate'),
      await tokenFor('carol', 'candidate'),
    ]);
    // Each on one instance; dave (on D) shares no conversation with them.
    alice = new Device('alice@A', 'alice', 'recruiter', [A.url]);
    bob = new Device('bob@B', 'bob', 'candidate', [B.url]);
    carol = new Device('carol@C', 'carol', 'candidate', [C.url]);
    dave = new Device('dave@D', 'dave', 'candidate', [D.url]);
    devices.push(alice, bob, carol, dave);
    for (const d of devices) await d.start();
  }, 90_000);

  afterAll(async () => {
    for (const d of devices) await d.close();
    await env?.dispose();
  });

  it('delivers every message once and in order to each member device, and nothing to an instance without one', async () => {
    const D = env.gateways[3]!;
    const before = await Promise.all(env.gateways.map(received));
    // One after the other, from two instances: the order every device must see.
    for (let i = 0; i < 20; i++) {
      await alice.sendAndWait(conversation.id, `alice ${i}`);
      await bob.sendAndWait(conversation.id, `bob ${i}`);
    }
    const acked = [...alice.acked.values(), ...bob.acked.values()].sort((x, y) => x.seq - y.seq);
    expect(acked).toHaveLength(40);
    const liveTo = (d: Device) => d.pushed.filter((m) => m.conversationId === conversation.id);
    const expected = (d: Device, sender: string) => acked.filter((m) => m.senderId !== sender);
    await waitUntil(
      'every live delivery',
      () => liveTo(carol).length >= 40 && liveTo(bob).length >= 20 && liveTo(alice).length >= 20,
      10_000,
    );
    // A marker sent after everything arrives after everything on each socket: then count.
    bob.send(conversation.id, 'marker');
    await waitUntil('marker', () => liveTo(carol).some((m) => m.body === 'marker'), 10_000);
    const seqs = (list: MessageDto[]) => list.filter((m) => m.body !== 'marker').map((m) => m.seq);
    expect(seqs(liveTo(carol))).toEqual(acked.map((m) => m.seq));
    expect(seqs(liveTo(bob))).toEqual(expected(bob, 'bob').map((m) => m.seq));
    expect(seqs(liveTo(alice))).toEqual(expected(alice, 'alice').map((m) => m.seq));
    expect(dave.pushed).toEqual([]);
    const after = await Promise.all(env.gateways.map(received));
    const delta = after.map((n, i) => n - before[i]!);
    console.log(
      `[figure] adapter messages received per instance A-D for 41 sends: ${delta.join(', ')}`,
    );
    // D holds nobody in the conversation: its adapter heard nothing of all this.
    expect(delta[3]).toBe(0);
    expect(await received(D)).toBe(before[3]);
    // C holds carol only: one message per send; it never hears the broadcast twice.
    expect(delta[2]).toBe(41);
  }, 60_000);

  it('ends a master failover and a node restart in sync:required, with every acked message on every device', async () => {
    const cluster = env.cluster!;
    const channel = 'socket.io#/#user:bob#';
    const slot = Number(
      (await runRedisCli(cluster.nodes[0]!, ['cluster', 'keyslot', channel])).trim(),
    );
    const victim = (await cluster.masters()).find((m) =>
      m.slots.some((range) => {
        const [lo, hi] = range.split('-').map(Number);
        return slot >= lo! && slot <= (hi ?? lo!);
      }),
    )!;
    const notices = bob.syncRequired;
    let sent = 0;
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        alice.send(conversation.id, `during ${sent}`);
        carol.send(conversation.id, `carol during ${sent}`);
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const killedAt = Date.now();
    await cluster.killNode(victim.port);
    await cluster.waitForState('ok', 15_000);
    await waitUntil('bob told to sync', () => bob.syncRequired > notices, 15_000);
    const toldAfter = Date.now() - killedAt;
    await cluster.restartNode(victim.port);
    await cluster.waitForState('ok', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    sending = false;
    await traffic;
    await waitUntil('all acked', () => devices.every((d) => d.unacked === 0), 30_000);
    const acked = new Set(
      [...alice.acked.values(), ...bob.acked.values(), ...carol.acked.values()].map((m) => m.id),
    );
    const missing = (d: Device) => {
      const shown = new Set(d.shown(conversation.id).map((m) => m.id));
      return [...acked].filter((id) => !shown.has(id)).length;
    };
    await waitUntil(
      'every member device shows every acked message',
      () => [alice, bob, carol].every((d) => missing(d) === 0),
      20_000,
    );
    console.log(
      `[figure] failover of the master serving bob's channel: sync:required ${toldAfter} ms after the kill; ` +
        `${acked.size} acked in all, missing on a device: 0 (sent ${sent * 2} during the fault)`,
    );
    for (const d of [alice, bob, carol]) expect(missing(d)).toBe(0);
  }, 90_000);
});
