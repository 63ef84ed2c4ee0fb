import { expect } from '@jest/globals';
import { searchTerms, type ChatStore, type Conversation, type Message } from '../index.js';
import { type RegisterCase } from './contract-options.js';

interface SearchFixtures {
  store: () => ChatStore;
  at: (ms: number) => Date;
  direct: (a: string, b: string) => Promise<Conversation>;
  group: (...ids: string[]) => Promise<Conversation>;
}

/** The contract of `MessageStore.search`, registered inside the store contract suite. */
export function registerSearchCases(test: RegisterCase, f: SearchFixtures) {
  let key = 0;
  const send = async (c: Conversation, senderId: string, body: string, ms: number) =>
    (
      await f.store().messages.append({
        conversationId: c.id,
        senderId,
        clientMessageId: `search-${++key}`,
        body,
        createdAt: f.at(ms),
      })
    ).message;
  const search = (ids: string[], q: string, more: { limit?: number; before?: Message } = {}) =>
    f.store().messages.search({
      conversationIds: ids,
      terms: searchTerms(q),
      limit: more.limit ?? 50,
      ...(more.before && { before: { at: more.before.createdAt, id: more.before.id } }),
    });
  const bodies = (found: Message[]) => found.map((m) => m.body);

  test('search: every word, case and accents folded, newest first, only in the conversations named', async () => {
    const c = await f.direct('sa1', 'sb1');
    const d = await f.direct('sa1', 'sc1');
    const elsewhere = await f.direct('sx1', 'sy1');
    await send(c, 'sa1', 'Interview at the Café Central on Monday', 100);
    await send(d, 'sc1', 'café? no: the INTERVIEW is online', 200);
    await send(c, 'sb1', 'Monday works', 300);
    await send(elsewhere, 'sx1', 'interview café interview', 400);
    expect(bodies(await search([c.id, d.id], 'cafe interview'))).toEqual([
      'café? no: the INTERVIEW is online',
      'Interview at the Café Central on Monday',
    ]);
    expect(bodies(await search([c.id], 'monday'))).toEqual([
      'Monday works',
      'Interview at the Café Central on Monday',
    ]);
    // Words, not substrings.
    expect(await search([c.id, d.id], 'view')).toEqual([]);
    expect(await search([], 'interview')).toEqual([]);
  });

  test('search: pages newest first by (time, id) with no repeat and no gap, ties included', async () => {
    const c = await f.direct('sa2', 'sb2');
    const sent: Message[] = [];
    for (let i = 0; i < 7; i++)
      sent.push(await send(c, 'sa2', `offer letter ${i}`, 1000 + (i >> 1)));
    const seen: string[] = [];
    let before: Message | undefined;
    for (;;) {
      const page = await search([c.id], 'offer', { limit: 3, ...(before && { before }) });
      seen.push(...page.map((m) => m.id));
      if (page.length < 3) break;
      before = page.at(-1);
    }
    const expected = [...sent]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .map((m) => m.id);
    expect(seen).toEqual(expected);
  });

  test('search: an edit matches by its new text; deleted and system messages never match', async () => {
    const c = await f.direct('sa3', 'sb3');
    const edited = await send(c, 'sa3', 'salary 50k', 100);
    const deleted = await send(c, 'sa3', 'salary negotiable', 200);
    await f.store().messages.append({
      conversationId: c.id,
      senderId: '$system',
      clientMessageId: `search-${++key}`,
      body: 'salary band published',
      createdAt: f.at(300),
      kind: 'system',
    });
    await f.store().messages.revise(c.id, edited.id, {
      kind: 'edit',
      body: 'compensation 55k',
      at: f.at(400),
    });
    await f.store().messages.revise(c.id, deleted.id, {
      kind: 'delete',
      by: 'sa3',
      at: f.at(500),
    });
    expect(await search([c.id], 'salary')).toEqual([]);
    expect(bodies(await search([c.id], 'compensation'))).toEqual(['compensation 55k']);
  });

  test('search: excluded senders never match in the conversations named, and still do elsewhere', async () => {
    const g = await f.group('sa4', 'sb4', 'sc4');
    const c = await f.direct('sa4', 'sb4');
    await send(g, 'sb4', 'portfolio link', 100);
    await send(g, 'sc4', 'portfolio attached', 200);
    await send(c, 'sb4', 'portfolio again', 300);
    const found = await f.store().messages.search({
      conversationIds: [g.id, c.id],
      terms: ['portfolio'],
      exclude: { conversationIds: [g.id], senderIds: ['sb4'] },
      limit: 10,
    });
    expect(bodies(found)).toEqual(['portfolio again', 'portfolio attached']);
    expect(bodies(await search([g.id, c.id], 'portfolio', { limit: 2 }))).toEqual([
      'portfolio again',
      'portfolio attached',
    ]);
  });
}
