import mongoose from 'mongoose';
import { pingMongo, startFerretDB, startMongo } from '../src/index.js';

const portOf = (uri: string) => Number(/:(\d+)\//.exec(uri)![1]);

describe('startMongo', () => {
  it('without MONGODB_URI, starts the emulator on a free port, says so, and stop() ends it', async () => {
    const saved = process.env['MONGODB_URI'];
    delete process.env['MONGODB_URI'];
    try {
      const mongo = await startMongo({ dbName: 'chat' });
      expect(mongo.backend).toBe('wire-server');
      expect(mongo.description).toMatch(
        /^MongoDB wire server \(Node, in-memory\) on 127\.0\.0\.1:\d+$/,
      );
      expect(mongo.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/chat$/);
      expect(await pingMongo('127.0.0.1', portOf(mongo.uri))).toBe(true);
      await mongo.stop();
      await expect(pingMongo('127.0.0.1', portOf(mongo.uri), 1_000)).rejects.toThrow();
    } finally {
      if (saved !== undefined) process.env['MONGODB_URI'] = saved;
    }
  });

  it('with MONGODB_URI, uses a fresh uniquely named database and drops it on stop()', async () => {
    // FerretDB stands in for the user's server: it lists databases, the emulator does not.
    const server = await startFerretDB();
    const saved = process.env['MONGODB_URI'];
    process.env['MONGODB_URI'] = server.uri.replace(/\/test$/, '/');
    let conn: mongoose.Connection | undefined;
    try {
      const [a, b] = await Promise.all([
        startMongo({ dbName: 'chat' }),
        startMongo({ dbName: 'chat' }),
      ]);
      expect(a.backend).toBe('real');
      expect(a.description).toContain('MONGODB_URI');
      expect(a.pid).toBeUndefined();
      expect(a.uri).not.toBe(b.uri);
      expect(a.uri).toMatch(/\/chat_[a-z0-9]+_[0-9a-f]{6}$/);
      conn = await mongoose.createConnection(a.uri).asPromise();
      await conn.collection('messages').insertOne({ body: 'hi' });
      const db = conn.db!;
      const dbName = db.databaseName;
      const names = async () => (await db.admin().listDatabases()).databases.map((d) => d.name);
      expect(await names()).toContain(dbName);
      await a.stop();
      await b.stop();
      expect(await names()).not.toContain(dbName);
      await expect(a.kill()).rejects.toThrow(/not possible/);
    } finally {
      await conn?.close();
      if (saved === undefined) delete process.env['MONGODB_URI'];
      else process.env['MONGODB_URI'] = saved;
      await server.stop();
    }
  });
});
