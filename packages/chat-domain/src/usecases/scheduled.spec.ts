import {
  SCHEDULE_LIMITS,
  createChat,
  createPlatform,
  runDueScheduled,
  type Chat,
  type ChatDeps,
  type ChatStore,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

const recruiter: Principal = { userId: 'rita', role: 'recruiter' };
const candidate: Principal = { userId: 'carl', role: 'candidate' };
const LEASE_MS = 30_000;

describe('scheduled and follow-up sends (memory store, fake clock)', () => {
  let clock: FakeClock;
  let fanout: RecordingFanOut;
  let store: ChatStore;
  let deps: ChatDeps;
  let chat: Chat;
  let conversationId: string;
  const inMinutes = (m: number) => new Date(clock.ms + m * 60_000).toISOString();
  /** One worker turn at the current fake time. */
  const tick = (lease = 'w1') => runDueScheduled(deps, lease, LEASE_MS);
  const messages = async () =>
    (await store.messages.page(conversationId, { limit: 100 })).map((m) => [m.senderId, m.body]);

  beforeEach(async () => {
    clock = new FakeClock();
    fanout = new RecordingFanOut();
    store = new MemoryChatStore();
    deps = { store, fanout, clock };
    chat = createChat(deps);
    const opened = await createPlatform(deps).open(
      { service: 'ats', scopes: ['conversations:write'] },
      { idempotencyKey: 'a1', kind: 'direct', memberIds: ['rita', 'carl'] },
    );
    conversationId = opened.conversation.id;
  });

  it('goes at its time, once, through the ordinary send; its sender sees it listed as sent', async () => {
    const s = await chat.schedule(recruiter, {
      conversationId,
      body: 'Interview on Monday?',
      sendAt: inMinutes(10),
      followUp: false,
    });
    expect(s).toMatchObject({ state: 'pending', editable: true, followUp: false });
    clock.advance(10 * 60_000 - 1);
    expect(await tick()).toBe(false);
    clock.advance(1);
    expect(await tick()).toBe(true);
    expect(await tick()).toBe(false);
    expect(await messages()).toEqual([['rita', 'Interview on Monday?']]);
    expect(fanout.of('message:new').map((e) => e.users.sort())).toEqual([['carl', 'rita']]);
    const listed = await chat.listScheduled(recruiter);
    expect(listed.scheduled).toEqual([
      expect.objectContaining({ id: s.id, state: 'sent', editable: false }),
    ]);
    expect(listed.scheduled[0]?.messageId).toBeDefined();
    expect((await chat.listScheduled(candidate)).scheduled).toEqual([]);
  });

  it('decides at the time it goes: a block put on after writing refuses it, and the sender sees why', async () => {
    const s = await chat.schedule(recruiter, {
      conversationId,
      body: 'Still interested?',
      sendAt: inMinutes(5),
      followUp: false,
    });
    await chat.block(candidate, 'rita');
    clock.advance(5 * 60_000);
    await tick();
    expect(await messages()).toEqual([]);
    expect((await chat.listScheduled(recruiter)).scheduled[0]).toMatchObject({
      id: s.id,
      state: 'refused',
      outcome: 'BLOCKED',
    });
  });

  it('a follow-up does not go when the other side answered one second before; one nobody answered goes', async () => {
    await chat.send(recruiter, { conversationId, clientMessageId: 'k1', body: 'Hello Carl' });
    const followUp = await chat.schedule(recruiter, {
      conversationId,
      body: 'Just checking in',
      sendAt: inMinutes(60),
      followUp: true,
    });
    // The recruiter writing again is no answer.
    await chat.send(recruiter, { conversationId, clientMessageId: 'k2', body: 'PS' });
    clock.advance(60 * 60_000 - 1_000);
    await chat.send(candidate, { conversationId, clientMessageId: 'c1', body: 'Yes, hi!' });
    clock.advance(1_000);
    await tick();
    expect(await messages()).toEqual([
      ['rita', 'Hello Carl'],
      ['rita', 'PS'],
      ['carl', 'Yes, hi!'],
    ]);
    expect((await chat.listScheduled(recruiter)).scheduled[0]).toMatchObject({
      id: followUp.id,
      state: 'skipped',
      outcome: 'answered',
    });

    await chat.schedule(recruiter, {
      conversationId,
      body: 'Any news?',
      sendAt: inMinutes(60),
      followUp: true,
    });
    clock.advance(60 * 60_000);
    await tick();
    expect((await messages()).at(-1)).toEqual(['rita', 'Any news?']);
  });

  it('a worker that dies after storing it loses nothing and doubles nothing: the next claim finds the stored message', async () => {
    const marks = new Set<string>();
    deps.unannounced = {
      mark: (key) => Promise.resolve(void marks.add(key)),
      take: (key) => Promise.resolve(marks.delete(key)),
    };
    await chat.schedule(recruiter, {
      conversationId,
      body: 'Offer attached',
      sendAt: inMinutes(1),
      followUp: false,
    });
    // The first worker stores the message and dies before finishing the entry.
    const finish = store.scheduled.finish.bind(store.scheduled);
    store.scheduled.finish = () => Promise.reject(new Error('killed'));
    clock.advance(60_000);
    await expect(tick('dead')).rejects.toThrow('killed');
    store.scheduled.finish = finish;
    expect(await tick('w2')).toBe(false); // still leased by the dead worker
    clock.advance(LEASE_MS);
    expect(await tick('w2')).toBe(true);
    expect(await messages()).toEqual([['rita', 'Offer attached']]);
    // Announced again by the second attempt (devices dedupe by id), never stored twice.
    const announced = fanout.of('message:new').map((e) => (e.payload as { id: string }).id);
    expect(new Set(announced).size).toBe(1);
    expect((await chat.listScheduled(recruiter)).scheduled[0]?.state).toBe('sent');
  });

  it('edits and cancels until it goes; refuses what is not yours, times out of range, and more than the cap', async () => {
    const s = await chat.schedule(recruiter, {
      conversationId,
      body: 'Draft',
      sendAt: inMinutes(10),
      followUp: false,
    });
    const edited = await chat.editScheduled(recruiter, s.id, {
      body: 'Final',
      sendAt: inMinutes(20),
    });
    expect(edited).toMatchObject({ body: 'Final', sendAt: inMinutes(20) });
    await expect(chat.editScheduled(candidate, s.id, { body: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      chat.schedule(recruiter, {
        conversationId,
        body: 'x',
        sendAt: inMinutes(0),
        followUp: false,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    await expect(
      chat.schedule(recruiter, {
        conversationId,
        body: 'x',
        sendAt: new Date(clock.ms + SCHEDULE_LIMITS.maxAheadMs + 1).toISOString(),
        followUp: false,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    await expect(
      chat.schedule(
        { userId: 'mallory', role: 'candidate' },
        {
          conversationId,
          body: 'x',
          sendAt: inMinutes(10),
          followUp: false,
        },
      ),
    ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    const cancelled = await chat.cancelScheduled(recruiter, s.id);
    expect(cancelled.state).toBe('cancelled');
    clock.advance(20 * 60_000);
    expect(await tick()).toBe(false);
    expect(await messages()).toEqual([]);
    await expect(chat.editScheduled(recruiter, s.id, { body: 'again' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    for (let i = 0; i < SCHEDULE_LIMITS.maxPendingPerSender; i++)
      await chat.schedule(recruiter, {
        conversationId,
        body: `n${i}`,
        sendAt: inMinutes(30),
        followUp: false,
      });
    await expect(
      chat.schedule(recruiter, {
        conversationId,
        body: 'one too many',
        sendAt: inMinutes(30),
        followUp: false,
      }),
    ).rejects.toMatchObject({ code: 'SCHEDULE_QUOTA_EXCEEDED' });
  });
});
