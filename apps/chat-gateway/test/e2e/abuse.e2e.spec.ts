import { waitUntil } from '@jobsphere/testing';
import { type ConversationDto, type MessageDto } from '@jobsphere/chat-domain';
import { SignJWT, UnsecuredJWT } from 'jose';
import { io } from 'socket.io-client';
import {
  TEST_JWT_SECRET,
  collect,
  connectClient,
  rest,
  tokenFor,
  type ChatClient,
  openAccepted,
} from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// Every kind of bad input is refused with its stable code, stores nothing, and the
// process stays up.
describe('auth and abuse', () => {
  let env: Environment;
  let url: string;
  let conversation: ConversationDto;
  let alice: ChatClient;
  let mallory: ChatClient;
  let aliceToken: string;

  beforeAll(async () => {
    env = await startEnvironment({ gateways: 1, env: { SOCKET_MAX_PAYLOAD_BYTES: '16384' } });
    url = env.gateways[0]!.url;
    aliceToken = await tokenFor('alice', 'recruiter');
    conversation = await openAccepted(url, aliceToken, await tokenFor('bob', 'candidate'), {
      userId: 'bob',
    });
    alice = await connectClient(url, aliceToken);
    mallory = await connectClient(url, await tokenFor('mallory', 'candidate'));
  }, 60_000);

  afterAll(async () => {
    await env?.dispose();
  });

  async function storedMessages(): Promise<MessageDto[]> {
    const history = await rest<{ messages: MessageDto[] }>(
      url,
      aliceToken,
      'GET',
      `/conversations/${conversation.id}/messages?limit=100`,
    );
    return history.body.messages;
  }

  describe('tokens', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: [string, () => Promise<string | undefined>, string][] = [
      ['missing', async () => undefined, 'missing access token'],
      ['malformed', async () => 'not.a.jwt', 'invalid access token'],
      ['expired', async () => tokenFor('alice', 'recruiter', -60), 'access token expired'],
      [
        'signed with another secret',
        async () =>
          tokenFor('alice', 'recruiter', 3600, 'another-secret-another-secret-another-secret'),
        'invalid access token',
      ],
      [
        'alg none',
        async () =>
          new UnsecuredJWT({ role: 'admin' })
            .setSubject('alice')
            .setExpirationTime(now() + 3600)
            .encode(),
        'invalid access token',
      ],
      [
        'HS512 instead of the pinned HS256',
        async () =>
          new SignJWT({ role: 'admin' })
            .setProtectedHeader({ alg: 'HS512' })
            .setSubject('alice')
            .setExpirationTime(now() + 3600)
            .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
        'invalid access token',
      ],
      [
        'an unknown role',
        async () =>
          new SignJWT({ role: 'superuser' })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('alice')
            .setExpirationTime(now() + 3600)
            .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
        'invalid token role',
      ],
      [
        'no expiry',
        async () =>
          new SignJWT({ role: 'admin' })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('alice')
            .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
        'invalid access token',
      ],
    ];

    it.each(cases)(
      'refuses a token (%s) in the handshake, before connection',
      async (_, token, message) => {
        const error = await connectClient(url, (await token()) as string).then(
          () => undefined,
          (e: Error & { data?: unknown }) => e,
        );
        expect(error?.message).toBe(message);
        expect(error?.data).toEqual({ code: 'UNAUTHORIZED', message });
      },
    );

    it.each(cases)(
      'answers 401 UNAUTHORIZED to REST for a token (%s)',
      async (_, token, message) => {
        const response = await rest(url, await token(), 'GET', '/conversations');
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ error: { code: 'UNAUTHORIZED', message } });
      },
    );

    it('warns a socket before its token expires, then disconnects it at exp', async () => {
      const shortLived = await connectClient(url, await tokenFor('alice', 'recruiter', 2));
      const warned = new Promise((resolve) => shortLived.once('auth:expiring', resolve));
      const dropped = new Promise<string>((resolve) => shortLived.once('disconnect', resolve));
      expect(await warned).toMatchObject({ graceMs: expect.any(Number) });
      expect(await dropped).toBe('io server disconnect');
    });

    it('keeps a socket that refreshes its token, and refuses another user\u2019s token', async () => {
      const socket = await connectClient(url, await tokenFor('alice', 'recruiter', 2));
      const other = await socket.emitWithAck('auth:refresh', {
        token: await tokenFor('bob', 'candidate', 3600),
      });
      expect(other).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
      const refreshed = await socket.emitWithAck('auth:refresh', {
        token: await tokenFor('alice', 'recruiter', 3600),
      });
      expect(refreshed).toMatchObject({ ok: true, data: { expiresAt: expect.any(String) } });
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(socket.connected).toBe(true);
      socket.close();
    });
  });

  describe('conversations of others', () => {
    it('refuses a non-member sending, reading history, syncing or marking read', async () => {
      const send = await mallory.emitWithAck('message:send', {
        conversationId: conversation.id,
        clientMessageId: 'x1',
        body: 'spam',
      });
      expect(send).toEqual({
        ok: false,
        error: { code: 'NOT_A_MEMBER', message: `not a member of conversation ${conversation.id}` },
      });
      const sync = await mallory.emitWithAck('sync', {
        conversations: [{ conversationId: conversation.id, afterVersion: 0 }],
      });
      expect(sync).toEqual({
        ok: true,
        data: {
          conversations: [
            {
              conversationId: conversation.id,
              messages: [],
              version: 0,
              hasMore: false,
              lastReadSeq: 0,
              error: {
                code: 'NOT_A_MEMBER',
                message: `not a member of conversation ${conversation.id}`,
              },
            },
          ],
          epoch: expect.stringMatching(/^[0-9a-f]{32}$/),
        },
      });
      const read = await mallory.emitWithAck('conversation:read', {
        conversationId: conversation.id,
        seq: 0,
      });
      expect(read).toMatchObject({ ok: false, error: { code: 'NOT_A_MEMBER' } });
      const history = await rest(
        url,
        await tokenFor('mallory'),
        'GET',
        `/conversations/${conversation.id}/messages`,
      );
      expect(history.status).toBe(404);
      expect(history.body).toMatchObject({ error: { code: 'NOT_A_MEMBER' } });
      expect(await storedMessages()).toEqual([]);
    });

    it('does not let a sender be spoofed', async () => {
      const spoof = await mallory.emitWithAck('message:send', {
        conversationId: conversation.id,
        clientMessageId: 'x2',
        body: 'hi',
        senderId: 'alice',
      } as never);
      expect(spoof).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PAYLOAD', issues: [{ path: '(root)' }] },
      });
      const own = await alice.emitWithAck('message:send', {
        conversationId: conversation.id,
        clientMessageId: 'a1',
        body: 'real',
        senderId: 'bob',
      } as never);
      expect(own).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } });
      expect(await storedMessages()).toEqual([]);
    });
  });

  describe('payloads', () => {
    it.each<[string, unknown]>([
      ['no payload', undefined],
      ['a string', 'hello'],
      ['an array', [1, 2]],
      ['a blank body', { conversationId: 'c', clientMessageId: 'b1', body: '  ' }],
      [
        'a body over 4000 characters',
        { conversationId: 'c', clientMessageId: 'b2', body: 'x'.repeat(4001) },
      ],
      [
        'an operator instead of an id',
        { conversationId: { $ne: null }, clientMessageId: 'b3', body: 'x' },
      ],
      ['a number as body', { conversationId: 'c', clientMessageId: 'b4', body: 42 }],
    ])('answers INVALID_PAYLOAD to message:send with %s', async (_, payload) => {
      const ack = await alice.timeout(5_000).emitWithAck('message:send', payload as never);
      expect(ack).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } });
    });

    it('answers a seq beyond the last message with INVALID_PAYLOAD and leaves the read state alone', async () => {
      const ack = await alice.emitWithAck('conversation:read', {
        conversationId: conversation.id,
        seq: 99,
      });
      expect(ack).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PAYLOAD', message: 'seq 99 is beyond the last message (0)' },
      });
    });

    it('answers unknown events with UNKNOWN_EVENT, by ack or by chat:error', async () => {
      const raw = alice as unknown as {
        emitWithAck(event: string, payload: unknown): Promise<unknown>;
      };
      expect(await raw.emitWithAck('admin:drop-database', {})).toEqual({
        ok: false,
        error: { code: 'UNKNOWN_EVENT', message: 'unknown event "admin:drop-database"' },
      });
      const errors = collect(alice, 'chat:error');
      (alice.emit as (e: string, p: unknown) => void)('whatever', { a: 1 });
      await waitUntil('chat:error', () => errors.length === 1, 10_000);
      expect(errors[0]).toEqual({
        event: 'whatever',
        error: { code: 'UNKNOWN_EVENT', message: 'unknown event "whatever"' },
      });
    });

    it('reports a failed send without an ack callback as chat:error', async () => {
      const errors = collect(alice, 'chat:error');
      alice.emit('message:send', { conversationId: conversation.id } as never, undefined as never);
      await waitUntil('chat:error', () => errors.length === 1, 10_000);
      expect(errors[0]).toMatchObject({
        event: 'message:send',
        error: { code: 'INVALID_PAYLOAD' },
      });
    });

    it('cuts off a socket that sends a frame over the payload cap, and keeps serving others', async () => {
      const big = await connectClient(url, await tokenFor('bob', 'candidate'));
      const dropped = new Promise<string>((resolve) => big.once('disconnect', resolve));
      big.emit(
        'message:send',
        { conversationId: conversation.id, clientMessageId: 'big', body: 'x'.repeat(100_000) },
        () => undefined,
      );
      expect(await dropped).toBe('transport close');
      expect(await storedMessages()).toEqual([]);
      expect((await rest(url, undefined, 'GET', '/health')).status).toBe(200);
    });

    it('refuses malformed and oversized REST bodies with a stable code', async () => {
      const malformed = await rest(url, aliceToken, 'POST', '/conversations', '{"kind":');
      expect(malformed.status).toBe(400);
      expect(malformed.body).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
      const huge = await rest(url, aliceToken, 'POST', '/conversations', {
        kind: 'group',
        title: 'x'.repeat(200_000),
        memberIds: ['b'],
      });
      expect(huge.status).toBe(413);
      expect(huge.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
      const candidateGroup = await rest(
        url,
        await tokenFor('cand', 'candidate'),
        'POST',
        '/conversations',
        { kind: 'group', title: 'x', memberIds: ['b'] },
      );
      expect(candidateGroup.status).toBe(403);
      const unknownRoute = await rest(url, aliceToken, 'GET', '/nope');
      expect(unknownRoute.status).toBe(404);
      expect(unknownRoute.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    });
  });

  it('is still up, with nothing stored by any of the above', async () => {
    expect(env.gateways[0]!.process.running).toBe(true);
    expect((await rest(url, undefined, 'GET', '/health')).status).toBe(200);
    expect(await storedMessages()).toEqual([]);
    expect(env.gateways[0]!.logs()).not.toContain(TEST_JWT_SECRET);
  });

  it('refuses a plain HTTP long-polling client when only websocket is enabled', async () => {
    const polling = io(url, {
      auth: { token: aliceToken },
      transports: ['polling'],
      reconnection: false,
      forceNew: true,
    });
    const error = await new Promise<Error>((resolve) => polling.once('connect_error', resolve));
    polling.close();
    expect(error.message).toMatch(/xhr poll error|websocket/i);
  });
});
