import fc from 'fast-check';
import { clientOf, connect, gateway, useFakeGateway } from '../test/support/harness.js';
import { memoryStorage, type ChatClient, type ChatError, type MessageDto } from './index.js';

// The largest, fastest and oddest input a client can meet: none of it may throw out of the
// client, grow it without bound or leave a timer behind.
useFakeGateway();
let client: ChatClient;
let errors: ChatError[];

async function start(options: Parameters<typeof clientOf>[1] = {}): Promise<void> {
  client = clientOf('ana', options);
  errors = [];
  client.on('error', (e) => errors.push(e));
  await connect(client);
}

const socket = () => gateway.socketsOf('ana')[0]!;

describe('floods', () => {
  it('100,000 messages in one conversation: the timeline keeps its cap, in order', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    await start({ limits: { maxMessagesPerConversation: 1_000 } });
    const flood = Array.from({ length: 100_000 }, (_, i) => ({
      id: `f${i}`,
      conversationId: conv.id,
      seq: i + 1,
      version: conv.version + i + 1,
      senderId: 'ravi',
      clientMessageId: `c${i}`,
      body: `m${i}`,
      createdAt: new Date(Date.UTC(2026, 0, 5, 9, 0, 0, i)).toISOString(),
    }));
    const started = performance.now();
    for (const m of flood) socket().deliver('message:new', m);
    const ms = performance.now() - started;
    const view = client.conversation(conv.id)!;
    expect(view.messages).toHaveLength(1_000);
    expect(view.messages.at(-1)!.body).toBe('m99999');
    expect(view.messages[0]!.body).toBe('m99000');
    expect(view.hasOlder).toBe(true);
    console.log(`100,000 live messages merged in ${Math.round(ms)} ms`);
  });

  it('messages of 10,000 conversations nobody told it about: at most the cap of lookups', async () => {
    await start({ limits: { maxUnknownConversations: 20 } });
    const lookups: string[] = [];
    const fetch = gateway.fetch;
    const counting: typeof fetch = (url, init) => {
      lookups.push(url);
      return fetch(url, init);
    };
    await client.close();
    client = clientOf('ana', {
      fetch: counting,
      limits: { maxUnknownConversations: 20 },
    });
    await Promise.all([client.connect(), gateway.advance(0)]);
    for (let i = 0; i < 10_000; i++) {
      socket().deliver('message:new', {
        id: `x${i}`,
        conversationId: `ghost${i}`,
        seq: 1,
        version: 2,
        senderId: 'mallory',
        clientMessageId: 'c',
        kind: 'user',
        body: 'spam',
        createdAt: new Date().toISOString(),
      } satisfies MessageDto);
    }
    await gateway.advance(0);
    expect(lookups.length).toBeLessThanOrEqual(20);
    expect(client.conversations()).toEqual([]);
  });

  it('typing and presence floods stay bounded to members and the typer cap', async () => {
    const conv = gateway.open(['ana', ...Array.from({ length: 49 }, (_, i) => `u${i}`)]);
    await start();
    for (let i = 0; i < 50_000; i++) {
      socket().deliver('typing', { conversationId: conv.id, userId: `u${i % 49}`, typing: true });
      socket().deliver('presence', { userId: `stranger${i}`, online: true });
    }
    expect(client.conversation(conv.id)!.typing.length).toBeLessThanOrEqual(20);
    expect(client.presence('stranger1')).toBeUndefined();
    await gateway.advance(10_000);
    expect(client.conversation(conv.id)!.typing).toEqual([]);
  });

  it('a storm of sync:required and gaps is coalesced into a handful of syncs', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    await start();
    gateway.manualDelivery = true;
    for (let i = 0; i < 1_000; i++) {
      gateway.append(conv.id, 'ravi', `m${i}`);
      if (i % 2) socket().deliver(...socket().wire.pop()!); // every other one lost: 500 gaps
      socket().deliver('sync:required', { reason: 'redis-reconnected' });
    }
    await gateway.advance(0);
    // One sync at the first notice, then the backlog in pages of 200: never one per notice.
    const syncs = gateway.requests.filter(([e]) => e === 'sync').length;
    expect(syncs).toBeLessThanOrEqual(1 + Math.ceil(1_000 / 200));
    expect(client.conversation(conv.id)!.messages).toHaveLength(1_000);
  });

  it('a huge outbox: 100,000 sends while offline are capped, stored in one write per burst', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    let writes = 0;
    const storage = memoryStorage();
    const counting = {
      ...storage,
      setItem: (k: string, v: string) => (writes++, storage.setItem(k, v)),
    };
    await start({ storage: counting, limits: { maxOutbox: 500 } });
    gateway.handshake = () => 'network';
    socket().drop();
    let refused = 0;
    for (let i = 0; i < 100_000; i++) {
      try {
        client.send(conv.id, `m${i}`);
      } catch (error) {
        if ((error as ChatError).code === 'OUTBOX_FULL') refused++;
      }
    }
    await gateway.advance(0);
    expect(client.pending()).toHaveLength(500);
    expect(refused).toBe(99_500);
    expect(writes).toBeLessThanOrEqual(2);
    gateway.handshake = () => undefined;
    await gateway.advance(60_000);
    expect(conv.messages).toHaveLength(500);
    expect(client.pending()).toEqual([]);
  });
});

