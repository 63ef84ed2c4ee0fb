import { waitUntil } from '@jobsphere/testing';
import {
  type ConversationDto,
  type DeliveredResult,
  type SettingsDto,
} from '@jobsphere/chat-domain';
import { Device } from '../support/device.js';
import { startEnvironment, type Environment } from '../support/environment.js';
import { collect, connectClient, mintTokens, openAccepted, restAs } from '../support/gateway.js';

type Answer = { ok: true; data: unknown } | { ok: false; error: { code: string } };
type RawSocket = {
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
};

// Delivered and seen receipts and their privacy setting over two gateway instances sharing Redis
// and the store: the SDK on each side (real socket.io-client), live and after a device was away.
describe('delivery receipts across two instances', () => {
  let env: Environment;
  let A: string;
  let B: string;
  const tokens: Record<string, string> = {};
  const devices: Device[] = [];

  const device = async (userId: string, role: 'candidate' | 'recruiter', url: string) => {
    const d = new Device(`${userId}@${url}`, userId, role, [url], {
      timings: {
        backoff: { initialMs: 100, maxMs: 1_000 },
        requestTimeoutMs: 3_000,
        deliveredDebounceMs: 50,
      },
    });
    devices.push(d);
    await d.start();
    return d;
  };
  const api = restAs(tokens);
  const memberAs = async (url: string, viewer: string, id: string, userId: string) =>
    (await api<ConversationDto>(url, viewer, 'GET', `/conversations/${id}`)).body.members.find(
      (m) => m.userId === userId,
    )!;

  beforeAll(async () => {
    env = await startEnvironment({ gateways: 2 });
    [A, B] = env.gateways.map((g) => g.url) as [string, string];
    await mintTokens(tokens, [
      ['rita', 'recruiter'],
      ['sam', 'candidate'],
      ['pia', 'candidate'],
      ['quinn', 'recruiter'],
      ['mallory', 'candidate'],
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const d of devices.splice(0)) await d.close();
    await env?.dispose();
  });

  it('the sender sees "delivered" when a device of the recipient has it, then "seen"; a device away learns both by sync', async () => {
    const c = await openAccepted(A, tokens.rita!, tokens.sam!, { userId: 'sam' });
    const rita = await device('rita', 'recruiter', A);
    const ritaLaptop = await device('rita', 'recruiter', B);
    const sam = await device('sam', 'candidate', B);

    await rita.sendAndWait(c.id, 'Interview on Monday?');
    await rita.sendAndWait(c.id, 'At 10, 5 Main Street.');
    // Sam's device (instance B) holds both: one acknowledgement; Rita (instance A) sees it live.
    await waitUntil(
      'rita.client.conversation(c.id)?.peerDeliveredSeq === 2',
      () => rita.client.conversation(c.id)?.peerDeliveredSeq === 2,
      10_000,
    );
    expect(rita.client.conversation(c.id)!.peerReadSeq).toBe(0);
    expect(await memberAs(A, 'rita', c.id, 'sam')).toMatchObject({
      lastReadSeq: 0,
      lastDeliveredSeq: 2,
    });

    // Rita's laptop goes away; sam reads meanwhile; back, its sync tells it "seen".
    await ritaLaptop.close();
    sam.client.markRead(c.id);
    await waitUntil(
      'rita.client.conversation(c.id)?.peerReadSeq === 2',
      () => rita.client.conversation(c.id)?.peerReadSeq === 2,
      10_000,
    );
    const laptopAgain = await device('rita', 'recruiter', B);
    laptopAgain.client.sync([c.id]);
    await waitUntil(
      'laptopAgain.client.conversation(c.id)?.peerReadSeq === 2',
      () => laptopAgain.client.conversation(c.id)?.peerReadSeq === 2,
      10_000,
    );
    expect(laptopAgain.client.conversation(c.id)!.peerDeliveredSeq).toBe(2);

    // Sam has no device online for the next message; the next one that opens the conversation
    // (on the other instance) holds it and acknowledges it.
    await sam.close();
    await rita.sendAndWait(c.id, 'Bring your ID.');
    const samAgain = await device('sam', 'candidate', A);
    await samAgain.client.open(c.id);
    await waitUntil(
      'rita.client.conversation(c.id)?.peerDeliveredSeq === 3',
      () => rita.client.conversation(c.id)?.peerDeliveredSeq === 3,
      10_000,
    );
    await waitUntil(
      'laptopAgain.client.conversation(c.id)?.peerDeliveredSeq === 3',
      () => laptopAgain.client.conversation(c.id)?.peerDeliveredSeq === 3,
      10_000,
    );
    expect(rita.client.conversation(c.id)!.peerReadSeq).toBe(2);
  }, 60_000);

  it('acknowledgements are batched, forward only and coalesced; strangers and bad batches change nothing', async () => {
    const c = await openAccepted(A, tokens.quinn!, tokens.pia!, { userId: 'pia' });
    const quinnA = await connectClient(A, tokens.quinn!);
    const delivered = collect(quinnA, 'conversation:delivered');
    const piaB = (await connectClient(B, tokens.pia!)) as unknown as RawSocket;
    const malloryB = (await connectClient(B, tokens.mallory!)) as unknown as RawSocket;
    const emit = async (socket: RawSocket, event: string, payload: unknown) =>
      (await socket.timeout(5_000).emitWithAck(event, payload)) as Answer;
    const quinnRaw = quinnA as unknown as RawSocket;
    for (const body of ['one', 'two', 'three'])
      expect(
        await emit(quinnRaw, 'message:send', {
          conversationId: c.id,
          clientMessageId: `q-${body}`,
          body,
        }),
      ).toMatchObject({ ok: true });

    // Beyond the newest message is held to it; a repeat or a lower one tells nobody.
    expect(
      await emit(piaB, 'conversation:delivered', {
        positions: [{ conversationId: c.id, seq: 99 }],
      }),
    ).toEqual({
      ok: true,
      data: { conversations: [{ conversationId: c.id, lastDeliveredSeq: 3 }] },
    });
    expect(
      await emit(piaB, 'conversation:delivered', { positions: [{ conversationId: c.id, seq: 1 }] }),
    ).toEqual({
      ok: true,
      data: { conversations: [{ conversationId: c.id, lastDeliveredSeq: 3 }] },
    });
    // A stranger's acknowledgement is left out and moves nothing.
    expect(
      await emit(malloryB, 'conversation:delivered', {
        positions: [{ conversationId: c.id, seq: 3 }],
      }),
    ).toEqual({ ok: true, data: { conversations: [] } });
    // Past the batch cap, or malformed: refused whole, nothing stored.
    const tooMany = Array.from({ length: 101 }, () => ({ conversationId: c.id, seq: 3 }));
    expect(await emit(piaB, 'conversation:delivered', { positions: tooMany })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_PAYLOAD' },
    });
    expect(
      await emit(piaB, 'conversation:delivered', {
        positions: [{ conversationId: c.id, seq: -1 }],
      }),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } });
    // REST says the same.
    const viaRest = await api<DeliveredResult>(B, 'pia', 'POST', '/delivered', {
      positions: [{ conversationId: c.id, seq: 2 }],
    });
    expect(viaRest).toMatchObject({
      status: 200,
      body: { conversations: [{ conversationId: c.id, lastDeliveredSeq: 3 }] },
    });

    // A marker: pia reads, and the read event arrives after anything sent before it.
    const reads = collect(quinnA, 'conversation:read');
    await emit(piaB, 'conversation:read', { conversationId: c.id, seq: 3 });
    await waitUntil('reads.length === 1', () => reads.length === 1, 10_000);
    expect(delivered).toEqual([{ conversationId: c.id, userId: 'pia', lastDeliveredSeq: 3 }]);
    expect(await memberAs(A, 'quinn', c.id, 'mallory')).toBeUndefined();
  }, 60_000);

  it('receipts off hides both ways, live and in every view; the other devices of the person follow', async () => {
    const c = await openAccepted(A, tokens.rita!, tokens.pia!, { userId: 'pia' });
    const rita = await device('rita', 'recruiter', A);
    const pia = await device('pia', 'candidate', B);
    const piaPhone = await device('pia', 'candidate', A);
    await rita.sendAndWait(c.id, 'hello');
    await waitUntil(
      'rita.client.conversation(c.id)?.peerDeliveredSeq === 1',
      () => rita.client.conversation(c.id)?.peerDeliveredSeq === 1,
      10_000,
    );
    await pia.sendAndWait(c.id, 'hi');
    await waitUntil('rita holds hi', () => rita.shown(c.id).length === 2, 10_000);
    rita.client.markRead(c.id);
    await waitUntil(
      'pia.client.conversation(c.id)?.peerReadSeq === 2',
      () => pia.client.conversation(c.id)?.peerReadSeq === 2,
      10_000,
    );

    // Pia turns receipts off on one device (REST, instance B); her phone (instance A) follows.
    const off = await api<SettingsDto>(B, 'pia', 'PATCH', '/me/settings', { receipts: false });
    expect(off).toMatchObject({ status: 200, body: { receipts: false } });
    await waitUntil(
      'piaPhone.client.receipts === false',
      () => piaPhone.client.receipts === false,
      10_000,
    );
    await pia.client.loadSettings();
    expect(pia.client.conversation(c.id)).toMatchObject({ peerReadSeq: 0, peerDeliveredSeq: 0 });
    expect(await api(A, 'pia', 'GET', '/me/settings')).toMatchObject({ body: { receipts: false } });

    // Rita's device learns it with the conversation list (the next load: the setting is no event
    // to others), and stops inferring "seen" from pia's replies.
    await rita.client.loadConversations();
    expect(rita.client.conversation(c.id)).toMatchObject({ peerReadSeq: 0, peerDeliveredSeq: 0 });

    // Neither side sees the other's positions in any view.
    expect(await memberAs(A, 'rita', c.id, 'pia')).toMatchObject({
      lastReadSeq: 0,
      lastDeliveredSeq: 0,
      receipts: false,
    });
    expect(await memberAs(B, 'pia', c.id, 'rita')).toMatchObject({
      lastReadSeq: 0,
      lastDeliveredSeq: 0,
    });

    // Live: rita's raw socket hears no receipt of pia's, and pia's hears none of rita's.
    const ritaRaw = await connectClient(A, tokens.rita!);
    const piaRaw = await connectClient(B, tokens.pia!);
    const ritaHears = [
      ...['conversation:read', 'conversation:delivered'].map((e) =>
        collect(ritaRaw, e as 'conversation:read'),
      ),
    ];
    const piaHears = [
      ...['conversation:read', 'conversation:delivered'].map((e) =>
        collect(piaRaw, e as 'conversation:read'),
      ),
    ];
    const ritaMessages = collect(ritaRaw, 'message:new');
    await rita.sendAndWait(c.id, 'are you there?');
    await waitUntil('pia.shown(c.id).length === 3', () => pia.shown(c.id).length === 3, 10_000);
    pia.client.markRead(c.id);
    await waitUntil(
      'pia.client.conversation(c.id)?.unreadCount === 0',
      () => pia.client.conversation(c.id)?.unreadCount === 0,
      10_000,
    );
    await pia.sendAndWait(c.id, 'marker');
    await waitUntil(
      'ritaMessages.some((m) => m.body === marker)',
      () => ritaMessages.some((m) => m.body === 'marker'),
      10_000,
    );
    rita.client.markRead(c.id);
    await rita.sendAndWait(c.id, 'marker back');
    await waitUntil(
      'pia.shown(c.id).some((m) => m.body === marker back)',
      () => pia.shown(c.id).some((m) => m.body === 'marker back'),
      10_000,
    );
    expect(ritaHears.flat().filter((e) => e.userId === 'pia')).toEqual([]);
    expect(piaHears.flat().filter((e) => e.userId === 'rita')).toEqual([]);
    expect(rita.client.conversation(c.id)).toMatchObject({ peerReadSeq: 0, peerDeliveredSeq: 0 });
    // The positions are still kept: turned on again, both sides see them.
    await pia.client.setReceipts(true);
    await waitUntil('piaPhone.client.receipts', () => piaPhone.client.receipts, 10_000);
    expect((await memberAs(A, 'rita', c.id, 'pia')).lastReadSeq).toBe(4);
  }, 60_000);
});
