import {
  SYSTEM_SENDER,
  actionMessageSchema,
  createChat,
  createPlatform,
  decideSend,
  newRequestRecord,
  recordingPlatformEvents,
  type Chat,
  type ChatStore,
  type Platform,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

const recruiter: Principal = { userId: 'rita', role: 'recruiter' };
const candidate: Principal = { userId: 'carl', role: 'candidate' };
const panelist: Principal = { userId: 'pia', role: 'recruiter' };

describe('action messages (memory store, fake clock)', () => {
  let clock: FakeClock;
  let fanout: RecordingFanOut;
  let store: ChatStore;
  let chat: Chat;
  let platform: Platform;
  let conversationId: string;

  const card = (over: Record<string, unknown> = {}) =>
    actionMessageSchema.parse({
      idempotencyKey: `card-${Math.random().toString(36).slice(2)}`,
      title: 'Interview',
      text: 'Pick a time that suits you',
      actions: [
        { id: 'mon', label: 'Monday 10:00', kind: 'slot', startsAt: '2026-06-08T10:00:00.000Z' },
        { id: 'no', label: 'No thanks', kind: 'reply' },
        { id: 'job', label: 'The job', kind: 'link', url: 'https://jobs.example/1' },
      ],
      expiresAt: new Date(clock.ms + 60_000).toISOString(),
      ...over,
    });

  beforeEach(async () => {
    clock = new FakeClock();
    fanout = new RecordingFanOut();
    const memory = new MemoryChatStore();
    store = recordingPlatformEvents(memory, {
      endpoints: ['https://platform.example/hooks'],
      clock,
    });
    chat = createChat({ store, fanout, clock });
    platform = createPlatform({ store, fanout, clock });
    const opened = await platform.open(
      { service: 'ats', scopes: ['conversations:write'] },
      {
        idempotencyKey: 'g1',
        kind: 'group',
        title: 'Panel',
        memberIds: [recruiter.userId, candidate.userId, panelist.userId],
      },
    );
    conversationId = opened.conversation.id;
  });

  it('posts a card as a system message every member gets live', async () => {
    const { message } = await platform.postActionMessage(conversationId, card());
    expect(message).toMatchObject({
      kind: 'system',
      senderId: SYSTEM_SENDER,
      body: 'Pick a time that suits you',
    });
    expect(message.action).toMatchObject({ title: 'Interview', once: true, answers: [] });
    expect(fanout.of('message:new').at(-1)?.users.sort()).toEqual(['carl', 'pia', 'rita']);
  });

  it('an answer reaches every member live and the platform as message.answered; a retry of it changes nothing', async () => {
    const { message } = await platform.postActionMessage(conversationId, card());
    const answered = await chat.answerAction(
      candidate,
      { conversationId, messageId: message.id, actionId: 'mon' },
      { socketId: 's1' },
    );
    expect(answered.version).toBeGreaterThan(message.version);
    expect(answered.action?.answers).toEqual([
      { userId: 'carl', actionId: 'mon', at: clock.now().toISOString() },
    ]);
    const live = fanout.of('message:updated');
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ except: 's1', payload: answered });
    expect(live[0]?.users.sort()).toEqual(['carl', 'pia', 'rita']);
    const events = await allEvents(store, clock);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'message.answered',
        data: expect.objectContaining({
          answer: { userId: 'carl', actionId: 'mon', at: clock.now().toISOString() },
        }) as unknown,
      }),
    );
    const again = await chat.answerAction(candidate, {
      conversationId,
      messageId: message.id,
      actionId: 'mon',
    });
    expect(again).toEqual(answered);
    expect(fanout.of('message:updated')).toHaveLength(1);
  });

  it('refuses clearly: answered already, expired, a link, no such action, not a member', async () => {
    const { message } = await platform.postActionMessage(conversationId, card());
    const ref = (actionId: string) => ({ conversationId, messageId: message.id, actionId });
    await expect(chat.answerAction(candidate, ref('job'))).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
    await expect(chat.answerAction(candidate, ref('wed'))).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
    await expect(
      chat.answerAction({ userId: 'mallory', role: 'candidate' }, ref('mon')),
    ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    await chat.answerAction(candidate, ref('mon'));
    await expect(chat.answerAction(panelist, ref('no'))).rejects.toMatchObject({
      code: 'ALREADY_ANSWERED',
    });
    await expect(chat.answerAction(candidate, ref('no'))).rejects.toMatchObject({
      code: 'ALREADY_ANSWERED',
    });
    const late = await platform.postActionMessage(conversationId, card({ once: false }));
    clock.advance(60_000);
    await expect(
      chat.answerAction(candidate, { conversationId, messageId: late.message.id, actionId: 'mon' }),
    ).rejects.toMatchObject({ code: 'ACTION_EXPIRED' });
    expect((await store.messages.get(conversationId, late.message.id))?.action?.answers).toEqual(
      [],
    );
  });

  it('refuses a card with too many actions, repeated ids, a link without https, or an expiry in the past', async () => {
    const six = Array.from({ length: 6 }, (_, i) => ({
      id: `a${i}`,
      label: `A${i}`,
      kind: 'reply',
    }));
    expect(actionMessageSchema.safeParse({ ...card(), actions: six }).success).toBe(false);
    const twice = [
      { id: 'a', label: 'A', kind: 'reply' },
      { id: 'a', label: 'B', kind: 'reply' },
    ];
    expect(actionMessageSchema.safeParse({ ...card(), actions: twice }).success).toBe(false);
    const http = [{ id: 'a', label: 'A', kind: 'link', url: 'http://jobs.example' }];
    expect(actionMessageSchema.safeParse({ ...card(), actions: http }).success).toBe(false);
    await expect(
      platform.postActionMessage(
        conversationId,
        card({ expiresAt: new Date(clock.ms).toISOString() }),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
  });

  it('the send decision lets a member answer in a blocked or requested conversation, an invitee not', () => {
    const subject = {
      kind: 'direct' as const,
      memberIds: ['a', 'b'],
      blocked: true,
      request: newRequestRecord({ from: 'a', to: 'b' }, 0),
    };
    expect(decideSend(subject, { senderId: 'a', kind: 'user', action: 'answer' }).ok).toBe(true);
    expect(decideSend(subject, { senderId: 'a', kind: 'user', action: 'send' }).ok).toBe(false);
    expect(
      decideSend({ ...subject, invited: ['b'] }, { senderId: 'b', kind: 'user', action: 'answer' }),
    ).toEqual({ ok: false, refusal: { reason: 'invitation-pending' } });
  });
});

/** Every webhook event waiting in the outbox (each claimed once, past any lease). */
async function allEvents(store: ChatStore, clock: FakeClock) {
  const events: { type: string; data: unknown }[] = [];
  for (let i = 0; i < 20; i++) {
    const entry = await store.outbox.claim(new Date(clock.ms + 1), 60_000, `l${i}`);
    if (!entry) break;
    events.push(JSON.parse(entry.payload) as { type: string; data: unknown });
  }
  return events;
}
