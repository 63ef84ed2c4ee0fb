import { waitUntil } from '@jobsphere/testing';
import {
  type Ack,
  type ConversationDto,
  type MessageDto,
  type SendResult,
} from '@jobsphere/chat-domain';
import {
  acceptInvitations,
  collect,
  connectClient,
  rest,
  tokenFor,
  type ChatClient,
} from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// Replies, reactions and mentions (issue 26 items 1-3) on two instances sharing Redis and the
// store: live to the members on the other instance, and recovered by a device that was away.
describe('replies, reactions and mentions across two instances', () => {
  let env: Environment;
  let panel: ConversationDto;
  let other: ConversationDto;
  let t: Record<'rita' | 'sam' | 'tom', string>;
  let serial = 0;

  beforeAll(async () => {
    env = await startEnvironment({
      env: {
        RATE_LIMIT_REST_PER_MIN: '1000',
        RATE_LIMIT_SEND_PER_10S: '1000',
        RATE_LIMIT_SYNC_PER_MIN: '1000',
        // The hostile case sends 10,000 reactions on one socket per instance: the reaction
        // budget must answer them, not the flood guard.
        SOCKET_MAX_PACKETS_PER_10S: '30000',
      },
    });
    t = {
      rita: await tokenFor('rita', 'recruiter'),
      sam: await tokenFor('sam', 'candidate'),
      tom: await tokenFor('tom', 'recruiter'),
    };
    const url = env.gateways[0]!.url;
    const group = async (title: string, memberIds: string[], tokens: string[]) => {
      const created = await rest<ConversationDto>(url, t.rita, 'POST', '/conversations', {
        kind: 'group',
        title,
        memberIds,
      });
      await acceptInvitations(url, created.body.id, tokens);
      return created.body;
    };
    panel = await group('Panel', ['sam', 'tom'], [t.sam, t.tom]);
    other = await group('Other', ['tom'], [t.tom]);
  }, 60_000);

  afterAll(async () => {
    await env?.dispose();
  });

  const send = async (
    socket: ChatClient,
    input: { conversationId: string; body: string; replyTo?: string; mentions?: string[] },
  ) =>
    await socket.emitWithAck('message:send', {
      clientMessageId: `rr-${++serial}`,
      ...input,
    });
  const sent = (ack: Ack<SendResult>) => {
    if (!ack.ok) throw new Error(`send refused: ${ack.error.code} ${ack.error.message}`);
    return ack.data.message;
  };
  const versionOf = async (token: string, id: string) =>
    (await rest<ConversationDto>(env.gateways[0]!.url, token, 'GET', `/conversations/${id}`)).body;
  const syncFrom = async (socket: ChatClient, conversationId: string, afterVersion: number) => {
    const ack = await socket.emitWithAck('sync', {
      conversations: [{ conversationId, afterVersion }],
    });
    if (!ack.ok) throw new Error(ack.error.code);
    return ack.data.conversations[0]!.messages;
  };

  it('replies live on the other instance; an offline device syncs the quote as edited; another conversation\u2019s message is refused', async () => {
    const [A, B] = env.gateways;
    const rita = await connectClient(A!.url, t.rita);
    const tom = await connectClient(B!.url, t.tom);
    const samOnB = await connectClient(B!.url, t.sam);
    const live = collect(samOnB, 'message:new');
    const updates = collect(samOnB, 'message:updated');
    // Sam's phone is away from here on; it holds the conversation up to this version.
    const away = (await versionOf(t.sam, panel.id)).version;

    const question = sent(await send(rita, { conversationId: panel.id, body: 'Interview at 10?' }));
    const reply = sent(
      await send(tom, { conversationId: panel.id, body: 'Works for me', replyTo: question.id }),
    );
    expect(reply.replyTo).toEqual({
      id: question.id,
      seq: question.seq,
      senderId: 'rita',
      body: 'Interview at 10?',
    });
    await waitUntil('the reply, live', () => live.some((m) => m.id === reply.id), 10_000);
    expect(live.find((m) => m.id === reply.id)?.replyTo?.body).toBe('Interview at 10?');

    const edited = await rita.emitWithAck('message:edit', {
      conversationId: panel.id,
      messageId: question.id,
      body: 'Interview at 11?',
    });
    expect(edited.ok).toBe(true);
    await waitUntil('the edit, live', () => updates.some((m) => m.id === question.id), 10_000);

    // Hostile: quoting a message of a conversation Sam is not in is refused, and stores nothing.
    const foreign = sent(await send(tom, { conversationId: other.id, body: 'private' }));
    const refused = await send(rita, {
      conversationId: panel.id,
      body: 'leak?',
      replyTo: foreign.id,
    });
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_PAYLOAD',
        issues: [{ path: 'replyTo', message: 'no such message in this conversation' }],
      },
    });

    const phone = await connectClient(A!.url, t.sam);
    const missed = await syncFrom(phone, panel.id, away);
    expect(missed.map((m) => [m.body, m.replyTo?.body])).toEqual([
      ['Works for me', 'Interview at 11?'],
      ['Interview at 11?', undefined],
    ]);
    expect(missed.some((m) => m.body === 'leak?')).toBe(false);
  });

  it('reactions: live with counts on the other instance, "mine" for the reactor, recovered by sync', async () => {
    const [A, B] = env.gateways;
    const rita = await connectClient(A!.url, t.rita);
    const samOnB = await connectClient(B!.url, t.sam);
    const reacted = collect(samOnB, 'message:reacted');
    const message = sent(await send(samOnB, { conversationId: panel.id, body: 'CV attached' }));
    const away = (await versionOf(t.tom, panel.id)).version;

    const on = await rita.emitWithAck('message:react', {
      conversationId: panel.id,
      messageId: message.id,
      emoji: '👍',
      on: true,
    });
    expect(on).toMatchObject({
      ok: true,
      data: { reactions: [{ emoji: '👍', count: 1, mine: true }] },
    });
    await waitUntil('the reaction, live', () => reacted.length === 1, 10_000);
    expect(reacted[0]).toMatchObject({
      userId: 'rita',
      emoji: '👍',
      on: true,
      message: { id: message.id, reactions: [{ emoji: '👍', count: 1 }] },
    });
    // Repeating is harmless and tells nobody (a later message is the marker).
    expect(
      await rita.emitWithAck('message:react', {
        conversationId: panel.id,
        messageId: message.id,
        emoji: '👍',
        on: true,
      }),
    ).toMatchObject({ ok: true });
    // Nothing else arrived: a later message is the marker (a socket receives in order).
    const samNew = collect(samOnB, 'message:new');
    const marker = sent(await send(rita, { conversationId: panel.id, body: 'marker' }));
    await waitUntil('the marker', () => samNew.some((m) => m.id === marker.id), 10_000);
    expect(reacted).toHaveLength(1);
    // Over REST too, on the other instance.
    const viaRest = await rest<MessageDto>(
      B!.url,
      t.sam,
      'POST',
      `/conversations/${panel.id}/messages/${message.id}/reactions`,
      { emoji: '🎉', on: true },
    );
    expect(viaRest).toMatchObject({
      status: 200,
      body: {
        reactions: [
          { emoji: '👍', count: 1 },
          { emoji: '🎉', count: 1, mine: true },
        ],
      },
    });

    // Tom's device was away: sync brings the message back with both reactions.
    const tom = await connectClient(A!.url, t.tom);
    const missed = await syncFrom(tom, panel.id, away);
    expect(missed.find((m) => m.id === message.id)?.reactions).toEqual([
      { emoji: '👍', count: 1 },
      { emoji: '🎉', count: 1 },
    ]);
  });

  it('reacting 10,000 times is held to the shared budget over both instances', async () => {
    const [A, B] = env.gateways;
    const target = sent(
      await send(await connectClient(A!.url, t.rita), { conversationId: panel.id, body: 'react' }),
    );
    const before = (await versionOf(t.sam, panel.id)).version;
    const sockets = [await connectClient(A!.url, t.sam), await connectClient(B!.url, t.sam)];
    const codes = new Map<string, number>();
    let applied = 0;
    // One at a time, alternating instances, toggling so every admitted one is a change.
    for (let i = 0; i < 10_000; i++) {
      const ack = await sockets[i % 2]!.emitWithAck('message:react', {
        conversationId: panel.id,
        messageId: target.id,
        emoji: '❤️',
        on: applied % 2 === 0,
      });
      const code = ack.ok ? 'OK' : ack.error.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (ack.ok) applied++;
    }
    const after = (await versionOf(t.sam, panel.id)).version;
    console.log(
      `[figure] 10,000 reactions of one user over two instances: ${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')}; the conversation's version moved by ${after - before}`,
    );
    // RATE_LIMIT_REACT_PER_MIN (60), shared: at most one more per instance in flight.
    expect(applied).toBeGreaterThanOrEqual(60);
    expect(applied).toBeLessThanOrEqual(62);
    expect(codes.get('RATE_LIMITED')).toBe(10_000 - applied);
    expect(after - before).toBe(applied);
  }, 180_000);

  it('mentions: kept for members only, counted beside unread on every device, told live, reset by reading', async () => {
    const [A, B] = env.gateways;
    const rita = await connectClient(A!.url, t.rita);
    const samOnA = await connectClient(A!.url, t.sam);
    const samOnB = await connectClient(B!.url, t.sam);
    const tom = await connectClient(B!.url, t.tom);
    const samMentionsA = collect(samOnA, 'mention:new');
    const samMentionsB = collect(samOnB, 'mention:new');
    const tomMentions = collect(tom, 'mention:new');
    const tomNew = collect(tom, 'message:new');
    await samOnA.emitWithAck('conversation:read', {
      conversationId: panel.id,
      seq: (await versionOf(t.sam, panel.id)).lastSeq,
    });
    const away = (await versionOf(t.sam, panel.id)).version;

    // Hostile: a non-member and the sender are dropped, not stored.
    const mention = sent(
      await send(rita, {
        conversationId: panel.id,
        body: '@sam please confirm',
        mentions: ['sam', 'mallory', 'rita'],
      }),
    );
    expect(mention.mentions).toEqual(['sam']);
    await waitUntil(
      'the mention on both of Sam\u2019s devices',
      () => samMentionsA.length === 1 && samMentionsB.length === 1,
      10_000,
    );
    expect(samMentionsB[0]).toEqual({
      conversationId: panel.id,
      messageId: mention.id,
      seq: mention.seq,
      senderId: 'rita',
    });
    const marker = sent(await send(rita, { conversationId: panel.id, body: 'marker' }));
    await waitUntil('the marker at Tom', () => tomNew.some((m) => m.id === marker.id), 10_000);
    expect(tomMentions).toEqual([]);

    const samView = await rest<ConversationDto>(B!.url, t.sam, 'GET', `/conversations/${panel.id}`);
    expect(samView.body).toMatchObject({ unreadCount: 2, mentionCount: 1 });
    const tomView = await rest<ConversationDto>(A!.url, t.tom, 'GET', `/conversations/${panel.id}`);
    expect(tomView.body.mentionCount).toBe(0);

    // A device that was away gets the mention as ids from sync.
    const phone = await connectClient(A!.url, t.sam);
    const missed = await syncFrom(phone, panel.id, away);
    expect(missed.find((m) => m.id === mention.id)?.mentions).toEqual(['sam']);

    await samOnB.emitWithAck('conversation:read', { conversationId: panel.id, seq: marker.seq });
    const read = await rest<ConversationDto>(A!.url, t.sam, 'GET', `/conversations/${panel.id}`);
    expect(read.body).toMatchObject({ unreadCount: 0, mentionCount: 0 });
  });
});
