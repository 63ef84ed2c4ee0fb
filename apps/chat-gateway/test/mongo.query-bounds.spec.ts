import { dayOf, directKey, type MessageDraft } from '@jobsphere/chat-domain';
import { MongoWireServer, type ExaminedCommand } from '@jobsphere/testing';
import { Types } from 'mongoose';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';

const CONVERSATIONS = 10_000;
/** Documents one store query may read: a page and a little, never the collection. */
const BOUND = 60;

// With 10,000 conversations stored and DocumentDB's planner rules on (a sparse index only for
// `$exists: true`, no index for negations), every query the store sends reads a bounded number
// of documents: a collection scan on the production store would grow with the user base.
describe('MongoDB store queries at 10,000 conversations (DocumentDB planner rules)', () => {
  let server: MongoWireServer;
  let store: MongoChatStore;
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
  const member = (userId: string, role: 'owner' | 'member') => ({ userId, role, joinedAt: at(0) });
  const draft = (conversationId: string, senderId: string, key: string): MessageDraft => ({
    conversationId,
    senderId,
    clientMessageId: key,
    body: `body of ${key}`,
    createdAt: at(100),
  });

  beforeAll(async () => {
    server = new MongoWireServer({ documentDbRules: true, indexBuildMs: 5 });
    const port = await server.listen();
    store = await MongoChatStore.connect({ uri: `mongodb://127.0.0.1:${port}/bounds` });
    // Seed: copies of a conversation the store made, between 2,000 other people.
    const { conversation } = await store.conversations.create({
      kind: 'direct',
      members: [member('seed-a', 'owner'), member('seed-b', 'member')],
      createdBy: 'seed-a',
      createdAt: at(1),
      directKey: directKey('seed-a', 'seed-b'),
    });
    const raw = store.connection.collection('conversations');
    const template = (await raw.findOne({ _id: new Types.ObjectId(conversation.id) }))!;
    const docs = Array.from({ length: CONVERSATIONS - 1 }, (_, i) => {
      const a = `user${i % 2_000}`;
      const b = `user${(i * 7 + 1) % 2_000}-${i}`;
      return {
        ...template,
        _id: new Types.ObjectId(),
        members: [member(a, 'owner'), member(b, 'member')],
        memberIds: [a, b],
        directKey: directKey(a, b),
        lastActivityAt: at(i),
      };
    });
    for (let i = 0; i < docs.length; i += 1_000) await raw.insertMany(docs.slice(i, i + 1_000));
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await server?.close();
  });

  it('reads a bounded number of documents per query', async () => {
    const figures: { step: string; docsExamined: number; plans: string[] }[] = [];
    const worst: ExaminedCommand[] = [];
    const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      server.startExamining();
      const value = await work();
      const examined = server.takeExamined();
      const top = examined.reduce<ExaminedCommand | undefined>(
        (a, b) => (a && a.docsExamined >= b.docsExamined ? a : b),
        undefined,
      );
      figures.push({
        step: name,
        docsExamined: top?.docsExamined ?? 0,
        plans: [...new Set(examined.flatMap((e) => e.plans))],
      });
      if (top && top.docsExamined > BOUND) worst.push(top);
      return value;
    };
    const direct = (a: string, b: string, request = false) =>
      store.conversations.create({
        kind: 'direct',
        members: [member(a, 'owner'), member(b, 'member')],
        createdBy: a,
        createdAt: at(2),
        directKey: directKey(a, b),
        ...(request && { request: { from: a, to: b }, requestAllowance: 2 }),
      });

    const { conversation: ab } = await step('create a direct conversation', () =>
      direct('alice', 'bob'),
    );
    await step('create it again (the creation race: lookup by directKey)', () =>
      direct('alice', 'bob'),
    );
    const { conversation: ac } = await step('open a request to a stranger', () =>
      direct('alice', 'carol', true),
    );
    await step('requestBetween', () => store.conversations.requestBetween('alice', 'carol'));
    const sent = await step('append', () => store.messages.append(draft(ab.id, 'alice', 'm1')));
    await step('append within a request', () => store.messages.append(draft(ac.id, 'alice', 'r1')));
    await step('append a duplicate', () => store.messages.append(draft(ab.id, 'alice', 'm1')));
    await step('page history', () => store.messages.page(ab.id, { limit: 50 }));
    await step('changesSince', () => store.messages.changesSince(ab.id, 0, 100));
    await step('revise (edit)', () =>
      store.messages.revise(ab.id, sent.message.id, { kind: 'edit', body: 'edited', at: at(200) }),
    );
    await step('listForMember (inbox)', () =>
      store.conversations.listForMember('alice', { limit: 20 }),
    );
    await step('listForMember (requests)', () =>
      store.conversations.listForMember('carol', { limit: 20, box: 'requests' }),
    );
    await step('advanceRead', () => store.conversations.advanceRead(ab.id, 'bob', 1));
    await step('unreadSummary', () => store.conversations.unreadSummary('bob', 50));
    await step('answerRequest (accept)', () =>
      store.conversations.answerRequest(ac.id, 'carol', 'accept'),
    );
    await step('block', () => store.contacts.block('alice', 'bob', at(300)));
    await step('setBlocked (on)', () => store.conversations.setBlocked('alice', 'bob', true));
    await step('setBlocked (off)', () => store.conversations.setBlocked('alice', 'bob', false));
    await step('unblock', () => store.contacts.unblock('alice', 'bob'));
    await step('contacts among', () => store.contacts.among('alice', ['bob', 'carol', 'dave']));
    await step('contacts audience', () => store.contacts.audience('alice', 100));
    await step('blockedAmong', () => store.contacts.blockedAmong('alice', ['bob', 'carol']));
    const answers = store.responseTimes;
    await step('response times: a candidate waits', () => answers.awaitAnswer(ab.id, at(400)));
    await step('response times: an answer takes the wait', () =>
      answers.takeAwaiting(ab.id, at(500)),
    );
    await step('response times: the answer recorded', () =>
      answers.recordAnswer({
        conversationId: ab.id,
        recruiterId: 'bob',
        companyId: 'acme',
        answeredAt: at(500),
        ms: 100,
        answer: 0,
      }),
    );
    await step('response times: a conversation', () => answers.conversation(ab.id));
    await step('response times: 90 days of a company', () =>
      answers.days({ kind: 'company', id: 'acme' }, dayOf(at(500)) - 89, dayOf(at(500))),
    );

    const width = Math.max(...figures.map((f) => f.step.length));
    console.log(
      `[figure] documents examined per store query, ${CONVERSATIONS} conversations, DocumentDB rules:\n` +
        figures
          .map(
            (f) =>
              `  ${f.step.padEnd(width)}  ${String(f.docsExamined).padStart(6)}  ${f.plans.join(', ')}`,
          )
          .join('\n'),
    );
    expect(worst.map((w) => ({ filter: w.filter, docsExamined: w.docsExamined }))).toEqual([]);
  }, 60_000);
});
