import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import {
  BlockedError,
  ConflictError,
  NotMemberError,
  ValidationError,
  directKey,
  type ChatStore,
  type MessageDraft,
  type ReactionSettings,
} from '../index.js';
import { caseRegistrar, type ContractOptions } from './contract-options.js';

/**
 * The store operations of replies, mentions and reactions (issue 26), held to one contract on
 * every store: the reply's target read with the append, mentions kept and counted with it,
 * reactions decided atomically with their write and recovered by `changesSince`.
 */
export function describeFeaturesContract(
  name: string,
  open: () => Promise<ChatStore>,
  close: (store: ChatStore) => Promise<void>,
  options: ContractOptions = {},
) {
  const test = caseRegistrar(options);
  describe(`${name} replies, mentions and reactions contract`, () => {
    let store: ChatStore;
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
    const settings: ReactionSettings = { perPerson: 2, perMessage: 3 };
    let unique = 0;
    const group = async (ids: string[], joinedAt: (id: string) => number = () => 0) =>
      (
        await store.conversations.create({
          kind: 'group',
          title: `group ${++unique}`,
          members: ids.map((userId, i) => ({
            userId,
            role: i === 0 ? ('owner' as const) : ('member' as const),
            joinedAt: at(joinedAt(userId)),
          })),
          createdBy: ids[0]!,
          createdAt: at(0),
        })
      ).conversation;
    const direct = async (a: string, b: string) =>
      (
        await store.conversations.create({
          // The pair's own key (a block finds the pair's conversations by it), one per test.
          kind: 'direct',
          members: [
            { userId: a, role: 'owner', joinedAt: at(0) },
            { userId: b, role: 'member', joinedAt: at(0) },
          ],
          createdBy: a,
          createdAt: at(0),
          directKey: directKey(a, b, { jobId: `features-${++unique}` }),
        })
      ).conversation;
    const draft = (
      conversationId: string,
      senderId: string,
      key: string,
      extra: Partial<MessageDraft> = {},
      ms = 10,
    ): MessageDraft => ({
      conversationId,
      senderId,
      clientMessageId: key,
      body: `body of ${key}`,
      createdAt: at(ms),
      ...extra,
    });

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await close(store);
    });

    test('stores a reply with the id it quotes and answers the target read beside the append', async () => {
      const c = await group(['fr1', 'fc1', 'fc2']);
      const first = await store.messages.append(draft(c.id, 'fc1', 'q1'));
      const reply = await store.messages.append(
        draft(c.id, 'fr1', 'q2', { replyTo: first.message.id }),
      );
      expect(reply.message.replyTo).toBe(first.message.id);
      expect(reply.replyTarget).toMatchObject({ id: first.message.id, body: 'body of q1' });
      const [stored] = await store.messages.page(c.id, { after: 1, limit: 5 });
      expect(stored?.replyTo).toBe(first.message.id);
      // The target as it is now: its edit shows to whoever reads the reply afterwards.
      await store.messages.revise(c.id, first.message.id, {
        kind: 'edit',
        body: 'edited',
        at: at(20),
      });
      const [target] = await store.messages.getMany(c.id, [first.message.id]);
      expect(target?.body).toBe('edited');
    });

    test('refuses a reply to what the sender cannot see, and stores nothing', async () => {
      const c = await group(['fr2', 'fc3', 'late'], (id) => (id === 'late' ? 100 : 0));
      const other = await direct('fr2', 'fc4');
      const elsewhere = await store.messages.append(draft(other.id, 'fr2', 'x1'));
      const early = await store.messages.append(draft(c.id, 'fc3', 'e1', {}, 50));
      const gone = await store.messages.append(draft(c.id, 'fc3', 'e2', {}, 150));
      await store.messages.revise(c.id, gone.message.id, {
        kind: 'delete',
        by: 'fc3',
        at: at(160),
      });
      const refusals: [string, string, string][] = [
        ['fr2', elsewhere.message.id, 'no such message in this conversation'],
        ['fr2', '000000000000000000000000', 'no such message in this conversation'],
        ['fr2', 'not-an-id', 'no such message in this conversation'],
        ['fr2', gone.message.id, 'the message replied to was deleted'],
        ['late', early.message.id, 'the message replied to was sent before you joined'],
      ];
      for (const [sender, replyTo, reason] of refusals) {
        const refused = store.messages.append(
          draft(c.id, sender, `bad-${replyTo}`, { replyTo }, 200),
        );
        await expect(refused).rejects.toBeInstanceOf(ValidationError);
        await expect(refused).rejects.toMatchObject({
          issues: [{ path: 'replyTo', message: reason }],
        });
      }
      const history = await store.messages.page(c.id, { limit: 10 });
      expect(history.map((m) => m.clientMessageId)).toEqual(['e1', 'e2']);
      // The same clientMessageId with a visible target is stored, once.
      const fixed = await store.messages.append(
        draft(c.id, 'fr2', `bad-${elsewhere.message.id}`, { replyTo: early.message.id }, 200),
      );
      expect(fixed.duplicate).toBe(false);
      expect(fixed.message.replyTo).toBe(early.message.id);
      // A member who joined before it may reply to it.
      const ok = await store.messages.append(
        draft(c.id, 'late', 'l1', { replyTo: fixed.message.id }, 210),
      );
      expect(ok.message.replyTo).toBe(fixed.message.id);
    });

    test('keeps the mentions of joined members only, and counts them per member until read', async () => {
      const c = await group(['fr3', 'fc5', 'fc6']);
      const sent = await store.messages.append(
        draft(c.id, 'fr3', 'm1', { mentions: ['fc5', 'stranger', 'fr3', 'fc5'] }),
      );
      expect(sent.message.mentions).toEqual(['fc5']);
      const second = await store.messages.append(
        draft(c.id, 'fr3', 'm2', { mentions: ['fc5', 'fc6'] }),
      );
      const seqs = (id: string) =>
        store.conversations
          .get(c.id)
          .then((now) => now?.members.find((m) => m.userId === id)?.mentionSeqs ?? []);
      expect(await seqs('fc5')).toEqual([sent.message.seq, second.message.seq]);
      expect(await seqs('fc6')).toEqual([second.message.seq]);
      expect(await seqs('fr3')).toEqual([]);
      // Stored with the message, as ids: history and sync carry them.
      const page = await store.messages.page(c.id, { limit: 5 });
      expect(page.map((m) => m.mentions)).toEqual([['fc5'], ['fc5', 'fc6']]);
      // A direct conversation keeps none.
      const d = await direct('fr3', 'fc5');
      const plain = await store.messages.append(draft(d.id, 'fr3', 'm3', { mentions: ['fc5'] }));
      expect(plain.message.mentions).toBeUndefined();
    });

    test('keeps at most 50 mentions of a member per conversation, the newest', async () => {
      const c = await group(['fr4', 'fc7']);
      for (let i = 0; i < 52; i++)
        await store.messages.append(draft(c.id, 'fr4', `many-${i}`, { mentions: ['fc7'] }));
      const now = await store.conversations.get(c.id);
      const kept = now?.members.find((m) => m.userId === 'fc7')?.mentionSeqs ?? [];
      expect(kept).toHaveLength(50);
      expect(Math.max(...kept)).toBe(52);
      expect(Math.min(...kept)).toBe(3);
    });

    test('puts a reaction on and off at a new version each time; repeating changes nothing', async () => {
      const c = await group(['fr5', 'fc8']);
      const { message } = await store.messages.append(draft(c.id, 'fc8', 'r1'));
      const on = await store.messages.react(
        c.id,
        message.id,
        { userId: 'fr5', emoji: '👍', on: true },
        settings,
      );
      expect(on?.changed).toBe(true);
      expect(on?.message.reactions).toEqual([{ userId: 'fr5', emoji: '👍' }]);
      expect(on!.message.version).toBeGreaterThan(message.version);
      const again = await store.messages.react(
        c.id,
        message.id,
        { userId: 'fr5', emoji: '👍', on: true },
        settings,
      );
      expect(again).toMatchObject({ changed: false, message: { version: on!.message.version } });
      // A device that had the message syncs the reaction from the version it had.
      const changes = await store.messages.changesSince(c.id, message.version, 10);
      expect(changes.messages.map((m) => [m.id, m.reactions])).toEqual([
        [message.id, [{ userId: 'fr5', emoji: '👍' }]],
      ]);
      const off = await store.messages.react(
        c.id,
        message.id,
        { userId: 'fr5', emoji: '👍', on: false },
        settings,
      );
      expect(off?.changed).toBe(true);
      expect(off?.message.reactions ?? []).toEqual([]);
      expect(off!.message.version).toBeGreaterThan(on!.message.version);
      const offAgain = await store.messages.react(
        c.id,
        message.id,
        { userId: 'fr5', emoji: '👍', on: false },
        settings,
      );
      expect(offAgain?.changed).toBe(false);
    });

    test('caps reactions per person and distinct ones per message, and refuses what a send is refused', async () => {
      const c = await group(['fr6', 'fc9', 'fc10', 'fc11']);
      const { message } = await store.messages.append(draft(c.id, 'fc9', 'r2'));
      const react = (userId: string, emoji: string) =>
        store.messages.react(c.id, message.id, { userId, emoji, on: true }, settings);
      await react('fr6', '👍');
      await react('fr6', '🎉');
      await expect(react('fr6', '❤️')).rejects.toThrow(
        new ConflictError('at most 2 reactions per person on a message'),
      );
      await react('fc9', '❤️');
      await expect(react('fc10', '😂')).rejects.toThrow(
        new ConflictError('at most 3 different reactions on a message'),
      );
      // An emoji already there is not a new one.
      expect((await react('fc10', '👍'))?.changed).toBe(true);
      await expect(react('fc11', 'x')).rejects.toBeInstanceOf(ValidationError);
      await expect(react('stranger', '👍')).rejects.toBeInstanceOf(NotMemberError);
      const now = await store.messages.get(c.id, message.id);
      expect(now?.reactions).toHaveLength(4);
      // Across a block in a direct conversation, nothing moves.
      const d = await direct('fr6', 'fc9');
      const { message: m } = await store.messages.append(draft(d.id, 'fc9', 'r3'));
      await store.conversations.setBlocked('fr6', 'fc9', true);
      await expect(
        store.messages.react(d.id, m.id, { userId: 'fr6', emoji: '👍', on: true }, settings),
      ).rejects.toBeInstanceOf(BlockedError);
      await store.conversations.setBlocked('fr6', 'fc9', false);
      // A deleted message takes none.
      await store.messages.revise(d.id, m.id, { kind: 'delete', by: 'fc9', at: at(30) });
      expect(
        await store.messages.react(d.id, m.id, { userId: 'fr6', emoji: '👍', on: true }, settings),
      ).toBeNull();
    });

    test('keeps every one of concurrent reactions (each decided on the others\u2019)', async () => {
      const people = ['fr7', 'p1', 'p2', 'p3', 'p4', 'p5'];
      const c = await group(people);
      const { message } = await store.messages.append(draft(c.id, 'fr7', 'r4'));
      const wide = { perPerson: 3, perMessage: 20 };
      await Promise.all(
        people.map((userId) =>
          store.messages.react(c.id, message.id, { userId, emoji: '👍', on: true }, wide),
        ),
      );
      const now = await store.messages.get(c.id, message.id);
      expect(now?.reactions?.map((r) => r.userId).sort()).toEqual([...people].sort());
      const changes = await store.messages.changesSince(c.id, message.version, 10);
      expect(changes.messages).toHaveLength(1);
    });

    test('getMany answers the ids of this conversation only', async () => {
      const c = await group(['fr8', 'fc12']);
      const d = await direct('fr8', 'fc12');
      const here = await store.messages.append(draft(c.id, 'fr8', 'g1'));
      const there = await store.messages.append(draft(d.id, 'fr8', 'g2'));
      const found = await store.messages.getMany(c.id, [
        here.message.id,
        there.message.id,
        'not-an-id',
      ]);
      expect(found.map((m) => m.id)).toEqual([here.message.id]);
    });
  });
}