describe('a server answering garbage', () => {
  const events = [
    'message:new',
    'message:updated',
    'conversation:created',
    'conversation:read',
    'typing',
    'presence',
    'sync:required',
    'server:draining',
    'auth:expiring',
    'chat:error',
    'something:new',
  ];

  it('any payload on any event: nothing throws, what is held stays well-formed', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    gateway.append(conv.id, 'ravi', 'real');
    await start();
    await client.open(conv.id);
    fc.assert(
      fc.property(
        fc.constantFrom(...events),
        fc.anything({
          withNullPrototype: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
        (event, payload) => {
          if (event === 'server:draining') return; // a real drain: covered in client.spec
          expect(() => socket().deliver(event, payload)).not.toThrow();
          const view = client.conversation(conv.id)!;
          expect(view.messages.map((m) => m.body)).toEqual(['real']);
        },
      ),
      { numRuns: 2_000 },
    );
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => typeof e.code === 'string')).toBe(true);
  });

  it('garbage acks to sends are retried with the same id, and a real ack ends it', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    await start();
    const answers: unknown[] = [
      undefined,
      null,
      'ok',
      { ok: true },
      { ok: true, data: { message: { id: 1 } } },
      { ok: false },
      { ok: false, error: 'x' },
    ];
    const sentIds: string[] = [];
    gateway.override = (event, payload) => {
      if (event !== 'message:send') return undefined;
      sentIds.push((payload as { clientMessageId: string }).clientMessageId);
      // `undefined` falls through to the real model, so pass a garbage marker instead.
      return answers.length > 0 ? (answers.shift() ?? 'nothing') : undefined;
    };
    const entry = client.send(conv.id, 'hello');
    await gateway.advance(5 * 60_000);
    expect(new Set(sentIds)).toEqual(new Set([entry.clientMessageId]));
    expect(sentIds.length).toBe(8);
    expect(conv.messages).toHaveLength(1);
    expect(client.conversation(conv.id)!.messages.map((m) => m.body)).toEqual(['hello']);
  });

  it('a sync that says hasMore without moving on is cut off, not followed forever', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    await start();
    gateway.override = (event, payload) =>
      event === 'sync'
        ? {
            ok: true,
            data: {
              conversations: (
                payload as { conversations: { conversationId: string; afterVersion: number }[] }
              ).conversations.map((c) => ({
                conversationId: c.conversationId,
                messages: [],
                version: c.afterVersion,
                hasMore: true,
                lastReadSeq: 0,
              })),
            },
          }
        : undefined;
    client.sync();
    await gateway.advance(60_000);
    expect(gateway.requests.filter(([e]) => e === 'sync').length).toBeLessThanOrEqual(2);
    expect(errors.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/answered 1 conversations with nothing/),
    );
    expect(client.syncing).toBe(false);
    expect(conv.id).toBeDefined();
  });

  it('a sync that never stops paging (ever newer versions) stops at the page cap', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    await start({ limits: { maxSyncPages: 25 } });
    let version = 100;
    gateway.override = (event) =>
      event === 'sync'
        ? {
            ok: true,
            data: {
              conversations: [
                {
                  conversationId: conv.id,
                  messages: [],
                  version: ++version,
                  hasMore: true,
                  lastReadSeq: 0,
                },
              ],
            },
          }
        : undefined;
    client.sync();
    await gateway.advance(60_000);
    expect(gateway.requests.filter(([e]) => e === 'sync')).toHaveLength(25);
    expect(client.syncing).toBe(false);
  });

  it('a listener that throws does not break the client or the other listeners', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    await start();
    const seen: string[] = [];
    client.on('message', () => {
      throw new Error('UI bug');
    });
    client.on('message', ({ message }) => seen.push(message.body));
    client.on('error', () => {
      throw new Error('the error listener is broken too');
    });
    gateway.append(conv.id, 'ravi', 'still delivered');
    expect(seen).toEqual(['still delivered']);
    expect(client.conversation(conv.id)!.messages).toHaveLength(1);
  });
});
