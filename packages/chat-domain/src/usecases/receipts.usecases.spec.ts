import { jest } from '@jest/globals';
import {
  DeliveredAcks,
  LIMITS,
  createChat,
  markDeliveredSchema,
  type Chat,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';

// Delivery receipts and receipt privacy as people meet them, on the embedded store with a fake
// clock. The store operations are the store contract's; over two instances, the e2e test's.

const rita: Principal = { userId: 'rita', role: 'recruiter' };
const sam: Principal = { userId: 'sam', role: 'candidate' };
const pat: Principal = { userId: 'pat', role: 'candidate' };

describe('delivery receipts and receipt privacy (memory store, fake clock)', () => {
  let chat: Chat;
  let fanout: RecordingFanOut;
  let clock: FakeClock;

  beforeEach(() => {
    fanout = new RecordingFanOut();
    clock = new FakeClock();
    chat = createChat({ store: new MemoryChatStore(), fanout, clock });
  });

  const send = (who: Principal, conversationId: string, key: string) =>
    chat.send(who, { conversationId, clientMessageId: key, body: key });
  /** A direct conversation between contacts (the request accepted), with `n` messages from rita. */
  const contacts = async (n: number) => {
    const opened = (await chat.openConversation(rita, { kind: 'direct', userId: sam.userId }))
      .conversation;
    await chat.answerRequest(sam, opened.id, 'accept');
    for (let i = 1; i <= n; i++) await send(rita, opened.id, `m${i}`);
    return opened.id;
  };
  const events = (event: string, from: number) =>
    fanout.sent.slice(from).filter((e) => e.event === event);
  const member = async (viewer: Principal, id: string, userId: string) =>
    (await chat.getConversation(viewer, id)).members.find((m) => m.userId === userId)!;

  it('delivered moves forward only, apart from read, never past the newest message, told to the sender', async () => {
    const id = await contacts(3);
    const mark = fanout.sent.length;
    expect(await chat.markDelivered(sam, { positions: [{ conversationId: id, seq: 99 }] })).toEqual(
      { conversations: [{ conversationId: id, lastDeliveredSeq: 3 }] },
    );
    expect(events('conversation:delivered', mark)).toEqual([
      {
        users: ['rita', 'sam'],
        event: 'conversation:delivered',
        payload: { conversationId: id, userId: 'sam', lastDeliveredSeq: 3 },
      },
    ]);
    expect(await member(rita, id, 'sam')).toMatchObject({ lastReadSeq: 0, lastDeliveredSeq: 3 });

    // Acknowledging less, or the same again, changes nothing and tells nobody (coalesced).
    const again = fanout.sent.length;
    await chat.markDelivered(sam, { positions: [{ conversationId: id, seq: 2 }] });
    await chat.markDelivered(sam, { positions: [{ conversationId: id, seq: 3 }] });
    expect(events('conversation:delivered', again)).toEqual([]);

    // Reading implies delivered; reading less than delivered leaves delivered as it was.
    await send(rita, id, 'm4');
    await chat.markRead(sam, id, 4);
    expect(await member(rita, id, 'sam')).toMatchObject({ lastReadSeq: 4, lastDeliveredSeq: 4 });
  });

  it('one acknowledgement covers many conversations; strangers to a conversation are left out', async () => {
    const first = await contacts(2);
    const group = (
      await chat.openConversation(rita, { kind: 'group', title: 'Team', memberIds: ['sam'] })
    ).conversation.id;
    await send(rita, group, 'g1');
    const answer = await chat.markDelivered(sam, {
      positions: [
        { conversationId: first, seq: 1 },
        { conversationId: group, seq: 1 },
        { conversationId: first, seq: 2 },
      ],
    });
    expect(
      answer.conversations.sort((a, b) => a.conversationId.localeCompare(b.conversationId)),
    ).toEqual(
      [
        { conversationId: first, lastDeliveredSeq: 2 },
        { conversationId: group, lastDeliveredSeq: 1 },
      ].sort((a, b) => a.conversationId.localeCompare(b.conversationId)),
    );
    expect(
      await chat.markDelivered(pat, { positions: [{ conversationId: first, seq: 2 }] }),
    ).toEqual({ conversations: [] });
    expect(await member(rita, first, 'pat').catch(() => undefined)).toBeUndefined();
    // The batch is bounded: one past the cap is refused outright.
    const tooMany = Array.from({ length: LIMITS.maxDeliveredBatch + 1 }, (_, i) => ({
      conversationId: `c${i}`,
      seq: 1,
    }));
    expect(markDeliveredSchema.safeParse({ positions: tooMany }).success).toBe(false);
  });

  it("a request's recipient acknowledges without the opener learning of it", async () => {
    const c = (await chat.openConversation(rita, { kind: 'direct', userId: pat.userId }))
      .conversation;
    await send(rita, c.id, 'hello');
    const mark = fanout.sent.length;
    await chat.markDelivered(pat, { positions: [{ conversationId: c.id, seq: 1 }] });
    expect(events('conversation:delivered', mark).flatMap((e) => e.users)).toEqual(['pat']);
    expect(await member(rita, c.id, 'pat')).toMatchObject({ lastDeliveredSeq: 0 });
  });

  it('receipts off hides both ways: mine from others, and others from me; on again shows them', async () => {
    const id = await contacts(2);
    await chat.markDelivered(sam, { positions: [{ conversationId: id, seq: 2 }] });
    await chat.markRead(rita, id, 2);
    const mark = fanout.sent.length;
    expect(await chat.updateSettings(sam, { receipts: false }, { socketId: 's1' })).toEqual({
      receipts: false,
    });
    expect(events('settings:updated', mark)).toEqual([
      {
        users: ['sam'],
        event: 'settings:updated',
        except: 's1',
        payload: { receipts: false },
      },
    ]);
    expect(await chat.settings(sam)).toEqual({ receipts: false });

    // Others see nothing of sam's, and sam sees nothing of theirs, in every view.
    expect(await member(rita, id, 'sam')).toMatchObject({ lastReadSeq: 0, lastDeliveredSeq: 0 });
    expect(await member(sam, id, 'rita')).toMatchObject({ lastReadSeq: 0, lastDeliveredSeq: 0 });
    const list = await chat.listConversations(sam, { limit: 10 });
    expect(list.conversations[0]!.members.find((m) => m.userId === 'rita')!.lastReadSeq).toBe(0);
    const synced = await chat.sync(sam, {
      conversations: [{ conversationId: id, afterVersion: 0 }],
    });
    expect(synced.conversations[0]!.receipts).toBeUndefined();
    // Sam's own position is still sam's own.
    expect(await member(sam, id, 'sam')).toMatchObject({ lastDeliveredSeq: 2 });

    // No events either way; sam's own devices still hear sam's read.
    await send(rita, id, 'm3');
    const quiet = fanout.sent.length;
    await chat.markRead(sam, id, 3);
    await send(sam, id, 'reply');
    await chat.markRead(rita, id, 4);
    await chat.markDelivered(rita, { positions: [{ conversationId: id, seq: 4 }] });
    expect(events('conversation:read', quiet).map((e) => e.users)).toEqual([['sam'], ['rita']]);
    expect(events('conversation:delivered', quiet)).toEqual([]);

    // Repeating the setting changes nothing; turning it on shows the positions as they are.
    const before = fanout.sent.length;
    await chat.updateSettings(sam, { receipts: false });
    expect(events('settings:updated', before)).toEqual([]);
    await chat.updateSettings(sam, { receipts: true });
    // Sam's own reply (seq 4) counts as read by sam.
    expect(await member(rita, id, 'sam')).toMatchObject({ lastReadSeq: 4, lastDeliveredSeq: 4 });
    const back = await chat.sync(sam, { conversations: [{ conversationId: id, afterVersion: 0 }] });
    expect(back.conversations[0]!.receipts).toEqual([
      { userId: 'rita', lastReadSeq: 4, lastDeliveredSeq: 4 },
    ]);
  });

  it('sync carries the positions others reached while a device was away, also when nothing else changed', async () => {
    const id = await contacts(2);
    clock.advance(60_000); // past the settle window: the cursor moves past the messages
    const first = await chat.sync(rita, {
      conversations: [{ conversationId: id, afterVersion: 0 }],
    });
    const version = first.conversations[0]!.version;
    await chat.markDelivered(sam, { positions: [{ conversationId: id, seq: 2 }] });
    await chat.markRead(sam, id, 1);
    const later = await chat.sync(rita, {
      conversations: [{ conversationId: id, afterVersion: version }],
    });
    expect(later.conversations[0]).toMatchObject({
      messages: [],
      receipts: [{ userId: 'sam', lastReadSeq: 1, lastDeliveredSeq: 2 }],
    });
  });

  it("coalesces every device's acknowledgements: one read of the conversations and one write per member and conversation for a burst", async () => {
    const store = new MemoryChatStore();
    chat = createChat({ store, fanout, clock });
    const first = await contacts(3);
    const opened = (await chat.openConversation(rita, { kind: 'direct', userId: pat.userId }))
      .conversation.id;
    await chat.answerRequest(pat, opened, 'accept');
    await send(rita, opened, 'p1');
    const reads = jest.spyOn(store.conversations, 'getMany');
    const writes = jest.spyOn(store.conversations, 'advanceDelivered');
    const mark = fanout.sent.length;
    // Pat's device and Sam's three acknowledge at the same moment, one of Sam's twice over.
    const answers = await Promise.all([
      chat.markDelivered(
        pat,
        { positions: [{ conversationId: opened, seq: 1 }] },
        { socketId: 'p1' },
      ),
      chat.markDelivered(
        sam,
        { positions: [{ conversationId: first, seq: 3 }] },
        { socketId: 's1' },
      ),
      chat.markDelivered(
        sam,
        { positions: [{ conversationId: first, seq: 3 }] },
        { socketId: 's2' },
      ),
      chat.markDelivered(
        sam,
        { positions: [{ conversationId: first, seq: 2 }] },
        { socketId: 's3' },
      ),
      chat.markDelivered(
        sam,
        { positions: [{ conversationId: first, seq: 3 }] },
        { socketId: 's1' },
      ),
    ]);
    // Each device is answered with where its conversations stand now.
    expect(answers.map((a) => a.conversations[0]?.lastDeliveredSeq)).toEqual([1, 3, 3, 3, 3]);
    // The first request went alone (nothing was in flight); the four that arrived meanwhile as one.
    expect(reads).toHaveBeenCalledTimes(2);
    expect(writes.mock.calls.map((c) => c.slice(1))).toEqual([
      ['pat', 1],
      ['sam', 3],
    ]);
    // Told once each; the one device that asked is not told again, where several asked all are.
    expect(events('conversation:delivered', mark)).toEqual([
      {
        users: ['rita', 'pat'],
        event: 'conversation:delivered',
        payload: { conversationId: opened, userId: 'pat', lastDeliveredSeq: 1 },
        except: 'p1',
      },
      {
        users: ['rita', 'sam'],
        event: 'conversation:delivered',
        payload: { conversationId: first, userId: 'sam', lastDeliveredSeq: 3 },
      },
    ]);
    expect(await member(rita, first, 'sam')).toMatchObject({ lastDeliveredSeq: 3 });
  });

  it('answers UNAVAILABLE at once past its queue cap, and the rest still go', async () => {
    const store = new MemoryChatStore();
    const capped = new DeliveredAcks(
      { store, fanout, clock },
      { maxBatchPositions: 1_000, maxWaiting: 2 },
    );
    chat = createChat({ store, fanout, clock });
    const id = await contacts(2);
    const ask = (seq: number) => capped.mark(sam, { positions: [{ conversationId: id, seq }] });
    const results = await Promise.allSettled([ask(1), ask(2), ask(2), ask(2)]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    expect(results[3]).toMatchObject({ reason: { code: 'UNAVAILABLE' } });
    expect(await member(rita, id, 'sam')).toMatchObject({ lastDeliveredSeq: 2 });
  });
});
