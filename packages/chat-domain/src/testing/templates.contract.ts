import { afterAll, beforeAll, beforeEach, describe, expect } from '@jest/globals';
import { type ChatStore, type NewTemplate } from '../index.js';
import { caseRegistrar, type ContractOptions } from './contract-options.js';

/**
 * Message templates (issue 27) in every store: one name per owner (case folded), the per-owner
 * cap holds under concurrent creation and a deletion frees a place, only the owner changes or
 * deletes one, and a conversation's variable values are replaced whole and kept literally.
 */
export function describeTemplatesContract(
  name: string,
  open: () => Promise<ChatStore>,
  close: (store: ChatStore) => Promise<void>,
  options: ContractOptions = {},
) {
  const test = caseRegistrar(options);
  describe(`${name} templates contract`, () => {
    let store: ChatStore;
    let round = 0;
    let owner = '';
    const at = new Date(Date.UTC(2030, 0, 1));
    const template = (over: Partial<NewTemplate> = {}): NewTemplate => ({
      owner,
      name: 'Interview invitation',
      body: 'Hello {{candidate.firstName}}, shall we talk about {{job.title}}?',
      variables: ['candidate.firstName', 'job.title'],
      createdAt: at,
      updatedAt: at,
      ...over,
    });

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await close(store);
    });
    beforeEach(() => {
      round += 1;
      owner = `user:recruiter-${round}-${Date.now()}`;
    });

    test('stores, gets and lists an owner’s templates by name, not another owner’s', async () => {
      const b = await store.templates.create(template({ name: 'Beta' }), 10);
      const a = await store.templates.create(template({ name: 'Alpha' }), 10);
      if (typeof a === 'string' || typeof b === 'string') throw new Error('not created');
      expect(a).toMatchObject({
        owner,
        name: 'Alpha',
        variables: ['candidate.firstName', 'job.title'],
      });
      expect(await store.templates.get(a.id)).toEqual(a);
      await store.templates.create(template({ owner: `${owner}-other`, name: 'Aaa' }), 10);
      const listed = await store.templates.list([owner], 10);
      expect(listed.map((t) => t.name)).toEqual(['Alpha', 'Beta']);
      const both = await store.templates.list([owner, `${owner}-other`], 10);
      expect(both.map((t) => t.name)).toEqual(['Aaa', 'Alpha', 'Beta']);
      expect(await store.templates.list([owner], 1)).toHaveLength(1);
      expect(await store.templates.get('0123456789abcdef01234567')).toBeNull();
    });

    test('one name per owner, whatever the case; another owner may use it', async () => {
      expect(typeof (await store.templates.create(template(), 10))).toBe('object');
      expect(await store.templates.create(template({ name: 'INTERVIEW invitation' }), 10)).toBe(
        'duplicate',
      );
      expect(typeof (await store.templates.create(template({ owner: `${owner}-b` }), 10))).toBe(
        'object',
      );
      // The refused duplicate took no place.
      expect(typeof (await store.templates.create(template({ name: 'Second' }), 2))).toBe('object');
    });

    test('the per-owner cap holds under concurrent creation, and a deletion frees a place', async () => {
      const made = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.templates.create(template({ name: `T${i}` }), 3)),
      );
      const created = made.filter((t) => typeof t === 'object');
      expect(created).toHaveLength(3);
      expect(made.filter((t) => t === 'full')).toHaveLength(5);
      expect(await store.templates.create(template({ name: 'One more' }), 3)).toBe('full');
      const first = created[0]!;
      expect(await store.templates.remove(first.id, owner)).toBe(true);
      expect(typeof (await store.templates.create(template({ name: 'One more' }), 3))).toBe(
        'object',
      );
      expect(await store.templates.list([owner], 10)).toHaveLength(3);
    });

    test('only the owner changes or deletes one; a rename to a taken name is refused', async () => {
      const t = await store.templates.create(template(), 10);
      const u = await store.templates.create(template({ name: 'Other' }), 10);
      if (typeof t === 'string' || typeof u === 'string') throw new Error('not created');
      const later = new Date(at.getTime() + 1000);
      expect(
        await store.templates.update(t.id, `${owner}-x`, { name: 'Mine', updatedAt: later }),
      ).toBeNull();
      expect(await store.templates.remove(t.id, `${owner}-x`)).toBe(false);
      expect(await store.templates.update(t.id, owner, { name: 'other', updatedAt: later })).toBe(
        'duplicate',
      );
      const changed = await store.templates.update(t.id, owner, {
        name: 'Renamed',
        body: 'Hi {{candidate.firstName}}',
        variables: ['candidate.firstName'],
        updatedAt: later,
      });
      expect(changed).toMatchObject({
        id: t.id,
        name: 'Renamed',
        body: 'Hi {{candidate.firstName}}',
        variables: ['candidate.firstName'],
        updatedAt: later,
        createdAt: at,
      });
      // The old name is free again.
      expect(typeof (await store.templates.create(template(), 10))).toBe('object');
      expect(await store.templates.remove(t.id, owner)).toBe(true);
      expect(await store.templates.get(t.id)).toBeNull();
      expect(await store.templates.remove(t.id, owner)).toBe(false);
    });

    test('forgetting an owner deletes their templates and frees their places, not another’s', async () => {
      await store.templates.create(template({ name: 'A' }), 2);
      await store.templates.create(template({ name: 'B' }), 2);
      const other = await store.templates.create(template({ owner: `${owner}-kept` }), 2);
      expect(await store.templates.create(template({ name: 'C' }), 2)).toBe('full');
      await store.templates.forgetOwner(owner);
      expect(await store.templates.list([owner], 10)).toEqual([]);
      expect(typeof (await store.templates.create(template({ name: 'A' }), 2))).toBe('object');
      expect(typeof (await store.templates.create(template({ name: 'B' }), 2))).toBe('object');
      expect(await store.templates.list([`${owner}-kept`], 10)).toEqual([other]);
    });

    test('a conversation’s values are replaced whole and kept literally', async () => {
      const conversationId = `conv-${round}-${Date.now()}`;
      expect(await store.templates.variables(conversationId)).toEqual([]);
      const hostile = [
        { name: 'candidate.firstName', value: '{{job.title}} $& $1 <b>' },
        { name: 'candidate.constructor', value: '__proto__' },
        { name: 'job.title', value: 'x'.repeat(500) },
      ];
      await store.templates.setVariables(conversationId, hostile, at);
      expect(await store.templates.variables(conversationId)).toEqual(hostile);
      await store.templates.setVariables(
        conversationId,
        [{ name: 'job.title', value: 'Welder' }],
        at,
      );
      expect(await store.templates.variables(conversationId)).toEqual([
        { name: 'job.title', value: 'Welder' },
      ]);
      expect(await store.templates.variables(`${conversationId}-other`)).toEqual([]);
    });
  });
}
