import {
  ConflictError,
  createChat,
  isAcceptedEmoji,
  REACTION_DEFAULTS,
  type Chat,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

const alice: Principal = { userId: 'alice', role: 'recruiter' };
const bob: Principal = { userId: 'bob', role: 'candidate' };
const carol: Principal = { userId: 'carol', role: 'recruiter' };

describe('replies, reactions and mentions (memory store, fake clock)', () => {
  let chat: Chat;
  let fanout: RecordingFanOut;
  let clock: FakeClock;

  beforeEach(() => {
    fanout = new RecordingFanOut();
    clock = new FakeClock();
    chat = createChat({ store: new MemoryChatStore(), fanout, clock, settleMs: 0 });
  });

  /** A group whose members all accepted. */
  async function panel() {
    const { conversation } = await chat.openConversation(alice, {
      kind: 'group',
      title: 'Panel',
      memberIds: ['bob', 'carol'],
    });
    await chat.answerRequest(bob, conversation.id, 'accept');
    await chat.answerRequest(carol, conversation.id, 'accept');
    return conversation.id;
  }
  const send = (who: Principal, conversationId: string, key: string, extra: object = {}) =>
    chat.send(who, { conversationId, clientMessageId: key, body: `text ${key}`, ...extra });

  it('quotes the replied message in the ack, live, in history and in sync, as it is now', async () => {
    const id = await panel();
    const quoted = await send(bob, id, 'q');
    clock.advance(1_000);
    const reply = await send(alice, id, 'r', { replyTo: quoted.message.id });
    expect(reply.message.replyTo).toEqual({
      id: quoted.message.id,
      seq: quoted.message.seq,
      senderId: 'bob',
      body: 'text q',
    });
    const live = fanout.of('message:new').at(-1)!.payload as typeof reply.message;
    expect(live.replyTo?.body).toBe('text q');
    // The quoted message is edited, then deleted: every later view of the reply follows.
    await chat.edit(bob, { conversationId: id, messageId: quoted.message.id, body: 'moved to 11' });
    const page = await chat.history(carol, id, { limit: 10 });
    expect(page.messages.at(-1)?.replyTo?.body).toBe('moved to 11');
    await chat.delete(bob, { conversationId: id, messageId: quoted.message.id });
    const synced = await chat.sync(carol, {
      conversations: [{ conversationId: id, afterVersion: 0 }],
    });
    const replyNow = synced.conversations[0]!.messages.find((m) => m.id === reply.message.id);
    expect(replyNow?.replyTo).toEqual({
      id: quoted.message.id,
      seq: quoted.message.seq,
      senderId: 'bob',
      body: '',
      deleted: true,
    });
    await expect(send(alice, id, 'r2', { replyTo: quoted.message.id })).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: 'cannot reply: the message replied to was deleted',
    });
  });

  it('refuses a reply to another conversation\u2019s message like an unknown one', async () => {
    const id = await panel();
    const { conversation: other } = await chat.openConversation(carol, {
      kind: 'group',
      title: 'Other',
      memberIds: ['bob'],
    });
    // bob and carol are contacts already (the panel): no invitation to answer.
    const elsewhere = await send(carol, other.id, 'x');
    await expect(send(alice, id, 'r', { replyTo: elsewhere.message.id })).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      issues: [{ path: 'replyTo', message: 'no such message in this conversation' }],
    });
    expect((await chat.history(alice, id, { limit: 10 })).messages).toHaveLength(0);
    expect(fanout.of('message:new').filter((e) => e.users.includes('alice'))).toHaveLength(0);
  });

  it('counts mentions per member beside unread, tells them, and resets on read', async () => {
    const id = await panel();
    const sent = await send(alice, id, 'm', { mentions: ['bob', 'mallory', 'alice'] });
    expect(sent.message.mentions).toEqual(['bob']);
    expect(fanout.of('mention:new')).toEqual([
      {
        users: ['bob'],
        event: 'mention:new',
        payload: {
          conversationId: id,
          messageId: sent.message.id,
          seq: sent.message.seq,
          senderId: 'alice',
        },
      },
    ]);
    await send(alice, id, 'n');
    const view = async (who: Principal) => chat.getConversation(who, id);
    expect(await view(bob)).toMatchObject({ unreadCount: 2, mentionCount: 1 });
    expect(await view(carol)).toMatchObject({ unreadCount: 2, mentionCount: 0 });
    await chat.markRead(bob, id, sent.message.seq);
    expect(await view(bob)).toMatchObject({ unreadCount: 1, mentionCount: 0 });
  });

  it('toggles reactions idempotently: counts and mine per viewer, live once, and recovered by sync', async () => {
    const id = await panel();
    const { message } = await send(bob, id, 'r');
    const before = fanout.sent.length;
    const react = (who: Principal, emoji: string, on = true) =>
      chat.react(who, { conversationId: id, messageId: message.id, emoji, on });
    const mine = await react(alice, '👍');
    expect(mine.reactions).toEqual([{ emoji: '👍', count: 1, mine: true }]);
    expect(fanout.sent.length).toBe(before + 1);
    expect(fanout.sent.at(-1)).toMatchObject({
      users: expect.arrayContaining(['alice', 'bob', 'carol']),
      event: 'message:reacted',
      payload: {
        userId: 'alice',
        emoji: '👍',
        on: true,
        message: { reactions: [{ emoji: '👍', count: 1 }] },
      },
    });
    // The same state again changes nothing and tells nobody.
    await react(alice, '👍');
    expect(fanout.sent.length).toBe(before + 1);
    await react(carol, '👍');
    const synced = await chat.sync(bob, {
      conversations: [{ conversationId: id, afterVersion: message.version }],
    });
    expect(synced.conversations[0]!.messages.map((m) => m.reactions)).toEqual([
      [{ emoji: '👍', count: 2 }],
    ]);
    const page = await chat.history(carol, id, { limit: 5 });
    expect(page.messages[0]!.reactions).toEqual([{ emoji: '👍', count: 2, mine: true }]);
    await react(alice, '👍', false);
    expect((await chat.history(alice, id, { limit: 5 })).messages[0]!.reactions).toEqual([
      { emoji: '👍', count: 1 },
    ]);
  });

  it('caps reactions: three per person, 20 different per message, and emoji only', async () => {
    const id = await panel();
    const { message } = await send(bob, id, 'r');
    const react = (who: Principal, emoji: string) =>
      chat.react(who, { conversationId: id, messageId: message.id, emoji, on: true });
    for (const emoji of ['👍', '🎉', '❤️']) await react(alice, emoji);
    await expect(react(alice, '😂')).rejects.toBeInstanceOf(ConflictError);
    await expect(react(bob, 'ok')).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    await expect(react(bob, '👍👍')).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(REACTION_DEFAULTS).toEqual({ perPerson: 3, perMessage: 20 });
  });
});

describe('isAcceptedEmoji', () => {
  it('takes one emoji grapheme (skin tones, flags, keycaps, families) and nothing else', () => {
    const any = { perPerson: 3, perMessage: 20 };
    for (const e of ['👍', '👍🏽', '🇫🇷', '1️⃣', '❤️', '👨‍👩‍👧'])
      expect([e, isAcceptedEmoji(e, any)]).toEqual([e, true]);
    for (const e of ['', 'a', '👍👍', '👍 ', ':+1:', '\u200d', '🇫'])
      expect([e, isAcceptedEmoji(e, any)]).toEqual([e, false]);
    expect(isAcceptedEmoji('👍', { ...any, allowed: ['❤️'] })).toBe(false);
    expect(isAcceptedEmoji('❤️', { ...any, allowed: ['❤️'] })).toBe(true);
  });
});
