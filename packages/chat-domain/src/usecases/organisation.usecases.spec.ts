import {
  ConflictError,
  LIMITS,
  NotMemberError,
  ValidationError,
  createChat,
  type Chat,
  type ChatDeps,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';
import { offlineNotification } from './platform.js';

// Mute, pin, archive and mark unread as one person meets them, on the embedded store with a
// fake clock. The store operations are the store contract's; over two instances, the e2e test's.

const rita: Principal = { userId: 'rita', role: 'recruiter' };
const sam: Principal = { userId: 'sam', role: 'candidate' };

describe('per-person organisation of conversations (memory store, fake clock)', () => {
  let chat: Chat;
  let deps: ChatDeps;
  let fanout: RecordingFanOut;
  let clock: FakeClock;

  beforeEach(() => {
    fanout = new RecordingFanOut();
    clock = new FakeClock();
    deps = { store: new MemoryChatStore(), fanout, clock };
    chat = createChat(deps);
  });

  const send = (who: Principal, conversationId: string, key: string) =>
    chat.send(who, { conversationId, clientMessageId: key, body: key });
  /** A direct conversation rita opens with `other` (the request accepted), `n` messages from rita. */
  const contacts = async (n: number, other: Principal = sam) => {
    const opened = (await chat.openConversation(rita, { kind: 'direct', userId: other.userId }))
      .conversation;
    await chat.answerRequest(other, opened.id, 'accept');
    for (let i = 1; i <= n; i++) await send(rita, opened.id, `m${i}`);
    clock.advance(1_000);
    return opened.id;
  };
  const organised = (from: number) =>
    fanout.sent.slice(from).filter((e) => e.event === 'conversation:organised');
  const inbox = async (who: Principal, box: 'inbox' | 'archived' = 'inbox') =>
    (await chat.listConversations(who, { limit: 50, box })).conversations.map((c) => c.id);
  const offline = (conversationId: string, seq: number) =>
    offlineNotification(
      deps,
      { conversationId, recipientId: sam.userId, seq, window: 1 },
      async () => false,
    );

  it('muted: no offline notification, out of the unread total, still listed; for that person only', async () => {
    const id = await contacts(2);
    expect(await offline(id, 2)).not.toBeNull();
    expect((await chat.listConversations(sam, { limit: 10 })).totalUnread).toBe(2);

    const mark = fanout.sent.length;
    const answer = await chat.organise(
      sam,
      { conversationId: id, muted: true },
      { socketId: 's1' },
    );
    expect(answer).toEqual({
      conversationId: id,
      muted: true,
      pinned: false,
      archived: false,
      unread: false,
    });
    // Told to sam's other devices (not the one that asked), never to rita.
    expect(organised(mark)).toEqual([
      {
        users: ['sam'],
        event: 'conversation:organised',
        payload: answer,
        except: 's1',
      },
    ]);
    expect(await offline(id, 2)).toBeNull();
    const list = await chat.listConversations(sam, { limit: 10 });
    expect(list.totalUnread).toBe(0);
    expect(list.conversations.map((c) => [c.id, c.unreadCount, c.organisation?.muted])).toEqual([
      [id, 2, true],
    ]);
    // Rita's view of the same conversation is untouched.
    expect((await chat.getConversation(rita, id)).organisation).toBeUndefined();

    await chat.organise(sam, { conversationId: id, muted: false });
    expect(await offline(id, 2)).not.toBeNull();
  });

  it(`pins list first, at most ${LIMITS.maxPinned}; one past the cap is refused and changes nothing`, async () => {
    const people = Array.from({ length: LIMITS.maxPinned + 1 }, (_, i): Principal => ({
      userId: `c${i}`,
      role: 'candidate',
    }));
    const ids: string[] = [];
    for (const p of people) ids.push(await contacts(1, p));
    // rita's inbox: newest first.
    expect(await inbox(rita)).toEqual([...ids].reverse());
    for (const id of ids.slice(0, LIMITS.maxPinned))
      await chat.organise(rita, { conversationId: id, pinned: true });
    // Pinning one already pinned counts nothing and is no error.
    await chat.organise(rita, { conversationId: ids[0]!, pinned: true });

    const last = ids[LIMITS.maxPinned]!;
    const mark = fanout.sent.length;
    await expect(chat.organise(rita, { conversationId: last, pinned: true })).rejects.toThrow(
      ConflictError,
    );
    expect(organised(mark)).toEqual([]);
    expect((await chat.getConversation(rita, last)).organisation).toBeUndefined();
    const listed = await inbox(rita);
    expect(listed.at(-1)).toBe(last);
    expect(new Set(listed.slice(0, LIMITS.maxPinned))).toEqual(
      new Set(ids.slice(0, LIMITS.maxPinned)),
    );

    await chat.organise(rita, { conversationId: ids[0]!, pinned: false });
    await chat.organise(rita, { conversationId: last, pinned: true });
    expect((await inbox(rita)).slice(0, LIMITS.maxPinned)).toContain(last);
  });

  it('archived: out of the inbox until a new message arrives, unless muted; listed with box=archived', async () => {
    const id = await contacts(1);
    await chat.organise(sam, { conversationId: id, archived: true });
    expect(await inbox(sam)).toEqual([]);
    expect(await inbox(sam, 'archived')).toEqual([id]);
    expect(await inbox(rita)).toEqual([id]);

    await send(rita, id, 'back');
    expect(await inbox(sam)).toEqual([id]);
    expect(await inbox(sam, 'archived')).toEqual([]);

    // Muted and archived, it stays archived whatever arrives.
    await chat.organise(sam, { conversationId: id, archived: true, muted: true });
    await send(rita, id, 'quiet');
    expect(await inbox(sam)).toEqual([]);
    expect(await inbox(sam, 'archived')).toEqual([id]);
    // Pinning takes it out of the archive.
    await chat.organise(sam, { conversationId: id, pinned: true });
    expect(await inbox(sam)).toEqual([id]);
  });

  it('marked unread counts in the total until read, on every device of the reader', async () => {
    const id = await contacts(2);
    await chat.markRead(sam, id, 2);
    await chat.organise(sam, { conversationId: id, unread: true });
    expect((await chat.listConversations(sam, { limit: 10 })).totalUnread).toBe(1);

    const mark = fanout.sent.length;
    await chat.markRead(sam, id, 2, { socketId: 'phone' });
    expect(organised(mark)).toEqual([
      {
        users: ['sam'],
        event: 'conversation:organised',
        payload: {
          conversationId: id,
          muted: false,
          pinned: false,
          archived: false,
          unread: false,
        },
        except: 'phone',
      },
    ]);
    expect((await chat.listConversations(sam, { limit: 10 })).totalUnread).toBe(0);
  });

  it('sync carries the caller’s own organisation (it moves no version)', async () => {
    const id = await contacts(1);
    const before = await chat.sync(sam, {
      conversations: [{ conversationId: id, afterVersion: 0 }],
    });
    const version = before.conversations[0]!.version;
    await chat.organise(sam, { conversationId: id, unread: true, muted: true });
    const after = await chat.sync(sam, {
      conversations: [{ conversationId: id, afterVersion: version }],
    });
    expect(after.conversations[0]).toMatchObject({
      version,
      organisation: { muted: true, pinned: false, archived: false, unread: true },
    });
    const ritas = await chat.sync(rita, {
      conversations: [{ conversationId: id, afterVersion: version }],
    });
    // Absent: nothing organised by rita.
    expect(ritas.conversations[0]!.organisation).toBeUndefined();
  });

  it('a stranger to the conversation, or pinned and archived at once, is refused and changes nothing', async () => {
    const id = await contacts(1);
    const mark = fanout.sent.length;
    await expect(
      chat.organise({ userId: 'mallory', role: 'candidate' }, { conversationId: id, muted: true }),
    ).rejects.toThrow(NotMemberError);
    await expect(
      chat.organise(sam, { conversationId: id, pinned: true, archived: true }),
    ).rejects.toThrow(ValidationError);
    expect(organised(mark)).toEqual([]);
    expect((await chat.getConversation(sam, id)).organisation).toBeUndefined();
  });
});
