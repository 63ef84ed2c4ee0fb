import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { generateTlsMaterial, MongoWireServer, type TlsMaterial } from '../src/index.js';

const { MongoClient } = mongoose.mongo;
type Client = InstanceType<typeof MongoClient>;

// The emulator as the production store looks to the driver (DocumentDB 5.0: TLS with its own
// CA, a replica set, SCRAM-SHA-1, its planner's limits) and the faults a failover brings.
describe('wire server shaped like DocumentDB', () => {
  let dir: string;
  let tls: TlsMaterial;
  let server: MongoWireServer;
  let port: number;
  const clients: Client[] = [];

  const uri = (user: string, password: string, extra = '') =>
    `mongodb://${user}:${password}@127.0.0.1:${port}/chat?tls=true&tlsCAFile=${encodeURIComponent(tls.caFile)}&replicaSet=rs0&readPreference=primary&retryWrites=false${extra}`;
  const connect = async (
    user = 'chat',
    password = 'right-password',
    extra = '',
    serverSelectionTimeoutMS = 2_000,
  ) => {
    const client = new MongoClient(uri(user, password, extra), {
      serverSelectionTimeoutMS,
      heartbeatFrequencyMS: 500,
    });
    clients.push(client);
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wire-emulator-'));
    tls = await generateTlsMaterial(dir);
    server = new MongoWireServer({
      tls: { key: tls.key, cert: tls.cert },
      replicaSet: 'rs0',
      users: [{ user: 'chat', password: 'right-password' }],
      scramSha1Only: true,
      documentDbRules: true,
      indexBuildMs: 200,
    });
    port = await server.listen();
  });

  afterEach(() => server.clearFaults());

  afterAll(async () => {
    for (const client of clients) await client.close(true);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the production connection string (TLS, replica set, SCRAM-SHA-1) and refuses a wrong password or SHA-256', async () => {
    const client = await connect();
    await client.db('chat').collection('c').insertOne({ a: 1 });
    expect(await client.db('chat').collection('c').find({ a: 1 }).toArray()).toHaveLength(1);
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello).toMatchObject({ setName: 'rs0', isWritablePrimary: true, secondary: false });

    await expect(connect('chat', 'wrong-password')).rejects.toThrow(/Authentication failed/);
    await expect(connect('chat', 'right-password', '&authMechanism=SCRAM-SHA-256')).rejects.toThrow(
      /SCRAM-SHA-256|not enabled/,
    );
  });

  it('plans like DocumentDB: a sparse index only with $exists: true, never for $ne', async () => {
    const client = await connect();
    const coll = client.db('chat').collection('conversations');
    await coll.createIndex({ directKey: 1 }, { unique: true, sparse: true });
    await coll.createIndex({ kind: 1 });
    await coll.insertMany(
      Array.from({ length: 200 }, (_, i) => ({
        kind: i % 2 ? 'group' : 'direct',
        ...(i % 2 === 0 && { directKey: `k${i}` }),
      })),
    );
    const examined = async (filter: Record<string, unknown>) => {
      server.startExamining();
      await coll.find(filter).toArray();
      const [query] = server.takeExamined();
      return { docs: query!.docsExamined, plan: query!.plans[0] };
    };
    expect(await examined({ directKey: 'k4' })).toEqual({ docs: 200, plan: 'COLLSCAN' });
    expect(await examined({ directKey: { $eq: 'k4', $exists: true } })).toEqual({
      docs: 1,
      plan: 'IXSCAN directKey_1',
    });
    expect(await examined({ kind: { $ne: 'group' } })).toEqual({ docs: 200, plan: 'COLLSCAN' });
    expect(await examined({ kind: { $in: ['direct'] } })).toEqual({
      docs: 100,
      plan: 'IXSCAN kind_1',
    });

    // countDocuments (an aggregate whose $match the same planner serves).
    const counted = async (filter: Record<string, unknown>) => {
      server.startExamining();
      const n = await coll.countDocuments(filter);
      const [query] = server.takeExamined();
      return { n, docs: query!.docsExamined, plan: query!.plans[0] };
    };
    expect(await counted({ directKey: 'k4' })).toEqual({ n: 1, docs: 200, plan: 'COLLSCAN' });
    expect(await counted({ directKey: { $eq: 'k4', $exists: true } })).toEqual({
      n: 1,
      docs: 1,
      plan: 'IXSCAN directKey_1',
    });
    expect(await counted({ kind: { $ne: 'group' } })).toEqual({
      n: 100,
      docs: 200,
      plan: 'COLLSCAN',
    });

    server.setDocumentDbRules(false);
    expect(await examined({ directKey: 'k4' })).toEqual({ docs: 1, plan: 'IXSCAN directKey_1' });
    server.setDocumentDbRules(true);
  });

  it('builds one index per collection at a time', async () => {
    const client = await connect();
    const coll = client.db('chat').collection('builds');
    const results = await Promise.allSettled([
      coll.createIndex({ a: 1 }),
      coll.createIndex({ b: 1 }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected')!;
    expect((refused.reason as { code?: number }).code).toBe(276);
    // Another collection builds meanwhile; an index that exists is no build at all.
    await Promise.all([
      client.db('chat').collection('other').createIndex({ a: 1 }),
      coll.createIndex({ b: 1 }),
    ]);
    await Promise.all([coll.createIndex({ a: 1 }), coll.createIndex({ b: 1 })]);
  });

  it('steps down for a while: writes answer NotWritablePrimary, then the driver finds the primary again', async () => {
    // Selection may wait out the 1.5 s step-down plus a heartbeat: room for that, not a timing.
    const client = await connect('chat', 'right-password', '', 10_000);
    const coll = client.db('chat').collection('stepdown');
    await coll.insertOne({ n: 0 });
    server.fault('stepDown', { ms: 1_500 });
    const refused = await coll.insertOne({ n: 1 }).catch((error: unknown) => error);
    expect((refused as { code?: number }).code).toBe(10107);
    // Lands once the step-down is over: the driver selects the primary again, or the insert
    // fails. (A 2 s bound here measured 2,000 ms once: the step-down plus a heartbeat.)
    await coll.insertOne({ n: 2 });
    expect((await coll.find({}).toArray()).map((d) => d['n'] as number)).toEqual([0, 2]);
  });

  it('hangs commands; one whose maxTimeMS ran out meanwhile is not applied', async () => {
    const client = await connect();
    const coll = client.db('chat').collection('hang');
    server.fault('hang', { ms: 600, commands: ['insert'] });
    const late = coll.insertOne({ n: 'late' }, { maxTimeMS: 200 });
    const inTime = coll.insertOne({ n: 'patient' }, { maxTimeMS: 5_000 });
    await expect(late).rejects.toMatchObject({ code: 50 });
    await inTime;
    expect((await coll.find({}).toArray()).map((d) => d['n'] as unknown)).toEqual(['patient']);
  });

  it('drops the connection in the middle of a batch: the first half is stored, the client hears nothing', async () => {
    const client = await connect();
    const coll = client.db('chat').collection('drop');
    server.fault('dropMidBatch', { times: 1 });
    const result = await coll
      .insertMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
      .catch((error: unknown) => error);
    expect(String(result)).toMatch(/ECONNRESET|connection .* closed/i);
    expect(await coll.find({}).toArray()).toHaveLength(2);
  });

  it('answers E11000 to the loser of a racing upsert; the document is there', async () => {
    const client = await connect();
    const coll = client.db('chat').collection('contacts');
    await coll.createIndex({ userId: 1, contactId: 1 }, { unique: true });
    server.fault('upsertRace', { times: 1 });
    const lost = await coll
      .updateOne({ userId: 'a', contactId: 'b' }, { $setOnInsert: { since: 1 } }, { upsert: true })
      .catch((error: unknown) => error);
    expect((lost as { code?: number }).code).toBe(11000);
    const retried = await coll.updateOne(
      { userId: 'a', contactId: 'b' },
      { $setOnInsert: { since: 1 } },
      { upsert: true },
    );
    expect(retried.matchedCount).toBe(1);
    expect(await coll.find({}).toArray()).toHaveLength(1);
  });
});
