import mongoose from 'mongoose';
import { FERRETDB_VERSION, mongoCommand, pingMongo, startFerretDB } from '../src/index.js';

// The independent server the store suites run on beside the emulator: built from the Go module
// proxy on first use (scripts/build-ferretdb.sh), started per test on a free port.
describe('startFerretDB', () => {
  it('runs FerretDB v1 over SQLite on a free port: a writable primary the driver stores into, and says so', async () => {
    const ferret = await startFerretDB({ dbName: 'chat' });
    console.log(`FerretDB launcher: ${ferret.description}`);
    const connection = mongoose.createConnection(ferret.uri, { serverSelectionTimeoutMS: 5_000 });
    try {
      expect(ferret.backend).toBe('ferretdb');
      expect(ferret.version).toBe(FERRETDB_VERSION);
      expect(ferret.description).toContain(`FerretDB ${FERRETDB_VERSION} (SQLite backend`);
      expect(ferret.uri).toBe(`mongodb://127.0.0.1:${ferret.port}/chat`);
      const hello = await mongoCommand('127.0.0.1', ferret.port, { hello: 1, $db: 'admin' });
      expect(hello).toMatchObject({ ok: 1, isWritablePrimary: true });

      await connection.asPromise();
      const things = connection.collection('things');
      await things.insertOne({ _id: 'a' as never, n: 1 });
      expect(await things.findOne({ _id: 'a' as never })).toEqual({ _id: 'a', n: 1 });
    } finally {
      await connection.close();
      await ferret.stop();
    }
    await expect(pingMongo('127.0.0.1', ferret.port, 1_000)).rejects.toThrow();
  });

  it('pauses (connections held, no answer), resumes, and dies on kill', async () => {
    const ferret = await startFerretDB();
    try {
      ferret.pause();
      await expect(pingMongo('127.0.0.1', ferret.port, 500)).rejects.toThrow(/timed out/);
      ferret.resume();
      expect(await pingMongo('127.0.0.1', ferret.port, 5_000)).toBe(true);
      await ferret.kill();
      await expect(pingMongo('127.0.0.1', ferret.port, 1_000)).rejects.toThrow();
    } finally {
      await ferret.stop();
    }
  });

  it('keeps two servers apart: each its own port and its own data', async () => {
    const [a, b] = await Promise.all([startFerretDB(), startFerretDB()]);
    try {
      expect(a.port).not.toBe(b.port);
      await mongoCommand('127.0.0.1', a.port, {
        insert: 'only',
        documents: [{ x: 1 }],
        $db: 'test',
      });
      const onB = await mongoCommand('127.0.0.1', b.port, {
        find: 'only',
        filter: {},
        $db: 'test',
      });
      expect((onB['cursor'] as { firstBatch: unknown[] }).firstBatch).toEqual([]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
