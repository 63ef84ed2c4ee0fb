import fc from 'fast-check';
import { FakeGateway } from '../test/support/fake-gateway.js';
import { fakeClient } from '../test/support/client.js';
import type { ConversationView } from './state.js';
import { memoryStorage } from './storage.js';

// Model-based: a device of Ana in a group with Ravi and Mia, against the gateway model, while
// fast-check interleaves everything the network and the server can do to it. Whatever happens,
// once the network heals and one more message travels, Ana shows every stored message exactly
// once, in seq order, in its newest state, and everything she sent is stored exactly once, in
// the order she sent it.

type Op =
  | { kind: 'peer'; who: 'ravi' | 'mia' }
  | { kind: 'send' }
  | { kind: 'edit'; pick: number }
  | { kind: 'burn' }
  | { kind: 'deliver' | 'duplicate' | 'lose'; pick: number }
  | { kind: 'loseAck' }
  | { kind: 'drop' }
  | { kind: 'syncRequired' }
  | { kind: 'reload' }
  | { kind: 'tick'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('peer' as const),
      who: fc.constantFrom('ravi' as const, 'mia' as const),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'send' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('edit' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'burn' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom('deliver' as const, 'duplicate' as const, 'lose' as const),
      pick: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'loseAck' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'drop' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'syncRequired' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reload' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      ms: fc.integer({ min: 0, max: 15_000 }),
    }),
  },
);

/** At every moment: each message once, in seq order, and never both pending and shown. */
function shownOnce(view: ConversationView | undefined): void {
  if (!view) return;
  const seqs = view.messages.map((m) => m.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(view.messages.map((m) => m.id)).size).toBe(view.messages.length);
  const shownIds = new Set(view.messages.map((m) => m.clientMessageId));
  expect(view.pending.filter((p) => shownIds.has(p.clientMessageId))).toEqual([]);
}

async function run(ops: Op[], pageSize: number, settleMs = 0): Promise<void> {
  const gateway = new FakeGateway({ manualDelivery: true, syncPageSize: pageSize });
  gateway.settleMs = settleMs;
  // A second conversation shares every sync answer's budget with the first.
  gateway.syncAnswerBudget = pageSize + 1;
  const conv = gateway.open(['ana', 'ravi', 'mia']);
  const other = gateway.open(['ana', 'mia']);
  const storage = memoryStorage();
  let ana = fakeClient(gateway, 'ana', { storage });
  await Promise.all([ana.connect(), gateway.advance(0)]);
  await ana.loadConversations();
  const sent: string[] = [];
  let n = 0;
  const wire = () => gateway.socketsOf('ana')[0]?.wire ?? [];
  for (const step of ops) {
    switch (step.kind) {
      case 'peer':
        gateway.append(conv.id, step.who, `${step.who}-${n++}`);
        if (step.who === 'mia') gateway.append(other.id, 'mia', `aside ${n++}`);
        break;
      case 'send':
        sent.push(ana.send(conv.id, `ana-${n++}`).clientMessageId);
        break;
      case 'edit': {
        const target = conv.messages[step.pick % Math.max(1, conv.messages.length)];
        if (target) gateway.edit(conv.id, target.id, `${target.body} (edited ${n++})`);
        break;
      }
      case 'burn':
        gateway.burn(conv.id);
        break;
      case 'deliver':
      case 'duplicate':
      case 'lose': {
        const w = wire();
        if (w.length === 0) break;
        const index = step.pick % w.length;
        const [event, payload] = w[index]!;
        if (step.kind !== 'duplicate') w.splice(index, 1);
        if (step.kind !== 'lose') gateway.socketsOf('ana')[0]?.deliver(event, payload);
        break;
      }
      case 'loseAck':
        gateway.loseAcks++;
        break;
      case 'drop':
        gateway.socketsOf('ana')[0]?.drop();
        break;
      case 'syncRequired':
        gateway.socketsOf('ana')[0]?.deliver('sync:required', { reason: 'redis-reconnected' });
        break;
      case 'reload':
        // The page goes away mid-flight; a new client starts on the same storage.
        await ana.close();
        ana = fakeClient(gateway, 'ana', { storage });
        await Promise.all([ana.connect(), gateway.advance(0)]);
        await ana.loadConversations();
        await ana.open(conv.id);
        break;
      case 'tick':
        await gateway.advance(step.ms);
        break;
    }
    await gateway.advance(0);
    shownOnce(ana.conversation(conv.id));
  }
  // The network heals; one more message travels (what a later message or reconnect does).
  gateway.manualDelivery = false;
  gateway.loseAcks = 0;
  for (const socket of gateway.sockets) socket.wire.length = 0;
  await gateway.advance(60_000);
  gateway.append(conv.id, 'ravi', 'marker');
  for (let i = 0; i < 20 && (ana.syncing || ana.pending().length > 0); i++)
    await gateway.advance(30_000);

  // After a reload only the newest page was loaded: scroll up through the rest, as a user would.
  while (await ana.loadOlder(conv.id));

  while (await ana.loadOlder(other.id));
  expect(ana.conversation(other.id)!.messages.map((m) => m.id)).toEqual(
    other.messages.map((m) => m.id),
  );

  const stored = [...conv.messages].sort((a, b) => a.seq - b.seq);
  const view = ana.conversation(conv.id)!;
  expect(ana.pending()).toEqual([]);
  expect(view.messages.map((m) => [m.id, m.version])).toEqual(stored.map((m) => [m.id, m.version]));
  // Every send stored once, in send order.
  const mine = stored.filter((m) => m.senderId === 'ana').map((m) => m.clientMessageId);
  expect(mine).toEqual(sent);
  await ana.close();
  expect(gateway.clock.countTimers()).toBe(0);
}

describe('the client against any interleaving of live events, losses, duplicates, syncs and reloads', () => {
  it('shows every stored message once, in seq order, newest state; stores every send once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        // 10 s: the real gateway's cursor lags behind changes younger than that.
        fc.constantFrom(0, 10_000),
        run,
      ),
      { numRuns: 150 },
    );
  });

  it('a long one: 400 steps with one-message sync pages', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 300, maxLength: 400 }), (ops) =>
        run(ops, 1, 10_000),
      ),
      {
        numRuns: 10,
      },
    );
  });
});
