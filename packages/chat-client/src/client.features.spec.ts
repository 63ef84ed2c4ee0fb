import { connected, gateway, useFakeGateway } from '../test/support/harness.js';
import type { ChatClient } from './index.js';

// Replies, reactions and mentions in the SDK, on the fake gateway's clock: nothing waits real time.
useFakeGateway();

describe('replies, reactions and mentions', () => {
  it('sends a reply with mentions; the mentioned member is told and counts it until reading', async () => {
    const conv = gateway.open(['ana', 'ravi', 'lee']);
    const ana = await connected('ana');
    const ravi = await connected('ravi');
    const lee = await connected('lee');
    const question = gateway.append(conv.id, 'lee', 'interview at 10?');
    await gateway.advance(0);
    const told: string[] = [];
    ravi.on('mention', ({ messageId }) => told.push(messageId));
    ana.send(conv.id, '@ravi can you?', { replyTo: question.id, mentions: ['ravi', 'nobody'] });
    await gateway.advance(0);
    const sent = gateway.requests.find(([event]) => event === 'message:send')?.[1];
    expect(sent).toMatchObject({ replyTo: question.id, mentions: ['ravi', 'nobody'] });
    const reply = ravi.conversation(conv.id)!.messages.at(-1)!;
    expect(reply).toMatchObject({ mentions: ['ravi'], replyTo: { id: question.id } });
    expect(told).toEqual([reply.id]);
    expect(ravi.conversation(conv.id)!.mentionCount).toBe(1);
    expect(lee.conversation(conv.id)!.mentionCount).toBe(0);
    ravi.markRead(conv.id);
    expect(ravi.conversation(conv.id)!.mentionCount).toBe(0);
  });

  it('a quote follows the quoted message when it is edited or deleted', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const ana = await connected('ana');
    const question = gateway.append(conv.id, 'ravi', 'at 10?');
    await gateway.advance(0);
    ana.send(conv.id, 'yes', { replyTo: question.id });
    await gateway.advance(0);
    const reply = ana.conversation(conv.id)!.messages.at(-1)!;
    expect(ana.quoted(reply)?.body).toBe('at 10?');
    gateway.edit(conv.id, question.id, 'at 11?');
    await gateway.advance(0);
    expect(ana.quoted(reply)?.body).toBe('at 11?');
    gateway.edit(conv.id, question.id, '', true);
    await gateway.advance(0);
    expect(ana.quoted(reply)).toMatchObject({ body: '', deleted: true });
  });

  it('reactions: counts on every device, "mine" only for the reactor\u2019s devices, off again', async () => {
    const conv = gateway.open(['ana', 'ravi']);
    const phone = await connected('ana');
    const laptop = await connected('ana');
    const ravi = await connected('ravi');
    const message = gateway.append(conv.id, 'ravi', 'CV attached');
    await gateway.advance(0);
    const seen: string[] = [];
    ravi.on('reaction', ({ userId, emoji, on }) => seen.push(`${userId} ${emoji} ${on}`));
    const acked = await Promise.all([
      phone.react(conv.id, message.id, '👍', true),
      gateway.advance(0),
    ]);
    expect(acked[0].reactions).toEqual([{ emoji: '👍', count: 1, mine: true }]);
    await gateway.advance(0);
    const reactionsOf = (c: ChatClient) =>
      c.conversation(conv.id)!.messages.find((m) => m.id === message.id)?.reactions;
    expect(reactionsOf(phone)).toEqual([{ emoji: '👍', count: 1, mine: true }]);
    expect(reactionsOf(laptop)).toEqual([{ emoji: '👍', count: 1, mine: true }]);
    expect(reactionsOf(ravi)).toEqual([{ emoji: '👍', count: 1 }]);
    expect(seen).toEqual(['ana 👍 true']);
    // Ravi's reaction leaves Ana's "mine" as it was.
    await Promise.all([ravi.react(conv.id, message.id, '👍', true), gateway.advance(0)]);
    await gateway.advance(0);
    expect(reactionsOf(laptop)).toEqual([{ emoji: '👍', count: 2, mine: true }]);
    await Promise.all([laptop.react(conv.id, message.id, '👍', false), gateway.advance(0)]);
    await gateway.advance(0);
    expect(reactionsOf(phone)).toEqual([{ emoji: '👍', count: 1 }]);
    expect(reactionsOf(ravi)).toEqual([{ emoji: '👍', count: 1, mine: true }]);
  });
});
