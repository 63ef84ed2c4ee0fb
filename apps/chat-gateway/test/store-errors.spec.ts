import { ErrorCode } from '@jobsphere/chat-domain';
import { MongoWireServer, waitUntil } from '@jobsphere/testing';
import mongoose from 'mongoose';
import { mapError } from '../src/common/error-table.js';

const { MongoClient } = mongoose.mongo;

// What the driver really throws when the store fails over, mapped by the one error table: never
// INTERNAL (which the SDK does not retry) for a store that did not, or may not, have done it.
describe('driver errors in the error table', () => {
  let server: MongoWireServer;
  let client: InstanceType<typeof MongoClient>;

  beforeAll(async () => {
    server = new MongoWireServer({ replicaSet: 'rs0' });
    const port = await server.listen();
    client = new MongoClient(`mongodb://127.0.0.1:${port}/errors?replicaSet=rs0`, {
      retryWrites: false,
      retryReads: false,
      maxPoolSize: 1,
      serverSelectionTimeoutMS: 1_000,
    });
    await client.connect();
  });

  afterEach(() => server.clearFaults());

  afterAll(async () => {
    await client.close(true);
    await server.close();
  });

  const caught = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (error: unknown) => error,
    );
  const code = (error: unknown) => mapError(error).body.code;

  it('maps a bulk write’s per-statement WriteError (not an Error) to UNAVAILABLE', async () => {
    const coll = client.db('errors').collection('bulk');
    await coll.createIndex({ k: 1 }, { unique: true });
    await coll.insertOne({ k: 1 });
    const error = (await caught(
      coll.bulkWrite([{ insertOne: { document: { k: 1 } } }], { ordered: false }),
    )) as { writeErrors?: unknown[] };
    const [writeError] = error.writeErrors!;
    expect(writeError).not.toBeInstanceOf(Error);
    expect(code(writeError)).toBe(ErrorCode.Unavailable);
  });

  it('maps a reset connection, and the cleared pool it leaves, to UNAVAILABLE', async () => {
    const coll = client.db('errors').collection('reset');
    server.fault('dropMidBatch', { times: 1 });
    // One connection: the second insert waits for it and meets the pool the reset cleared.
    const [first, second] = await Promise.all([
      caught(coll.insertOne({ n: 1 })),
      caught(coll.insertOne({ n: 2 })),
    ]);
    expect((first as Error).name).toBe('MongoNetworkError');
    // MongoPoolClearedError here; PoolClearedOnNetworkError (its subclass) for connections in use.
    expect((second as Error).name).toMatch(/PoolCleared/);
    expect([code(first), code(second)]).toEqual([ErrorCode.Unavailable, ErrorCode.Unavailable]);
  });

  it('maps a stepdown, an expired maxTimeMS and a bare ECONNRESET to UNAVAILABLE; a bug stays INTERNAL', async () => {
    const coll = client.db('errors').collection('stepdown');
    await coll.insertOne({ n: 0 }); // the driver knows the primary again
    server.fault('stepDown', { ms: 500 });
    const notPrimary = await caught(coll.insertOne({ n: 1 }));
    expect((notPrimary as { code?: number }).code).toBe(10107);
    // The driver finds the primary again once the stepdown is over (its next heartbeat).
    await waitUntil(
      'the driver writing to the primary again',
      () => coll.insertOne({ n: 1 }).then(() => true),
      10_000,
    );
    server.fault('hang', { ms: 300 });
    const expired = await caught(coll.insertOne({ n: 2 }, { maxTimeMS: 100 }));
    expect((expired as { code?: number }).code).toBe(50);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    for (const error of [notPrimary, expired, reset])
      expect(code(error)).toBe(ErrorCode.Unavailable);
    expect(code(new TypeError('x is undefined'))).toBe(ErrorCode.Internal);
    expect(mapError(reset).body.message).toMatch(/retry with the same clientMessageId/);
  });
});
