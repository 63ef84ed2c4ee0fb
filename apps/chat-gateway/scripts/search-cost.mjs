// Search cost on the emulator (a measurement, not a test): 100,000 messages in 1,000
// conversations, one searcher in 100 of them (SEARCH_LIMITS.maxConversations); each query
// timed (median of 30, store round trip included) with the documents it read. Run after
// `pnpm build`: node scripts/search-cost.mjs [messages]
import { searchTerms } from '@jobsphere/chat-domain';
import { startMongoWireServer } from '@jobsphere/testing';
import { performance } from 'node:perf_hooks';
import { Types } from 'mongoose';
import { MongoChatStore } from '../dist/persistence/mongo/mongo.store.js';
import { searchKeysOf } from '../dist/persistence/mongo/models.js';

const total = Number(process.argv[2] ?? 100_000);
const conversations = 1_000;
const searcherShare = 100;
// A vocabulary with a few frequent words and a long tail, as chat has.
const vocabulary = Array.from({ length: 5_000 }, (_, i) => `w${i.toString(36)}`);
const common = ['interview', 'the', 'monday', 'offer'];
let seed = 42;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const word = () => {
  const r = random();
  if (r < 0.15) return common[Math.floor(random() * common.length)];
  return vocabulary[Math.floor(vocabulary.length * random() ** 3)];
};

const mongo = await startMongoWireServer({ replicaSet: 'rs0', documentDbRules: true });
const store = await MongoChatStore.connect({ uri: mongo.uri });
try {
  const ids = Array.from({ length: conversations }, () => new Types.ObjectId().toHexString());
  const messages = store.connection.collection('messages');
  const started = Date.now();
  const batch = [];
  let keys = 0;
  let keyBytes = 0;
  for (let i = 0; i < total; i++) {
    const conversationId = ids[i % conversations];
    const body = Array.from({ length: 12 }, word).join(' ') + ` unique${i}`;
    const searchKeys = searchKeysOf(conversationId, body);
    keys += searchKeys.length;
    keyBytes += searchKeys.reduce((n, k) => n + k.length, 0);
    batch.push({
      _id: new Types.ObjectId(),
      conversationId,
      seq: Math.floor(i / conversations) + 1,
      version: Math.floor(i / conversations) + 1,
      senderId: `user${i % 7}`,
      clientMessageId: `m${i}`,
      kind: 'user',
      body,
      createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1_000),
      searchKeys,
    });
    if (batch.length === 1_000) await messages.insertMany(batch.splice(0));
  }
  console.log(
    `${total} messages in ${conversations} conversations stored in ${Date.now() - started} ms; ` +
      `${(keys / total).toFixed(1)} index keys per message (${Math.round(keyBytes / total)} B of ` +
      'keys per message, stored in the document and again in the index)',
  );

  const mine = ids.slice(0, searcherShare);
  const queries = [
    ['a rare word (one message)', `unique${total - conversations}`],
    ['a common word', 'interview'],
    ['two common words', 'interview monday'],
    ['a mid-frequency word', vocabulary[300]],
    ['no match', 'zzzz'],
  ];
  for (const [what, q] of queries) {
    const run = () =>
      store.messages.search({ conversationIds: mine, terms: searchTerms(q), limit: 21 });
    for (let i = 0; i < 3; i++) await run();
    const times = [];
    let hits = 0;
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      hits = (await run()).length;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    await mongo.startExamining();
    await run();
    const [examined] = (await mongo.takeExamined()).filter((e) => e.collection === 'messages');
    console.log(
      `${what} ("${q}"): median ${times[15].toFixed(1)} ms, p90 ${times[27].toFixed(1)} ms, ` +
        `${hits} hits (page of 20 + 1), ${examined?.docsExamined} documents read, ` +
        `plan ${examined?.plans.join(' ')}`,
    );
  }
} finally {
  await store.close();
  await mongo.stop();
}
