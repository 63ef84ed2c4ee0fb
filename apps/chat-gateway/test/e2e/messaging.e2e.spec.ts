import { waitUntil } from '@jobsphere/testing';
import { type ConversationDto, type MessageDto } from '@jobsphere/chat-domain';
import {
  acceptInvitations,
  collect,
  connectClient,
  rest,
  tokenFor,
  type ChatClient,
} from '../support/gateway.js';
import {
  median,
  startEnvironment,
  type Environment,
  type Topology,
} from '../support/environment.js';

// Several users with several devices, spread over two gateway instances that share
// Redis and the store: each message reaches every device once, in order.
describe.each<Topology>(['standalone', 'cluster'])(
  'messaging across two instances (%s Redis)',
  (topology) => {
    let env: Environment;
    let tokens: Record<string, string>;
    let devices: Record<string, ChatClient>;
    let group: ConversationDto;

    beforeAll(async () => {
      env = await startEnvironment({ topology });
      const [A, B] = env.gateways;
      tokens = {
        alice: await tokenFor('alice', 'recruiter'),
        bob: await tokenFor('bob', 'candidate'),
        carol: await tokenFor('carol', 'recruiter'),
      };
      devices = {
        aliceA: await connectClient(A!.url, tokens.alice!),
        aliceB: await connectClient(B!.url, tokens.alice!),
        bobA: await connectClient(A!.url, tokens.bob!),
        bobB: await connectClient(B!.url, tokens.bob!),
        carolB: await connectClient(B!.url, tokens.carol!),
      };
    }, 60_000);

    afterAll(async () => {
      await env?.dispose();
    });

    it('tells every device of every member about a new group, on both instances', async () => {
      const created = Object.fromEntries(
        Object.entries(devices).map(([name, socket]) => [
          name,
          collect(socket, 'conversation:created'),
        ]),
      );
      const response = await rest<ConversationDto>(
        env.gateways[0]!.url,
        tokens.alice,
        'POST',
        '/conversations',
        {
          kind: 'group',
          title: 'Backend engineer — panel',
          memberIds: ['bob', 'carol'],
          jobId: 'job-42',
        },
      );
      expect(response.status).toBe(201);
      group = response.body;
      await waitUntil(
        'conversation:created on every device',
        () => Object.values(created).every((list) => list.length === 1),
        10_000,
      );
      for (const list of Object.values(created)) expect(list[0]!.id).toBe(group.id);
      // Bob and Carol were invited (not Alice's contacts yet): they accept to take part.
      await acceptInvitations(env.gateways[1]!.url, group.id, [tokens.bob!, tokens.carol!]);
    });

    it('delivers every message to every other device exactly once and in seq order', async () => {
      const received = Object.fromEntries(
        Object.entries(devices).map(([name, socket]) => [name, collect(socket, 'message:new')]),
      );
      const sentAt = new Map<string, number>();
      const arrivals: number[] = [];
      const ackLatencies: number[] = [];
      devices.carolB!.on('message:new', (m: MessageDto) =>
        arrivals.push(performance.now() - sentAt.get(m.id)!),
      );

      const acked: MessageDto[] = [];
      for (let i = 0; i < 30; i++) {
        const sender = i % 3 === 2 ? devices.bobB! : devices.aliceA!;
        const started = performance.now();
        const ack = await sender.emitWithAck('message:send', {
          conversationId: group.id,
          clientMessageId: `msg-${topology}-${i}`,
          body: `message ${i}`,
        });
        ackLatencies.push(performance.now() - started);
        if (!ack.ok) throw new Error(`send failed: ${ack.error.code}`);
        sentAt.set(ack.data.message.id, started);
        acked.push(ack.data.message);
      }
      expect(acked.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

      const expectedFor = (device: string) =>
        acked.filter(
          (m) =>
            !(
              (device === 'aliceA' && m.senderId === 'alice') ||
              (device === 'bobB' && m.senderId === 'bob')
            ),
        );
      await waitUntil(
        'all deliveries',
        () => Object.keys(devices).every((d) => received[d]!.length >= expectedFor(d).length),
        10_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 200)); // room for a duplicate to show up
      for (const device of Object.keys(devices)) {
        // Exactly once each; in seq order per sender. Two senders on two instances race on the
        // wire (one's Redis hop against the other's local emit): across them a device may see
        // n+1 before n, which the SDK puts back in seq order (its gap buffer, tested there).
        const got = received[device]!;
        expect([...got].sort((a, b) => a.seq - b.seq).map((m) => m.id)).toEqual(
          expectedFor(device).map((m) => m.id),
        );
        for (const sender of ['alice', 'bob'])
          expect(got.filter((m) => m.senderId === sender).map((m) => m.id)).toEqual(
            expectedFor(device)
              .filter((m) => m.senderId === sender)
              .map((m) => m.id),
          );
      }
      console.log(
        `[${topology}] ack latency median ${median(ackLatencies).toFixed(2)} ms; ` +
          `send-to-delivery on the other instance median ${median(arrivals).toFixed(2)} ms (n=${arrivals.length})`,
      );
    });

    it('returns the stored message again for a repeated clientMessageId, creating nothing', async () => {
      const before = await rest<{ messages: MessageDto[] }>(
        env.gateways[1]!.url,
        tokens.bob,
        'GET',
        `/conversations/${group.id}/messages?limit=100`,
      );
      const bobA = collect(devices.bobA!, 'message:new');
      const again = await devices.aliceB!.emitWithAck('message:send', {
        conversationId: group.id,
        clientMessageId: `msg-${topology}-0`,
        body: 'message 0',
      });
      expect(again).toMatchObject({
        ok: true,
        data: { duplicate: true, message: { seq: 1, body: 'message 0' } },
      });
      const after = await rest<{ messages: MessageDto[] }>(
        env.gateways[1]!.url,
        tokens.bob,
        'GET',
        `/conversations/${group.id}/messages?limit=100`,
      );
      expect(after.body.messages).toHaveLength(before.body.messages.length);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(bobA).toHaveLength(0);
    });

    it('pages history backwards and forwards on either instance', async () => {
      const [A, B] = env.gateways;
      const latest = await rest<{ messages: MessageDto[]; hasMore: boolean }>(
        B!.url,
        tokens.carol,
        'GET',
        `/conversations/${group.id}/messages?limit=10`,
      );
      expect(latest.status).toBe(200);
      expect(latest.body.messages.map((m) => m.seq)).toEqual([
        21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
      ]);
      expect(latest.body.hasMore).toBe(true);
      const older = await rest<{ messages: MessageDto[]; hasMore: boolean }>(
        A!.url,
        tokens.carol,
        'GET',
        `/conversations/${group.id}/messages?before=21&limit=15`,
      );
      expect(older.body.messages.map((m) => m.seq)).toEqual(
        Array.from({ length: 15 }, (_, i) => i + 6),
      );
      const oldest = await rest<{ messages: MessageDto[]; hasMore: boolean }>(
        A!.url,
        tokens.carol,
        'GET',
        `/conversations/${group.id}/messages?before=6&limit=15`,
      );
      expect(oldest.body).toMatchObject({ hasMore: false });
      expect(oldest.body.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
      const newer = await rest<{ messages: MessageDto[]; hasMore: boolean }>(
        B!.url,
        tokens.carol,
        'GET',
        `/conversations/${group.id}/messages?after=27&limit=15`,
      );
      expect(newer.body).toMatchObject({ hasMore: false });
      expect(newer.body.messages.map((m) => m.seq)).toEqual([28, 29, 30]);
    });

    it('syncs a device that missed messages, from either instance', async () => {
      const result = await devices.carolB!.emitWithAck('sync', {
        conversations: [{ conversationId: group.id, afterVersion: 27 }],
      });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      // No edits here: Bob's and Carol's acceptances took versions 1 and 2 (membership changes
      // sync too), so each message's version is its seq + 2.
      expect(result.data.conversations[0]!.messages.map((m) => [m.seq, m.version])).toEqual([
        [26, 28],
        [27, 29],
        [28, 30],
        [29, 31],
        [30, 32],
      ]);
      expect(result.data.conversations[0]!.hasMore).toBe(false);
    });

    it('lists the conversation with its last message and each member\u2019s unread count', async () => {
      const carol = await rest<{ conversations: ConversationDto[]; totalUnread: number }>(
        env.gateways[0]!.url,
        tokens.carol,
        'GET',
        '/conversations',
      );
      expect(carol.body.conversations[0]).toMatchObject({
        id: group.id,
        lastSeq: 30,
        unreadCount: 30,
        lastMessage: { seq: 30 },
      });
      expect(carol.body.totalUnread).toBe(30);
      const bob = await rest<{ conversations: ConversationDto[] }>(
        env.gateways[1]!.url,
        tokens.bob,
        'GET',
        '/conversations',
      );
      // Bob sent seq 30 (every third message), and sending counts as reading.
      expect(bob.body.conversations[0]).toMatchObject({ lastReadSeq: 30, unreadCount: 0 });
    });
  },
);
