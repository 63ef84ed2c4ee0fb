import { connected, gateway, useFakeGateway } from '../test/support/harness.js';

// "Delivered" as the SDK keeps it, on the gateway model's fake clock: no test waits real time.
useFakeGateway();
const acks = () => gateway.requests.filter(([e]) => e === 'conversation:delivered');

describe('delivered receipts', () => {
  it('acknowledges once per window, the highest seq held, for many messages and conversations', async () => {
    const one = gateway.open(['ana', 'ravi']);
    const two = gateway.open(['ana', 'ravi']);
    const ana = await connected('ana');
    const ravi = await connected('ravi');
    for (let i = 0; i < 5; i++) ravi.send(one.id, `one ${i}`);
    ravi.send(two.id, 'two');
    await gateway.advance(0);
    expect(ana.conversation(one.id)!.messages).toHaveLength(5);
    expect(acks()).toEqual([]); // the window is still open
    await gateway.advance(1_000);
    expect(acks()).toEqual([
      [
        'conversation:delivered',
        {
          positions: [
            { conversationId: one.id, seq: 5 },
            { conversationId: two.id, seq: 1 },
          ],
        },
      ],
    ]);
    // The sender sees "delivered", not "seen".
    await gateway.advance(0);
    expect(ravi.conversation(one.id)).toMatchObject({ peerDeliveredSeq: 5, peerReadSeq: 0 });
    expect(ravi.conversation(one.id)!.members.find((m) => m.userId === 'ana')).toMatchObject({
      lastDeliveredSeq: 5,
      lastReadSeq: 0,
    });
    // Nothing new: no acknowledgement, however long.
    await gateway.advance(60_000);
    expect(acks()).toHaveLength(1);
  });

  it('own messages are never acknowledged; a device offline acknowledges after it syncs', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const ravi = await connected('ravi');
    const ana = await connected('ana');
    ravi.send(conv.id, 'mine');
    await gateway.advance(0);
    const first = acks().length; // ana's device acknowledged ravi's first message
    ravi.send(conv.id, 'mine too');
    await gateway.advance(5_000);
    expect(acks().filter(([, p]) => JSON.stringify(p).includes('"seq":2'))).toHaveLength(1);
    expect(acks().length).toBe(first + 1);
    // Ana's device goes offline; what arrives meanwhile is acknowledged after its sync.
    gateway.handshake = () => 'network';
    gateway.socketsOf('ana')[0]!.drop();
    gateway.append(conv.id, 'ravi', 'while away');
    await gateway.advance(5_000);
    expect(acks().length).toBe(first + 1);
    gateway.handshake = () => undefined;
    await gateway.advance(30_000);
    expect(ana.conversation(conv.id)!.messages.map((m) => m.body)).toContain('while away');
    expect(acks().at(-1)![1]).toEqual({ positions: [{ conversationId: conv.id, seq: 3 }] });
    expect(acks().length).toBe(first + 2);
    expect(ravi.conversation(conv.id)!.peerDeliveredSeq).toBe(3);
    // Ravi never acknowledged his own messages.
    expect(gateway.conversations.get(conv.id)!.delivered.get('ravi')).toBeUndefined();
  });

  it('an acknowledgement lost to a disconnect goes again on reconnect, once', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const ana = await connected('ana');
    gateway.append(conv.id, 'ravi', 'hi');
    await gateway.advance(0);
    gateway.stall = true;
    await gateway.advance(1_000);
    expect(acks()).toHaveLength(1);
    await gateway.advance(10_000); // the request deadline: transient, kept
    gateway.stall = false;
    ana.reconnect();
    await gateway.advance(2_000);
    expect(acks()).toHaveLength(2);
    expect(gateway.conversations.get(conv.id)!.delivered.get('ana')).toBe(1);
    await gateway.advance(60_000);
    expect(acks()).toHaveLength(2);
  });

  it('a member who syncs later learns positions reached meanwhile; receipts off hides them all', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    gateway.append(conv.id, 'ana', 'hello');
    const c = gateway.conversations.get(conv.id)!;
    c.delivered.set('ravi', 1);
    const ana = await connected('ana');
    ana.sync();
    await gateway.advance(0);
    expect(ana.conversation(conv.id)).toMatchObject({ peerDeliveredSeq: 1, peerReadSeq: 0 });
    // The user's own setting arrives from another device: nobody's positions are shown.
    const told: boolean[] = [];
    ana.on('settings', (s) => told.push(s.receipts));
    gateway.fanOut(['ana'], 'settings:updated', { receipts: false });
    await gateway.advance(0);
    expect(ana.receipts).toBe(false);
    expect(ana.conversation(conv.id)).toMatchObject({ peerDeliveredSeq: 0, peerReadSeq: 0 });
    expect(told).toEqual([false]);
  });
});
