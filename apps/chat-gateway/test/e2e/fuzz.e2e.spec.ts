import fc from 'fast-check';
import {
  CLIENT_EVENTS,
  ErrorCode,
  type ConversationDto,
  type ConversationList,
} from '@jobsphere/chat-domain';
import { type Socket } from 'socket.io-client';
import {
  connectClient,
  rest,
  startGatewayProcess,
  tokenFor,
  type ChatClient,
  type GatewayProcess,
  openAccepted,
} from '../support/gateway.js';

const STABLE_CODES = new Set<string>(Object.values(ErrorCode));
const SOCKET_RUNS = 1_100; // per event: 7 events
const REST_RUNS = 600; // per route: 5 routes
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2_147_483_647);

/** Values no schema expects: wrong types, operators, prototype keys, odd Unicode, deep nesting. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3, withObjectString: true, withNullPrototype: true }),
  fc.constantFrom(
    null,
    true,
    -0,
    1e308,
    -1,
    2 ** 53,
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\u202e\u2066evil',
    '\u200b\u200b',
    '😀'.repeat(3000),
    'x'.repeat(20_000),
    { $gt: '' },
    { $where: 'sleep(1000)' },
    { $ne: null },
    JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
    { constructor: { prototype: { polluted: true } } },
    ['a', 'b'],
    [[[[[[[[[[[]]]]]]]]]]],
  ),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.integer().map((depth) => {
    let nested: unknown = 'deep';
    for (let i = 0; i < 200 + (Math.abs(depth) % 800); i++) nested = [nested];
    return nested;
  }),
);

/** A payload shaped like `template` with one field replaced or added, or a whole nasty value. */
function mutate(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(template);
  return fc.oneof(
    nasty,
    fc
      .tuple(fc.constantFrom(...keys, '__proto__', 'senderId', '$where', 'extra'), nasty)
      .map(([key, value]) => {
        const copy: Record<string, unknown> = { ...template };
        Object.defineProperty(copy, key, {
          value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
        return copy;
      }),
  );
}

// Every socket event and REST route fed generated garbage by a signed-in user: every request
// is answered with a stable code, nothing is stored, and the process neither crashes nor logs
// an unexpected error. (Set FUZZ_SEED to replay a run.)
describe('fuzzing every event and route', () => {
  let gateway: GatewayProcess;
  let fuzzer: string;
  let foreign: ConversationDto;
  let mine: ConversationDto;
  let socket: ChatClient;

  beforeAll(async () => {
    gateway = await startGatewayProcess({
      SOCKET_MAX_PACKETS_PER_10S: '1000000',
      ...Object.fromEntries(
        [
          'SEND_PER_10S',
          'TYPING_PER_10S',
          'SYNC_PER_MIN',
          'READ_PER_MIN',
          'PRESENCE_PER_MIN',
          'REFRESH_PER_MIN',
          'REST_PER_MIN',
          'CONVERSATIONS_PER_HOUR',
          'REVISE_PER_MIN',
          'ANSWER_PER_MIN',
          'BLOCK_PER_HOUR',
          'REPORT_PER_HOUR',
        ].map((name) => [`RATE_LIMIT_${name}`, '1000000']),
      ),
    });
    const alice = await tokenFor('alice', 'recruiter');
    fuzzer = await tokenFor('fuzzer', 'candidate');
    foreign = (
      await rest<ConversationDto>(gateway.url, alice, 'POST', '/conversations', {
        kind: 'direct',
        userId: 'bob',
      })
    ).body;
    mine = await openAccepted(gateway.url, alice, fuzzer, { userId: 'fuzzer' });
    socket = await connectClient(gateway.url, fuzzer);
  }, 30_000);

  afterAll(async () => {
    socket?.close();
    await gateway?.process.dispose();
  });

  it('answers 10,000+ generated requests with stable codes, stores nothing and stays up', async () => {
    const started = Date.now();
    let count = 0;
    const raw = socket as unknown as Socket;
    // Targets where even a well-formed request can store nothing: a conversation the fuzzer
    // is not in, an id that does not exist, or (for reads) its own conversation.
    const target = fc.constantFrom(foreign.id, '000000000000000000000000', 'no-such-id');
    const templates: Record<(typeof CLIENT_EVENTS)[number], fc.Arbitrary<unknown>> = {
      'message:send': target.chain((conversationId) =>
        mutate({ conversationId, clientMessageId: 'fz', body: 'hello' }),
      ),
      sync: mutate({ conversations: [{ conversationId: mine.id, afterVersion: 0 }], limit: 5 }),
      'conversation:read': target.chain((conversationId) => mutate({ conversationId, seq: 0 })),
      'conversation:delivered': target.chain((conversationId) =>
        mutate({ positions: [{ conversationId, seq: 1 }] }),
      ),
      'settings:update': mutate({ receipts: true }),
      'conversation:organise': target.chain((conversationId) =>
        mutate({ conversationId, muted: true }),
      ),
      'typing:start': target.chain((conversationId) => mutate({ conversationId })),
      'typing:stop': mutate({ conversationId: mine.id }),
      'presence:query': mutate({ userIds: ['alice'] }),
      'auth:refresh': mutate({ token: 'e30.e30.sig' }),
      'message:edit': target.chain((conversationId) =>
        mutate({ conversationId, messageId: 'm1', body: 'edited' }),
      ),
      'message:delete': target.chain((conversationId) =>
        mutate({ conversationId, messageId: 'm1' }),
      ),
      'message:react': target.chain((conversationId) =>
        mutate({ conversationId, messageId: 'm1', emoji: '👍', on: true }),
      ),
      'message:action': target.chain((conversationId) =>
        mutate({ conversationId, messageId: 'm1', actionId: 'yes' }),
      ),
      'conversation:accept': target.chain((conversationId) => mutate({ conversationId })),
      'conversation:decline': target.chain((conversationId) => mutate({ conversationId })),
      // Not its conversations: leaving is refused, whatever the mutation names as heir.
      'conversation:leave': target.chain((conversationId) =>
        mutate({ conversationId, handOverTo: 'alice' }),
      ),
      // Oneself: refused as it stands; a mutation can at most block a stranger, storing no message.
      'user:block': mutate({ userId: 'fuzzer' }),
      'user:unblock': mutate({ userId: 'alice' }),
    };
    for (const event of CLIENT_EVENTS) {
      await fc.assert(
        fc.asyncProperty(templates[event], async (payload) => {
          count++;
          const ack = (await raw.timeout(5_000).emitWithAck(event, payload)) as {
            ok: boolean;
            error?: { code: string };
          };
          if (ack.ok) return;
          expect(STABLE_CODES.has(ack.error!.code)).toBe(true);
          expect(ack.error!.code).not.toBe('INTERNAL');
        }),
        { numRuns: SOCKET_RUNS, seed: SEED },
      );
    }

    const call = async (method: string, path: string, body?: unknown) => {
      count++;
      const response = await fetch(gateway.url + path, {
        method,
        headers: {
          authorization: `Bearer ${fuzzer}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) ?? 'null' }),
      });
      const answer = (await response.json()) as { error?: { code: string } };
      if (response.status < 300) return;
      // 405: a generated id that empties its segment lands on the list route beside it.
      expect([400, 401, 404, 405, 413, 415, 429]).toContain(response.status);
      expect(STABLE_CODES.has(answer.error!.code)).toBe(true);
    };
    const segment = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constantFrom('..', '%00', '%2e%2e', '$where', foreign.id),
    );
    const query = fc.dictionary(
      fc.constantFrom('limit', 'cursor', 'before', 'after', '__proto__', 'x'),
      fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), fc.constant('1e999')),
    );
    const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();
    const routes: fc.Arbitrary<() => Promise<void>>[] = [
      // No kind exists but direct and group: one mutation cannot make this body valid.
      mutate({ kind: 'channel', userId: 'carol', title: 'x', memberIds: ['carol'] }).map(
        (b) => () => call('POST', '/conversations', b),
      ),
      query.map((q) => () => call('GET', `/conversations?${qs(q)}`)),
      segment.map((id) => () => call('GET', `/conversations/${encodeURIComponent(id)}`)),
      fc.tuple(fc.constantFrom(foreign.id, 'nope'), query).map(
        ([id, q]) =>
          () =>
            call('GET', `/conversations/${id}/messages?${qs(q)}`),
      ),
      fc.tuple(fc.constantFrom(foreign.id, mine.id, 'nope'), mutate({ seq: 'not-a-number' })).map(
        ([id, b]) =>
          () =>
            call('POST', `/conversations/${id}/read`, b),
      ),
      fc.tuple(fc.constantFrom(foreign.id, 'nope'), segment, mutate({ body: 7 })).map(
        ([id, messageId, b]) =>
          () =>
            call('PATCH', `/conversations/${id}/messages/${encodeURIComponent(messageId)}`, b),
      ),
      mutate({ conversationId: foreign.id, reason: 'nonsense' }).map(
        (b) => () => call('POST', '/reports', b),
      ),
    ];
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(route, (run) => run()),
        { numRuns: REST_RUNS, seed: SEED },
      );
    }

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`[figure] fuzz: ${count} generated requests in ${seconds} s (seed ${SEED})`);
    expect(count).toBeGreaterThanOrEqual(10_000);
    // Nothing was stored: the fuzzer's conversations are the one it was given, still empty.
    const list = await rest<ConversationList>(gateway.url, fuzzer, 'GET', '/conversations');
    expect(list.body.conversations.map((c) => [c.id, c.lastSeq])).toEqual([[mine.id, 0]]);
    const alice = await tokenFor('alice', 'recruiter');
    const theirs = await rest<ConversationDto>(
      gateway.url,
      alice,
      'GET',
      `/conversations/${foreign.id}`,
    );
    expect(theirs.body.lastSeq).toBe(0);
    // Still up, still answering, and never surprised.
    expect(socket.connected).toBe(true);
    expect((await rest(gateway.url, undefined, 'GET', '/health/live')).status).toBe(200);
    expect(gateway.process.running).toBe(true);
    expect(gateway.logs()).not.toMatch(/Unhandled|ERROR|internal error/i);
  }, 120_000);
});
