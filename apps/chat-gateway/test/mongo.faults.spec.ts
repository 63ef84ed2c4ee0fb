import { MongoWireServer } from '@jobsphere/testing';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';

// The store against the faults of a DocumentDB primary (the emulator's, switched on per test).
describe('MongoDB store under store faults (DocumentDB rules)', () => {
  let server: MongoWireServer;
  let uri: string;
  const stores: MongoChatStore[] = [];
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
  const open = async () => {
    const store = await MongoChatStore.connect({ uri, deadlineMs: 1_500 });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    server = new MongoWireServer({ replicaSet: 'rs0', documentDbRules: true, indexBuildMs: 100 });
    uri = `mongodb://127.0.0.1:${await server.listen()}/faults?replicaSet=rs0`;
  });

  afterEach(() => server.clearFaults());

  afterAll(async () => {
    for (const store of stores) await store.close();
    await server.close();
  });

  it('two instances booting at once both get their indexes (one build per collection at a time)', async () => {
    const [a] = await Promise.all([open(), open()]);
    const names = (await a.connection.collection('conversations').indexes()).map((i) => i.name);
    expect(names).toEqual(
      expect.arrayContaining(['directKey_1', 'memberIds_1_lastActivityAt_-1__id_-1']),
    );
  });

  it('makes members contacts when an upsert loses a race (E11000 on DocumentDB)', async () => {
    const store = stores[0]!;
    server.fault('upsertRace', { times: 2 });
    const { conversation } = await store.conversations.create({
      kind: 'group',
      title: 'race',
      members: ['rita', 'sam', 'cora'].map((userId, i) => ({
        userId,
        role: i === 0 ? ('owner' as const) : ('member' as const),
        joinedAt: at(0),
      })),
      createdBy: 'rita',
      createdAt: at(1),
    });
    expect(conversation.members).toHaveLength(3);
    expect(server.stats().faults.upsertRace).toBeUndefined(); // both lost races happened
    expect((await store.contacts.among('sam', ['rita', 'cora'])).sort()).toEqual(['cora', 'rita']);
  });

  it('acks a message whose insert was written but whose answer was lost, and stores it once', async () => {
    const store = stores[0]!;
    const { conversation } = await store.conversations.create({
      kind: 'direct',
      members: [
        { userId: 'rita', role: 'owner', joinedAt: at(0) },
        { userId: 'sam', role: 'member', joinedAt: at(0) },
      ],
      createdBy: 'rita',
      createdAt: at(1),
      directKey: 'direct:rita:sam::',
    });
    server.fault('dropMidBatch', { times: 1, commands: ['insert'] });
    const result = await store.messages.append({
      conversationId: conversation.id,
      senderId: 'rita',
      clientMessageId: 'lost-answer',
      body: 'hello',
      createdAt: at(2),
    });
    expect(result.duplicate).toBe(false);
    const stored = await store.messages.page(conversation.id, { limit: 10 });
    expect(stored.map((m) => m.clientMessageId)).toEqual(['lost-answer']);
  });
});
