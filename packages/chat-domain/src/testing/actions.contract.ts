import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { NotMemberError, SYSTEM_SENDER, type ActionCard, type ChatStore } from '../index.js';
import { caseRegistrar, type ContractOptions } from './contract-options.js';

/**
 * Action messages (issue 27) in every store: the card is stored with its system message, and an
 * answer is a revision applied only where `decideAnswer` admits it, atomically with taking a
 * version; racing answers leave exactly one where the card takes one.
 */
export function describeActionContract(
  name: string,
  open: () => Promise<ChatStore>,
  close: (store: ChatStore) => Promise<void>,
  options: ContractOptions = {},
) {
  const test = caseRegistrar(options);
  describe(`${name} action messages contract`, () => {
    let store: ChatStore;
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
    let unique = 0;
    const group = async (...ids: string[]) =>
      (
        await store.conversations.create({
          kind: 'group',
          title: 'Panel',
          members: ids.map((userId, i) => ({
            userId,
            role: i === 0 ? ('owner' as const) : ('member' as const),
            joinedAt: at(0),
          })),
          createdBy: ids[0]!,
          createdAt: at(1),
          directKey: `actions:${++unique}`,
        })
      ).conversation;
    const card = (over: Partial<ActionCard> = {}): ActionCard => ({
      title: 'Pick a slot',
      actions: [
        { id: 'mon', label: 'Monday 10:00', kind: 'slot', startsAt: at(86_400_000) },
        { id: 'tue', label: 'Tuesday 14:00', kind: 'slot', startsAt: at(2 * 86_400_000) },
        { id: 'job', label: 'The job', kind: 'link', url: 'https://jobs.example/1' },
      ],
      expiresAt: at(60_000),
      once: true,
      answers: [],
      ...over,
    });
    const post = async (conversationId: string, action: ActionCard, key = `card-${++unique}`) =>
      (
        await store.messages.append({
          conversationId,
          senderId: SYSTEM_SENDER,
          clientMessageId: key,
          kind: 'system',
          body: 'When can you come in?',
          createdAt: at(10),
          action,
        })
      ).message;
    const answer = (
      conversationId: string,
      messageId: string,
      userId: string,
      actionId: string,
      ms = 20,
    ) =>
      store.messages.revise(
        conversationId,
        messageId,
        { kind: 'answer', userId, actionId, at: at(ms) },
        { actor: userId },
      );

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await close(store);
    });

    test('stores the card with its system message and reads it back everywhere', async () => {
      const c = await group('r', 'c');
      const stored = await post(c.id, card());
      expect(stored.action).toEqual(card());
      expect((await store.messages.get(c.id, stored.id))?.action).toEqual(card());
      expect((await store.messages.page(c.id, { limit: 10 }))[0]?.action).toEqual(card());
      expect((await store.messages.changesSince(c.id, 0, 10)).messages[0]?.action).toEqual(card());
    });

    test('an answer is a change at a new version: sync from before finds it', async () => {
      const c = await group('r', 'c');
      const stored = await post(c.id, card());
      const answered = await answer(c.id, stored.id, 'c', 'tue');
      expect(answered?.version).toBeGreaterThan(stored.version);
      expect(answered?.action?.answers).toEqual([{ userId: 'c', actionId: 'tue', at: at(20) }]);
      const changes = await store.messages.changesSince(c.id, stored.version, 10);
      expect(changes.messages.map((m) => [m.id, m.action?.answers.length])).toEqual([
        [stored.id, 1],
      ]);
      expect((await store.conversations.get(c.id))?.version).toBeGreaterThanOrEqual(
        answered!.version,
      );
    });

    test('a card that takes one answer refuses the second, whoever gives it', async () => {
      const c = await group('r', 'c', 'd');
      const stored = await post(c.id, card());
      expect(await answer(c.id, stored.id, 'c', 'mon')).not.toBeNull();
      expect(await answer(c.id, stored.id, 'd', 'tue')).toBeNull();
      expect(await answer(c.id, stored.id, 'c', 'tue')).toBeNull();
      expect((await store.messages.get(c.id, stored.id))?.action?.answers).toEqual([
        { userId: 'c', actionId: 'mon', at: at(20) },
      ]);
    });

    test('a card for everyone takes one answer per member', async () => {
      const c = await group('r', 'c', 'd');
      const stored = await post(c.id, card({ once: false }));
      expect(await answer(c.id, stored.id, 'c', 'mon')).not.toBeNull();
      expect(await answer(c.id, stored.id, 'd', 'tue', 21)).not.toBeNull();
      expect(await answer(c.id, stored.id, 'c', 'tue', 22)).toBeNull();
      expect(
        (await store.messages.get(c.id, stored.id))?.action?.answers.map((a) => a.userId),
      ).toEqual(['c', 'd']);
    });

    test('refuses an answer at or after the expiry, to a link, to an unknown action, or with no card', async () => {
      const c = await group('r', 'c');
      const stored = await post(c.id, card());
      expect(await answer(c.id, stored.id, 'c', 'mon', 60_000)).toBeNull();
      expect(await answer(c.id, stored.id, 'c', 'job')).toBeNull();
      expect(await answer(c.id, stored.id, 'c', 'wed')).toBeNull();
      const plain = await store.messages.append({
        conversationId: c.id,
        senderId: 'r',
        clientMessageId: `plain-${++unique}`,
        body: 'hello',
        createdAt: at(10),
      });
      expect(await answer(c.id, plain.message.id, 'c', 'mon')).toBeNull();
      const after = await store.messages.get(c.id, stored.id);
      expect(after?.action?.answers).toEqual([]);
      expect(after?.version).toBe(stored.version);
    });

    test('someone who is not a member cannot answer, and nothing changes', async () => {
      const c = await group('r', 'c');
      const stored = await post(c.id, card());
      await expect(answer(c.id, stored.id, 'x', 'mon')).rejects.toBeInstanceOf(NotMemberError);
      expect((await store.messages.get(c.id, stored.id))?.action?.answers).toEqual([]);
    });

    test('a deleted action message keeps no card and takes no answer', async () => {
      const c = await group('r', 'c');
      const stored = await post(c.id, card());
      await store.messages.revise(c.id, stored.id, { kind: 'delete', by: 'admin', at: at(15) });
      const gone = await store.messages.get(c.id, stored.id);
      expect(gone?.action).toBeUndefined();
      expect(await answer(c.id, stored.id, 'c', 'mon')).toBeNull();
    });

    test('racing answers from two members leave exactly one', async () => {
      const c = await group('r', 'c', 'd');
      const stored = await post(c.id, card());
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          answer(c.id, stored.id, i % 2 ? 'c' : 'd', i % 2 ? 'mon' : 'tue'),
        ),
      );
      const winners = results.filter((m) => m !== null);
      expect(winners).toHaveLength(1);
      const final = await store.messages.get(c.id, stored.id);
      expect(final?.action?.answers).toEqual(winners[0]?.action?.answers);
      expect(final?.action?.answers).toHaveLength(1);
    });
  });
}
