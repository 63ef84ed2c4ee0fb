import { type ConversationDto, type SearchPage } from '@jobsphere/chat-domain';
import { Device } from '../support/device.js';
import { startEnvironment, type Environment } from '../support/environment.js';
import {
  acceptInvitations,
  connectClient,
  mintTokens,
  openAccepted,
  restAs,
  type ChatClient,
} from '../support/gateway.js';

type ErrorAnswer = { error: { code: string; issues?: { path: string; message: string }[] } };

// Search over two gateway instances sharing the store: what one instance stored, the other finds;
// the rules of history (requests, blocks in groups, deletion) hold for search as well.
describe('search across two instances', () => {
  let env: Environment;
  let A: string;
  let B: string;
  const tokens: Record<string, string> = {};
  let key = 0;

  const api = restAs(tokens);
  const search = (url: string, user: string, query: Record<string, string>) =>
    api<SearchPage>(url, user, 'GET', `/search?${new URLSearchParams(query).toString()}`);
  const bodies = (page: SearchPage) => page.hits.map((h) => h.message.body);
  const send = async (socket: ChatClient, conversationId: string, body: string) => {
    const ack = await socket.emitWithAck('message:send', {
      conversationId,
      clientMessageId: `search-e2e-${++key}`,
      body,
    });
    if (!ack.ok) throw new Error(`send failed: ${ack.error.code}`);
    return ack.data.message;
  };

  beforeAll(async () => {
    env = await startEnvironment({ gateways: 2 });
    [A, B] = env.gateways.map((g) => g.url) as [string, string];
    await mintTokens(tokens, [
      ['rita', 'recruiter'],
      ['sam', 'candidate'],
      ['pia', 'candidate'],
      ['quinn', 'recruiter'],
      ['mallory', 'candidate'],
      ['stranger', 'recruiter'],
    ]);
  }, 60_000);

  afterAll(async () => {
    await env?.dispose();
  });

  it('finds every word newest first with the conversation and the ranges, pages by cursor, and forgets deleted and edited text', async () => {
    const c = await openAccepted(A, tokens.rita!, tokens.sam!, { userId: 'sam' });
    const d = await openAccepted(A, tokens.rita!, tokens.pia!, { userId: 'pia' });
    const rita = await connectClient(A, tokens.rita!);
    const sam = await connectClient(B, tokens.sam!);
    await send(rita, c.id, 'The interview is at the Café Central, Monday 10:00');
    await send(sam, c.id, 'Great, see you at the café');
    await send(rita, d.id, 'Café Central again for your interview?');
    const gone = await send(rita, c.id, 'Interview moved to the café annex');
    const changed = await send(rita, d.id, 'café interview on Tuesday');

    // Sam, on the other instance, finds only what is in Sam's conversations.
    const forSam = (await search(B, 'sam', { q: 'CAFE interview' })).body;
    expect(forSam.hits.map((h) => [h.conversationId, h.message.body])).toEqual([
      [c.id, 'Interview moved to the café annex'],
      [c.id, 'The interview is at the Café Central, Monday 10:00'],
    ]);
    // The SDK asks the same route and answers the same page.
    const samDevice = new Device('sam@B', 'sam', 'candidate', [B]);
    await samDevice.start();
    try {
      expect(await samDevice.client.search({ q: 'CAFE interview' })).toEqual(forSam);
    } finally {
      await samDevice.close();
    }
    const first = forSam.hits[1]!;
    expect(first.ranges.map((r) => first.message.body.slice(r.start, r.end))).toEqual([
      'interview',
      'Café',
    ]);

    const del = await api(A, 'rita', 'DELETE', `/conversations/${c.id}/messages/${gone.id}`);
    expect(del.status).toBe(200);
    const edit = await api(A, 'rita', 'PATCH', `/conversations/${d.id}/messages/${changed.id}`, {
      body: 'video call on Tuesday',
    });
    expect(edit.status).toBe(200);

    // Rita's two hits left, one per page, newest first, then no cursor.
    const page1 = (await search(B, 'rita', { q: 'cafe interview', limit: '1' })).body;
    expect(bodies(page1)).toEqual(['Café Central again for your interview?']);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (
      await search(A, 'rita', { q: 'cafe interview', limit: '1', cursor: page1.nextCursor! })
    ).body;
    expect(page2.nextCursor).toBeUndefined();
    expect(bodies(page2)).toEqual(['The interview is at the Café Central, Monday 10:00']);
    expect(bodies((await search(A, 'rita', { q: 'video', conversationId: d.id })).body)).toEqual([
      'video call on Tuesday',
    ]);
    expect((await search(A, 'rita', { q: 'video', conversationId: c.id })).body.hits).toEqual([]);
  }, 60_000);

  it('a request is searched by its recipient only once accepted; nothing of someone behind a block in a group', async () => {
    const opened = await api<ConversationDto>(A, 'stranger', 'POST', '/conversations', {
      kind: 'direct',
      userId: 'quinn',
    });
    const strangerSocket = await connectClient(A, tokens.stranger!);
    await send(strangerSocket, opened.body.id, 'Exclusive opportunity for you');
    await send(strangerSocket, opened.body.id, 'Or call me at +1 415 555 0100');
    expect((await search(B, 'quinn', { q: 'opportunity' })).body.hits).toEqual([]);
    expect(
      (await search(B, 'quinn', { q: 'opportunity', conversationId: opened.body.id })).body.hits,
    ).toEqual([]);
    // The opener finds their own words.
    expect(bodies((await search(B, 'stranger', { q: 'opportunity' })).body)).toEqual([
      'Exclusive opportunity for you',
    ]);
    expect((await api(B, 'quinn', 'POST', `/conversations/${opened.body.id}/accept`)).status).toBe(
      200,
    );
    expect(bodies((await search(B, 'quinn', { q: 'opportunity' })).body)).toEqual([
      'Exclusive opportunity for you',
    ]);
    // A phone number the content policy masked for the recipient of the request: its sender
    // finds it by its digits, the recipient does not (they never saw them), also once accepted.
    expect((await search(B, 'quinn', { q: '0100' })).body.hits).toEqual([]);
    expect(bodies((await search(A, 'stranger', { q: '0100' })).body)).toEqual([
      'Or call me at +1 415 555 0100',
    ]);

    const group = await api<ConversationDto>(A, 'quinn', 'POST', '/conversations', {
      kind: 'group',
      title: 'Panel',
      memberIds: ['pia', 'mallory'],
    });
    await acceptInvitations(B, group.body.id, [tokens.pia!, tokens.mallory!]);
    await send(
      await connectClient(B, tokens.mallory!),
      group.body.id,
      'panel feedback from mallory',
    );
    await send(await connectClient(A, tokens.quinn!), group.body.id, 'panel feedback from quinn');
    expect((await api(A, 'pia', 'PUT', '/users/mallory/block')).status).toBe(200);
    expect(bodies((await search(B, 'pia', { q: 'panel feedback' })).body)).toEqual([
      'panel feedback from quinn',
    ]);
    // Quinn blocked nobody: both.
    expect(bodies((await search(B, 'quinn', { q: 'feedback' })).body)).toHaveLength(2);
  }, 60_000);

  it('regular-expression characters, too many words, a long query and a foreign conversation are refused clearly', async () => {
    for (const q of ['.*', 'interview|cafe', '^a', '(x)', 'a\\b', '[abc]']) {
      const answer = await api<ErrorAnswer>(A, 'rita', 'GET', `/search?q=${encodeURIComponent(q)}`);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('INVALID_PAYLOAD');
      expect(answer.body.error.issues?.[0]?.path).toBe('q');
    }
    const many = await search(A, 'rita', { q: 'a b c d e f g h i' });
    expect(many.status).toBe(400);
    const long = await search(A, 'rita', { q: 'x'.repeat(201) });
    expect(long.status).toBe(400);
    // A query far past the cap (8 KB in the URL) is refused the same way.
    const huge = await search(A, 'rita', { q: 'interview '.repeat(800) });
    expect(huge.status).toBe(400);
    expect((huge.body as unknown as ErrorAnswer).error.code).toBe('INVALID_PAYLOAD');
    const empty = await search(A, 'rita', { q: '!!!' });
    expect(empty.status).toBe(400);
    const big = await search(A, 'rita', { q: 'x', limit: '51' });
    expect(big.status).toBe(400);
    const bad = await search(A, 'rita', { q: 'x', cursor: 'not-a-cursor' });
    expect(bad.status).toBe(400);

    const theirs = await openAccepted(A, tokens.quinn!, tokens.pia!, { userId: 'pia' });
    const foreign = await search(A, 'rita', { q: 'x', conversationId: theirs.id });
    expect(foreign.status).toBe(404);
    expect((foreign.body as unknown as ErrorAnswer).error.code).toBe('NOT_A_MEMBER');
    // 1 MB in the URL: Node's HTTP parser refuses the request line before any route runs (its
    // 16 KB header cap), and the instance goes on answering.
    const mega = await search(A, 'rita', { q: 'a'.repeat(1 << 20) });
    expect(mega.status).toBe(431);
    expect((await search(A, 'rita', { q: 'interview' })).status).toBe(200);
  }, 60_000);
});
