import { createChat, localModerationGate, type Principal } from '@jobsphere/chat-domain';
import { MemoryChatStore } from '@jobsphere/chat-domain/memory';
import { startMongo, type MongoHandle } from '@jobsphere/testing';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';

interface Command {
  name: string;
  started: number;
  ended?: number;
}

/** The longest chain of commands where each one starts after the one before it answered. */
function sequentialDepth(commands: Command[]): number {
  const sorted = [...commands].sort((a, b) => a.started - b.started);
  const depth: number[] = [];
  sorted.forEach((c, i) => {
    depth[i] = 1;
    for (let j = 0; j < i; j++) {
      if (sorted[j]!.ended! <= c.started) depth[i] = Math.max(depth[i], depth[j]! + 1);
    }
  });
  return Math.max(0, ...depth);
}

// On DocumentDB every round trip is milliseconds: the number of commands a send costs, and how
// many of them wait for each other, is the ack latency. Counted with the driver's own command
// monitoring, so a change that adds one fails here.
/**
 * Bans and slow mode as the gateway's gate answers them on a send: from Redis (a GET and one
 * script), not from the store. Nobody here is restricted; the store's part is what is counted.
 */
function cachedGate() {
  const clock = { now: () => new Date() };
  return localModerationGate(new MemoryChatStore(), clock);
}

