import { ObjectId } from 'bson';
import fc from 'fast-check';
import { Query } from 'mingo';
import mongoose, { type Connection } from 'mongoose';
import {
  MongoWireServer,
  pingMongo,
  startMongoWireServer,
  type MongoWireServerHandle,
} from '../src/index.js';
import { update as mingoUpdate } from 'mingo/updater';
import { BSON, EJSON } from 'bson';
import {
  Collection,
  compareBySort,
  MINGO_CONTEXT,
  type SortSpec,
} from '../src/mongo/wire/collection.js';
import { fastUpdate } from '../src/mongo/wire/update.js';
import { cloneDoc } from '../src/mongo/wire/values.js';

// The planner may only choose which documents to look at: whatever index it uses, a query must
// answer what a scan of every document would.
describe('wire server collection: index plans answer like a full scan', () => {
  const doc = fc.record({
    c: fc.constantFrom('a', 'b', 'c'),
    seq: fc.integer({ min: 0, max: 30 }),
    members: fc.uniqueArray(fc.constantFrom('u1', 'u2', 'u3', 'u4'), { maxLength: 3 }),
    at: fc.integer({ min: 0, max: 10 }).map((n) => new Date(Date.UTC(2026, 0, 1) + n)),
  });
  const range = fc.oneof(
    fc.integer({ min: 0, max: 30 }),
    fc.record({ $gt: fc.integer({ min: -1, max: 31 }) }, { requiredKeys: [] }),
    fc.record(
      { $gte: fc.integer({ min: -1, max: 31 }), $lt: fc.integer({ min: -1, max: 31 }) },
      { requiredKeys: [] },
    ),
    fc.record({ $lte: fc.integer({ min: -1, max: 31 }) }),
  );
  const query = fc.oneof(
    fc.record({
      filter: fc.record(
        {
          c: fc.oneof(
            fc.constantFrom('a', 'b', 'z'),
            fc.record({ $in: fc.subarray(['a', 'b', 'c']) }),
            // A range or an anchored prefix on the leading field: a scan of index keys.
            fc.record(
              { $gte: fc.constantFrom('a', 'b'), $lt: fc.constantFrom('b', 'c', 'd') },
              { requiredKeys: [] },
            ),
            fc.constantFrom(/^b/, /^a|c/, { $regex: '^c', $exists: true }),
          ),
          seq: range,
        },
        { requiredKeys: ['c'] },
      ),
      sort: fc.constantFrom<SortSpec[]>([], [['seq', 1]], [['seq', -1]], [['at', 1]]),
    }),
    // $or (a union of index scans when every clause has one) and $and (any clause's scan).
    fc.record({
      filter: fc.oneof(
        fc.record({
          $or: fc.array(
            fc.oneof(
              fc.record({ c: fc.constantFrom('a', 'b', 'z') }),
              fc.record({ members: fc.constantFrom('u1', 'u5') }),
              fc.record({ seq: fc.integer({ min: 0, max: 30 }) }),
            ),
            { minLength: 1, maxLength: 3 },
          ),
        }),
        fc.record({
          $and: fc.tuple(fc.record({ seq: range }), fc.record({ c: fc.constantFrom('a', 'b') })),
        }),
      ),
      sort: fc.constantFrom<SortSpec[]>([], [['seq', 1]], [['at', -1]]),
    }),
    fc.record({
      filter: fc.record({ members: fc.constantFrom('u1', 'u2', 'u5') }),
      sort: fc.constantFrom<SortSpec[]>(
        [],
        [
          ['at', -1],
          ['_id', -1],
        ],
        [
          ['at', 1],
          ['_id', 1],
        ],
      ),
    }),
  );

  it('for equality, $in, ranges (also of the leading field and prefixes), multikey fields, sorts in both directions and limits', () => {
    fc.assert(
      fc.property(
        fc.array(doc, { maxLength: 40 }),
        query,
        fc.integer({ min: 0, max: 5 }),
        (docs, q, limit) => {
          const coll = new Collection('db', 'c');
          coll.createIndex({
            name: 'c_seq',
            key: [
              ['c', 1],
              ['seq', 1],
            ],
            unique: false,
            sparse: false,
          });
          coll.createIndex({
            name: 'members_at_id',
            key: [
              ['members', 1],
              ['at', -1],
              ['_id', -1],
            ],
            unique: false,
            sparse: false,
          });
          const stored = docs.map((d) => coll.insert({ _id: new ObjectId(), ...d }));
          const expected = new Query(q.filter).find<Record<string, unknown>>(stored).all();
          if (q.sort.length > 0) expected.sort(compareBySort(q.sort));
          const got = coll.find(q.filter, { sort: q.sort, limit });
          const ids = (list: Record<string, unknown>[]) => list.map((d) => String(d['_id']));
          if (q.sort.length === 0) {
            // Unordered: the same set (a limit may take any of them).
            const all = new Set(ids(expected));
            expect(ids(got).every((id) => all.has(id))).toBe(true);
            expect(got.length).toBe(limit > 0 ? Math.min(limit, expected.length) : expected.length);
          } else {
            // Ordered: the same sort keys in the same order (ties may come in any order).
            const key = (d: Record<string, unknown>) => q.sort.map(([f]) => String(d[f])).join('|');
            const want = limit > 0 ? expected.slice(0, limit) : expected;
            expect(got.map(key)).toEqual(want.map(key));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses a second document with a unique key, and an update that would make one, changing nothing', () => {
    const coll = new Collection('db', 'messages');
    coll.createIndex({
      name: 'c_seq',
      key: [
        ['c', 1],
        ['seq', 1],
      ],
      unique: true,
      sparse: false,
    });
    coll.insert({ _id: 1, c: 'a', seq: 1 });
    coll.insert({ _id: 2, c: 'a', seq: 2 });
    const thrown = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(thrown(() => coll.insert({ _id: 3, c: 'a', seq: 1 }))).toMatchObject({
      code: 11000,
      extra: { keyPattern: { c: 1, seq: 1 }, keyValue: { c: 'a', seq: 1 } },
    });
    expect(thrown(() => coll.update({ _id: 2 }, { $set: { seq: 1 } }, {}))).toMatchObject({
      code: 11000,
    });
    expect(coll.find({ c: 'a' }, { sort: [['seq', 1]] })).toEqual([
      { _id: 1, c: 'a', seq: 1 },
      { _id: 2, c: 'a', seq: 2 },
    ]);
    expect(coll.find({ c: 'a', seq: 1 })).toEqual([{ _id: 1, c: 'a', seq: 1 }]);
  });
});

describe('wire server updates: the direct operators do what mingo does', () => {
  const scalar = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom('a', 'b'),
    fc.constant(new Date(Date.UTC(2026, 0, 2))),
  );
  const doc = fc.record(
    {
      n: fc.integer({ min: 0, max: 5 }),
      s: fc.constantFrom('x', 'y'),
      o: fc.record(
        { n: fc.integer({ min: 0, max: 5 }), d: fc.constant(new Date(0)) },
        { requiredKeys: [] },
      ),
      list: fc.array(fc.record({ k: fc.constantFrom('a', 'b', 'c') }), { maxLength: 4 }),
    },
    // `list` always there: on a missing field mingo ignores $slice, mongod applies it (below).
    { requiredKeys: ['list'] },
  );
  const path = fc.constantFrom('n', 'o.n', 'o.d', 'o.new', 'fresh', 'deep.er.path');
  const update = fc.oneof(
    fc.record({ $set: fc.dictionary(path, scalar, { minKeys: 1, maxKeys: 1 }) }),
    fc.record({ $max: fc.dictionary(path, scalar, { minKeys: 1, maxKeys: 1 }) }),
    fc.record({ $min: fc.dictionary(path, scalar, { minKeys: 1, maxKeys: 1 }) }),
    fc.record({
      $inc: fc.dictionary(fc.constantFrom('n', 'o.n', 'fresh'), fc.integer({ min: -2, max: 2 }), {
        minKeys: 1,
        maxKeys: 2,
      }),
    }),
    fc.record({ $unset: fc.dictionary(path, fc.constant(''), { minKeys: 1, maxKeys: 2 }) }),
    fc.record({
      $push: fc.record({
        list: fc.record(
          {
            $each: fc.array(fc.record({ k: fc.constantFrom('x', 'y') }), { maxLength: 3 }),
            $slice: fc.integer({ min: -4, max: 4 }),
          },
          { requiredKeys: ['$each'] },
        ),
      }),
    }),
  );

  it('for $set, $unset, $inc, $max, $min and $push with $each/$slice, nested and missing paths', () => {
    fc.assert(
      fc.property(doc, update, (input, change) => {
        // fast-check builds null-prototype objects; the wire server sees BSON-decoded plain ones.
        const plain = (v: object) => BSON.deserialize(BSON.serialize(v));
        // As the collection calls it: on a shallow copy of the stored document, which must not change.
        const stored = plain(input);
        const before = EJSON.stringify(stored, { relaxed: false });
        const a = { ...stored };
        const b = cloneDoc(plain(input));
        const u = plain(change);
        let fastError: unknown;
        let fastChanged: boolean | undefined;
        try {
          fastChanged = fastUpdate(a, u);
        } catch (error) {
          fastError = error;
        }
        let mingoError: unknown;
        let mingoChanged: boolean | undefined;
        try {
          mingoChanged =
            mingoUpdate(b, u, undefined, undefined, {
              cloneMode: 'deep',
              queryOptions: { context: MINGO_CONTEXT },
            }).length > 0;
        } catch (error) {
          mingoError = error;
        }
        expect(fastChanged === undefined && fastError === undefined).toBe(false);
        expect(EJSON.stringify(stored, { relaxed: false })).toBe(before);
        expect(fastError !== undefined).toBe(mingoError !== undefined);
        if (fastError) return;
        expect(EJSON.serialize(a, { relaxed: false })).toEqual(
          EJSON.serialize(b, { relaxed: false }),
        );
        // "Changed" feeds nModified only; mingo counts some no-op pushes as changes, mongod not.
        if (!u['$push']) expect(fastChanged).toBe(mingoChanged);
      }),
      { numRuns: 500 },
    );
  });

  it('applies $slice to a field the push creates, as mongod does', () => {
    const doc: Record<string, unknown> = {};
    expect(fastUpdate(doc, { $push: { list: { $each: [1, 2, 3], $slice: -2 } } })).toBe(true);
    expect(doc).toEqual({ list: [2, 3] });
    expect(fastUpdate(doc, { $push: { other: { $each: [1], $slice: 0 } } })).toBe(true);
    expect(doc).toEqual({ list: [2, 3], other: [] });
  });
});

describe('wire server through Mongoose and the Node driver', () => {
  let server: MongoWireServer;
  let conn: Connection;

  beforeAll(async () => {
    server = new MongoWireServer();
    const port = await server.listen();
    conn = await mongoose
      .createConnection(`mongodb://127.0.0.1:${port}/t`, { serverSelectionTimeoutMS: 2_000 })
      .asPromise();
  });
  afterAll(async () => {
    await conn?.close();
    await server?.close();
  });

  it('pages more than 101 documents through getMore, and kills an abandoned cursor', async () => {
    const coll = conn.db!.collection('many');
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    expect((await coll.find({}).sort({ i: 1 }).toArray()).map((d) => d['i'] as number)).toEqual(
      Array.from({ length: 250 }, (_, i) => i),
    );
    const cursor = coll.find({}, { batchSize: 10 });
    await cursor.next();
    await cursor.close();
    expect(server.stats().commands).toMatchObject({ getMore: expect.any(Number), killCursors: 1 });
  });

  it('answers findAndModify with $inc, $push $each/$slice, projection and the document after', async () => {
    const coll = conn.db!.collection<{ lastSeq: number; reservations: { k: string }[] }>(
      'conversations',
    );
    const { insertedId } = await coll.insertOne({ lastSeq: 0, reservations: [] });
    let last: unknown;
    for (let i = 0; i < 5; i++) {
      last = await coll.findOneAndUpdate(
        { _id: insertedId, 'reservations.k': { $ne: `k${i}` } },
        { $inc: { lastSeq: 1 }, $push: { reservations: { $each: [{ k: `k${i}` }], $slice: -3 } } },
        { returnDocument: 'after', projection: { lastSeq: 1 } },
      );
    }
    expect(last).toEqual({ _id: insertedId, lastSeq: 5 });
    expect(await coll.findOne({ _id: insertedId })).toMatchObject({
      reservations: [{ k: 'k2' }, { k: 'k3' }, { k: 'k4' }],
    });
    // The key is reserved already: nothing matches, nothing changes.
    expect(
      await coll.findOneAndUpdate(
        { _id: insertedId, 'reservations.k': { $ne: 'k4' } },
        { $inc: { lastSeq: 1 } },
      ),
    ).toBeNull();
  });

  it('upserts in bulk with $max and $setOnInsert, and reports E11000 with keyPattern', async () => {
    const coll = conn.db!.collection('contacts');
    await coll.createIndex({ userId: 1, contactId: 1 }, { unique: true });
    const since = (n: number) => new Date(Date.UTC(2026, 0, n));
    const ops = (n: number) =>
      ['b', 'c'].map((contactId) => ({
        updateOne: {
          filter: { userId: 'a', contactId },
          update: { $max: { since: since(n) }, $setOnInsert: { first: since(n) } },
          upsert: true,
        },
      }));
    await coll.bulkWrite(ops(2), { ordered: false });
    await coll.bulkWrite(ops(1), { ordered: false });
    expect(
      await coll
        .find({ userId: 'a' }, { projection: { _id: 0 } })
        .sort({ contactId: 1 })
        .toArray(),
    ).toEqual([
      { userId: 'a', contactId: 'b', since: since(2), first: since(2) },
      { userId: 'a', contactId: 'c', since: since(2), first: since(2) },
    ]);
    await expect(coll.insertOne({ userId: 'a', contactId: 'b' })).rejects.toMatchObject({
      code: 11000,
      keyPattern: { userId: 1, contactId: 1 },
      keyValue: { userId: 'a', contactId: 'b' },
    });
  });

  it('counts with countDocuments (its aggregate: $match, $skip, $limit, a counting $group)', async () => {
    const coll = conn.db!.collection('counted');
    expect(await coll.countDocuments()).toBe(0);
    await coll.insertMany(Array.from({ length: 30 }, (_, i) => ({ i, even: i % 2 === 0 })));
    expect(await coll.countDocuments()).toBe(30);
    expect(await coll.countDocuments({ even: true })).toBe(15);
    expect(await coll.countDocuments({ i: { $gte: 10 } }, { skip: 5 })).toBe(15);
    expect(await coll.countDocuments({ i: { $gte: 10 } }, { skip: 5, limit: 4 })).toBe(4);
    expect(await coll.countDocuments({ i: { $gte: 28 } }, { limit: 10 })).toBe(2);
    expect(await coll.countDocuments({ missing: 1 })).toBe(0);
    // The same stages without the count answer the documents, and page through getMore.
    const page = await coll
      .aggregate([{ $match: { even: false } }, { $skip: 2 }, { $limit: 3 }], { batchSize: 1 })
      .toArray();
    expect(page.map((d) => d['i'] as number)).toEqual([5, 7, 9]);
  });

  it('lists the collections of a database: written ones, not ones only read', async () => {
    const db = conn.useDb('listing').db!;
    await db.collection('messages').insertOne({ a: 1 });
    await db.collection('reports').createIndex({ at: 1 });
    await db.collection('outbox').updateOne({ k: 1 }, { $set: { v: 1 } }, { upsert: true });
    await db.collection('never').findOne({});
    await db.collection('never').countDocuments();
    await db.collection('never').deleteMany({});
    await db.collection('never').updateOne({ k: 1 }, { $set: { v: 1 } });
    expect((await db.listCollections().toArray()).map((c) => c.name)).toEqual([
      'messages',
      'outbox',
      'reports',
    ]);
    expect(await db.listCollections({ name: 'reports' }, { nameOnly: true }).toArray()).toEqual([
      { name: 'reports', type: 'collection' },
    ]);
    expect(await db.listCollections({ name: 'never' }).toArray()).toEqual([]);
  });

  it('refuses what it does not implement instead of half-doing it', async () => {
    const coll = conn.db!.collection('x');
    await expect(coll.aggregate([{ $sort: { a: 1 } }]).toArray()).rejects.toMatchObject({
      code: 238,
      message: expect.stringContaining('$sort'),
    });
    await expect(
      coll.aggregate([{ $group: { _id: '$kind', n: { $sum: 1 } } }]).toArray(),
    ).rejects.toMatchObject({ code: 238, message: expect.stringContaining('$group') });
    await expect(
      coll.aggregate([{ $match: {} }, { $match: { a: 1 } }]).toArray(),
    ).rejects.toMatchObject({ code: 238 });
    await expect(
      conn
        .db!.collection('x')
        .aggregate([{ $match: {} }], { collation: { locale: 'fr' } })
        .toArray(),
    ).rejects.toMatchObject({ code: 238 });
    await expect(conn.db!.command({ distinct: 'x', key: 'a' })).rejects.toMatchObject({
      code: 59,
    });
    await expect(
      conn
        .db!.collection('x')
        .updateOne({}, { $set: { 'a.$[e]': 1 } }, { arrayFilters: [{ e: 1 }] }),
    ).rejects.toMatchObject({ code: 238 });
  });
});

describe('wire server as a process', () => {
  let handle: MongoWireServerHandle;
  afterAll(async () => handle?.stop());

  it('starts on a free port, takes a reply delay, traces commands and stops', async () => {
    handle = await startMongoWireServer({ replyDelayMs: 1 });
    expect(handle.backend).toBe('wire-server');
    await handle.setReplyDelay(3);
    await handle.startTrace();
    expect(await pingMongo('127.0.0.1', handle.port)).toBe(true);
    const trace = await handle.takeTrace();
    expect(trace.map((t) => t.name)).toEqual(['ping']);
    expect(trace[0]!.repliedAt).toBeGreaterThanOrEqual(trace[0]!.receivedAt);
    const stats = await handle.stats();
    expect(stats).toMatchObject({ replyDelayMs: 3, commands: { ping: expect.any(Number) } });
    expect(stats.measuredDelay.count).toBeGreaterThan(0);
    await handle.stop();
    await expect(pingMongo('127.0.0.1', handle.port, 1_000)).rejects.toThrow();
  });
});
