import {
  CONTENT_POLICY_DEFAULTS,
  UnavailableError,
  createChat,
  type Chat,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut, ScriptedHook } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

const alice: Principal = { userId: 'alice', role: 'recruiter' };
const bob: Principal = { userId: 'bob', role: 'candidate' };

describe('screening: content policy and pre-send hook on the send path', () => {
  let chat: Chat;
  let fanout: RecordingFanOut;
  let store: MemoryChatStore;
  let hook: ScriptedHook;

  beforeEach(() => {
    fanout = new RecordingFanOut();
    store = new MemoryChatStore();
    hook = new ScriptedHook(() => ({ verdict: 'allow' }));
    chat = createChat({
      store,
      fanout,
      clock: new FakeClock(),
      contentPolicy: { ...CONTENT_POLICY_DEFAULTS, allowedDomains: ['jobsphere.com'] },
      presend: hook,
    });
  });

  const request = async () =>
    (await chat.openConversation(alice, { kind: 'direct', userId: 'bob' })).conversation.id;
  const send = (who: Principal, conversationId: string, key: string, body: string) =>
    chat.send(who, { conversationId, clientMessageId: key, body });

  it('in a request: the sender sees what was sent, the recipient the masked text and a notice', async () => {
    const id = await request();
    const body = 'Call me on six uno 2345678 or see jobsphere.com/jobs/1 and bit.ly/x';
    const { message } = await send(alice, id, 'm1', body);
    const masked =
      'Call me on [contact details hidden] or see jobsphere.com/jobs/1 and [link hidden]';
    expect(message).toMatchObject({ body, safety: { recipientBody: masked } });
    const [live] = fanout.of('message:new').filter((e) => e.users.includes('bob'));
    expect(live).toMatchObject({
      users: ['bob'],
      payload: { body: masked, safety: { notices: ['contact-hidden', 'link-hidden'] } },
    });
    expect(fanout.of('message:new').find((e) => e.users.includes('alice'))?.payload).toMatchObject({
      body,
    });
    const bobs = await chat.history(bob, id, { limit: 10 });
    const alices = await chat.history(alice, id, { limit: 10 });
    expect(bobs.messages[0]).toMatchObject({ body: masked });
    expect(alices.messages[0]).toMatchObject({ body });
    const synced = await chat.sync(bob, {
      conversations: [{ conversationId: id, afterVersion: 0 }],
    });
    expect(synced.conversations[0]!.messages[0]).toMatchObject({ body: masked });
    // The original stays stored for moderators; what each side saw is on record.
    const stored = await store.messages.get(id, message.id);
    expect(stored).toMatchObject({ body, safety: { masked: { body: masked } } });
  });

  it('a reaction to a masked message keeps each side’s view: the recipient never gets the original', async () => {
    const id = await request();
    const body = 'WhatsApp me on six uno 2345678';
    const { message } = await send(alice, id, 'm1', body);
    await chat.react(alice, { conversationId: id, messageId: message.id, emoji: '👍', on: true });
    const reacted = fanout.of('message:reacted');
    const toBob = reacted.find((e) => e.users.includes('bob'))!;
    const toAlice = reacted.find((e) => e.users.includes('alice'))!;
    expect(toBob.users).toEqual(['bob']);
    expect(toBob.payload).toMatchObject({
      message: {
        body: expect.not.stringContaining('2345678'),
        safety: { notices: ['contact-hidden'] },
      },
    });
    expect(toAlice.payload).toMatchObject({ message: { body } });
  });

  it('after acceptance contact details pass; the recipient replying accepts and is not masked', async () => {
    const id = await request();
    const reply = await send(bob, id, 'r1', 'sure, my number is 0612345678');
    expect(reply.message.safety).toBeUndefined();
    const later = await send(alice, id, 'm2', 'great, mine is 0687654321');
    expect(later.message.safety).toBeUndefined();
    expect(fanout.of('message:new').at(-1)).toMatchObject({
      users: ['alice', 'bob'],
      payload: { body: 'great, mine is 0687654321' },
    });
  });

  it('a scam signal warns the recipient and flags the message for moderators, in any state', async () => {
    const id = await request();
    await send(bob, id, 'r1', 'hello');
    const { message } = await send(
      alice,
      id,
      'm1',
      'Continue on Telegram, the training fee is refundable',
    );
    expect(message.safety).toBeUndefined(); // the sender is not told
    const seen = await chat.history(bob, id, { limit: 10 });
    expect(seen.messages.at(-1)).toMatchObject({ safety: { warning: ['off-platform', 'fee'] } });
    const stored = await store.messages.get(id, message.id);
    expect(stored?.safety?.flags?.map((f) => `${f.source}:${f.reason}`)).toEqual([
      'policy:scam:off-platform',
      'policy:scam:fee',
    ]);
    // On the moderation list, once, with both reasons.
    const listed = await store.moderation.listFlags({ source: 'policy', limit: 10 });
    expect(listed.flags.map((f) => [f.messageId, f.userId, f.reason])).toEqual([
      [message.id, 'alice', 'scam:off-platform, scam:fee'],
    ]);
  });

  it('the hook rejects with a reason the sender sees, and nothing is stored', async () => {
    const id = await request();
    hook.answer = () => ({ verdict: 'reject', reason: 'salary-below-minimum' });
    await expect(send(alice, id, 'm1', 'we pay 3 EUR an hour')).rejects.toMatchObject({
      code: 'CONTENT_REJECTED',
      reason: 'salary-below-minimum',
    });
    expect((await chat.history(alice, id, { limit: 10 })).messages).toEqual([]);
  });

  it('the hook replaces the body (the replacement is what the policy then reads) or flags it', async () => {
    const id = await request();
    hook.answer = () => ({ verdict: 'replace', body: 'reach me at anna@example.com' });
    const { message } = await send(alice, id, 'm1', 'something rude');
    expect(message.body).toBe('reach me at anna@example.com');
    const stored = await store.messages.get(id, message.id);
    expect(stored?.safety).toMatchObject({
      replaced: 'something rude',
      masked: { body: 'reach me at [contact details hidden]' },
    });
    hook.answer = () => ({ verdict: 'flag', reason: 'manual-review' });
    const flagged = await send(alice, id, 'm2', 'ordinary words');
    const flags = (await store.messages.get(id, flagged.message.id))?.safety?.flags;
    expect(flags?.map((f) => [f.source, f.reason, f.at.toISOString()])).toEqual([
      ['hook', 'manual-review', new FakeClock().now().toISOString()],
    ]);
  });

  it('edits pass the hook and the policy like sends', async () => {
    const id = await request();
    const { message } = await send(alice, id, 'm1', 'hello');
    const edited = await chat.edit(alice, {
      conversationId: id,
      messageId: message.id,
      body: 'mail me: anna at gmail dot com',
    });
    expect(edited).toMatchObject({
      safety: { recipientBody: 'mail me: [contact details hidden]' },
    });
    expect(hook.asked.map((d) => d.action)).toEqual(['send', 'edit']);
    expect(
      fanout.of('message:updated').find((e) => e.users.includes('bob'))?.payload,
    ).toMatchObject({
      body: 'mail me: [contact details hidden]',
    });
    hook.answer = () => ({ verdict: 'reject', reason: 'no' });
    await expect(
      chat.edit(alice, { conversationId: id, messageId: message.id, body: 'other' }),
    ).rejects.toMatchObject({ code: 'CONTENT_REJECTED' });
  });

  it('a hook that fails closed answers UNAVAILABLE and stores nothing', async () => {
    const id = await request();
    chat = createChat({
      store,
      fanout,
      clock: new FakeClock(),
      presend: { check: () => Promise.reject(new UnavailableError('the platform did not answer')) },
    });
    await expect(send(alice, id, 'm1', 'hi')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await chat.history(alice, id, { limit: 10 })).messages).toEqual([]);
  });
});