describe('MongoDB round trips of one send', () => {
  let mongo: MongoHandle;
  let store: MongoChatStore;
  let commands: Command[] = [];
  const alice: Principal = { userId: 'alice', role: 'recruiter' };

  beforeAll(async () => {
    mongo = await startMongo();
    console.log(`round-trip backend: ${mongo.description}`);
    store = await MongoChatStore.connect({ uri: mongo.uri, monitorCommands: true });
    const client = store.connection.getClient();
    const open = new Map<number, Command>();
    client.on('commandStarted', (e) => {
      const command = { name: e.commandName, started: performance.now() };
      open.set(e.requestId, command);
      commands.push(command);
    });
    const end = (e: { requestId: number }) => {
      const command = open.get(e.requestId);
      if (command) command.ended = performance.now();
      open.delete(e.requestId);
    };
    client.on('commandSucceeded', end);
    client.on('commandFailed', end);
  });

  afterAll(async () => {
    await store?.close();
    await mongo?.stop();
  });

  it('costs 3 commands, 2 of them sequential, for a member\u2019s first attempt; a retry costs a lookup more', async () => {
    const chat = createChat({
      store,
      fanout: { toUsers: () => undefined },
      clock: { now: () => new Date() },
      moderation: cachedGate(),
    });
    const { conversation } = await chat.openConversation(alice, { kind: 'direct', userId: 'bob' });
    await chat.send(alice, {
      conversationId: conversation.id,
      clientMessageId: 'warm',
      body: 'hi',
    });

    commands = [];
    await chat.send(alice, {
      conversationId: conversation.id,
      clientMessageId: 'm1',
      body: 'hello',
    });
    const first = {
      count: commands.length,
      depth: sequentialDepth(commands),
      names: commands.map((c) => c.name),
    };

    commands = [];
    const repeat = await chat.send(alice, {
      conversationId: conversation.id,
      clientMessageId: 'm1',
      body: 'hello',
    });
    const retry = { count: commands.length, depth: sequentialDepth(commands) };
    console.log(
      `[figure] send on MongoDB: first attempt ${first.count} commands, ${first.depth} sequential (${first.names.join(', ')}); ` +
        `a repeated clientMessageId ${retry.count} commands, ${retry.depth} sequential`,
    );
    expect(first.count).toBeLessThanOrEqual(3);
    expect(first.depth).toBeLessThanOrEqual(2);
    expect(first.names[0]).toBe('findAndModify');
    expect(repeat.duplicate).toBe(true);
    expect(retry.depth).toBeLessThanOrEqual(2);
  });

  it('costs the response-time figures 1 command for a candidate’s message, 3 for an answer and 1 for a recruiter’s other message, none before the store', async () => {
    const writes: Promise<void>[] = [];
    const chatWith = (figures: boolean) =>
      createChat({
        store,
        fanout: { toUsers: () => undefined },
        clock: { now: () => new Date() },
        moderation: cachedGate(),
        ...(figures && { responseTimes: { track: (w: Promise<void>) => writes.push(w) } }),
      });
    const candidate: Principal = { userId: 'cora', role: 'candidate' };
    const recruiter: Principal = { userId: 'rex', role: 'recruiter', companyId: 'acme' };
    /** A candidate's message, the recruiter's answer, the recruiter's second message. */
    const exchange = async (figures: boolean) => {
      const chat = chatWith(figures);
      const { conversation } = await chat.openConversation(recruiter, {
        kind: 'direct',
        userId: `${candidate.userId}-${figures}`,
      });
      const asked: Principal = { ...candidate, userId: `${candidate.userId}-${figures}` };
      await chat.answerRequest(asked, conversation.id, 'accept');
      await chat.send(asked, {
        conversationId: conversation.id,
        clientMessageId: 'warm',
        body: 'hi',
      });
      await chat.send(recruiter, {
        conversationId: conversation.id,
        clientMessageId: 'warm',
        body: 'hi',
      });
      await Promise.all(writes);
      const one = async (p: Principal, key: string) => {
        commands = [];
        await chat.send(p, { conversationId: conversation.id, clientMessageId: key, body: 'hi' });
        await Promise.all(writes);
        return { count: commands.length, names: commands.map((c) => c.name) };
      };
      return {
        candidate: await one(asked, 'q'),
        answer: await one(recruiter, 'a'),
        other: await one(recruiter, 'b'),
      };
    };
    const without = await exchange(false);
    const withFigures = await exchange(true);
    const extra = (k: keyof typeof without) => ({
      count: withFigures[k].count - without[k].count,
      names: withFigures[k].names.slice(without[k].names.length),
    });
    console.log(
      `[figure] response-time figures per send on MongoDB: candidate's message +${extra('candidate').count} (${extra('candidate').names.join(', ')}); ` +
        `recruiter's answer +${extra('answer').count} (${extra('answer').names.join(', ')}); ` +
        `recruiter's message with nothing waiting +${extra('other').count} (${extra('other').names.join(', ')}); ` +
        `sends without figures: ${without.candidate.count}, ${without.answer.count}, ${without.other.count} commands`,
    );
    expect(extra('candidate').count).toBe(1);
    expect(extra('answer').count).toBe(3);
    expect(extra('other').count).toBe(1);
    // The send's own commands come first (the figures start once the message is stored).
    for (const k of ['candidate', 'answer', 'other'] as const)
      expect(withFigures[k].names.slice(0, without[k].count)).toEqual(without[k].names);
    const figures = await store.responseTimes.conversation(
      (await chatWith(false).listConversations(recruiter, { limit: 5 })).conversations.find((c) =>
        c.members.some((m) => m.userId === 'cora-true'),
      )!.id,
    );
    expect(figures).toMatchObject({ answers: 2 });
  });

  it('keeps a send with a reply and a mention at the round trips of a plain send (the target read beside the first)', async () => {
    const chat = createChat({
      store,
      fanout: { toUsers: () => undefined },
      clock: { now: () => new Date() },
      moderation: cachedGate(),
    });
    const { conversation } = await chat.openConversation(alice, {
      kind: 'group',
      title: 'Panel',
      memberIds: ['bob', 'carol'],
    });
    for (const userId of ['bob', 'carol'])
      await chat.answerRequest({ userId, role: 'recruiter' }, conversation.id, 'accept');
    const measure = async (run: () => Promise<unknown>) => {
      commands = [];
      const result = await run();
      const names = commands.map((c) => c.name);
      return { result, count: commands.length, depth: sequentialDepth(commands), names };
    };
    const send = (clientMessageId: string, extra: object = {}) =>
      chat.send(alice, { conversationId: conversation.id, clientMessageId, body: 'hi', ...extra });
    await send('warm');
    const plain = await measure(() => send('plain'));
    const quoted = plain.result as Awaited<ReturnType<typeof send>>;
    const full = await measure(() =>
      send('reply', { replyTo: quoted.message.id, mentions: ['bob', 'mallory'] }),
    );
    // The store's part alone: the append with its reply and mention.
    const append = await measure(() =>
      store.messages.append({
        conversationId: conversation.id,
        senderId: 'alice',
        clientMessageId: 'append-only',
        body: 'hi',
        createdAt: new Date(),
        replyTo: quoted.message.id,
        mentions: ['carol'],
      }),
    );
    const line = (m: typeof plain) =>
      `${m.count} commands, ${m.depth} sequential (${m.names.join(', ')})`;
    console.log(
      `[figure] group send on MongoDB: plain ${line(plain)}; with a reply and a mention ${line(full)}; ` +
        `the store's append with a reply and a mention ${line(append)}`,
    );
    const reply = full.result as Awaited<ReturnType<typeof send>>;
    expect(reply.message.replyTo).toMatchObject({ id: quoted.message.id, body: 'hi' });
    expect(reply.message.mentions).toEqual(['bob']);
    expect(append.depth).toBe(2);
    expect(full.depth).toBe(plain.depth);
    expect(full.count).toBe(plain.count + 1);
  });

  it('gives concurrent sends shared insert and update commands, each send still answered on its own', async () => {
    const chat = createChat({
      store,
      fanout: { toUsers: () => undefined },
      clock: { now: () => new Date() },
      moderation: cachedGate(),
    });
    const opened = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        chat.openConversation(alice, { kind: 'direct', userId: `peer-${i}` }),
      ),
    );
    const ids = opened.map((o) => o.conversation.id);
    commands = [];
    // 30 sends at once over 10 conversations, and one clientMessageId sent twice at once.
    const sends = [
      ...Array.from({ length: 30 }, (_, i) => ({
        conversationId: ids[i % ids.length]!,
        clientMessageId: `burst-${i}`,
        body: `burst ${i}`,
      })),
      { conversationId: ids[0]!, clientMessageId: 'burst-0', body: 'burst 0' },
    ];
    const results = await Promise.all(sends.map((input) => chat.send(alice, input)));
    const count = (name: string) => commands.filter((c) => c.name === name).length;
    console.log(
      `[figure] 31 concurrent sends on MongoDB: ${count('findAndModify')} findAndModify, ${count('insert')} insert, ${count('update')} update commands`,
    );
    expect(count('insert')).toBeLessThan(30);
    expect(count('update')).toBeLessThan(30);
    // One of the two attempts at burst-0 stored it, the other answers that same message.
    const burst0 = results.filter((r) => r.message.clientMessageId === 'burst-0');
    expect(burst0.map((r) => r.duplicate).sort()).toEqual([false, true]);
    expect(burst0[0]!.message.id).toBe(burst0[1]!.message.id);
    // Every conversation has its three messages, seq 1..3, and its preview names the newest.
    for (const id of ids) {
      const page = await chat.history(alice, id, { limit: 10 });
      expect(page.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
      const [conversation] = (
        await chat.listConversations(alice, { limit: 20 })
      ).conversations.filter((c) => c.id === id);
      expect(conversation?.lastMessage?.seq).toBe(3);
      expect(conversation?.unreadCount).toBe(0);
    }
  });
});
