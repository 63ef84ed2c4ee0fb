import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose, { Schema, Types, type Connection } from 'mongoose';
import {
  type MongoHandle,
  mongoDoubleScript,
  pingMongo,
  startMongo,
  startWireDouble,
} from '../src/index.js';

// The shapes a chat backend stores: messages with a per-conversation sequence, counters for
// those sequences, per-member read state and conversations.
interface Message {
  conversationId: Types.ObjectId;
  seq: number;
  senderId: Types.ObjectId;
  clientMessageId?: string;
  body: string;
  sentAt: Date;
  createdAt?: Date;
}
interface Counter {
  _id: string;
  seq: number;
}
interface ReadState {
  conversationId: Types.ObjectId;
  userId: Types.ObjectId;
  lastReadSeq: number;
  reads: number;
}
interface Conversation {
  title: string;
  participants: Types.ObjectId[];
  tags: string[];
  messageCount: number;
  lastMessageAt?: Date;
  bigCounter?: bigint;
  price?: Types.Decimal128;
}

const messageSchema = new Schema<Message>(
  {
    conversationId: { type: Schema.Types.ObjectId, required: true },
    seq: { type: Number, required: true },
    senderId: { type: Schema.Types.ObjectId, required: true },
    clientMessageId: { type: String },
    body: { type: String, required: true },
    sentAt: { type: Date, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false }, autoIndex: false },
);
messageSchema.index({ conversationId: 1, seq: 1 }, { unique: true });
messageSchema.index(
  { conversationId: 1, senderId: 1, clientMessageId: 1 },
  { unique: true, partialFilterExpression: { clientMessageId: { $exists: true } } },
);
const counterSchema = new Schema<Counter>({ _id: String, seq: { type: Number, default: 0 } });
const readStateSchema = new Schema<ReadState>({
  conversationId: Schema.Types.ObjectId,
  userId: Schema.Types.ObjectId,
  lastReadSeq: Number,
  reads: Number,
});
readStateSchema.index({ conversationId: 1, userId: 1 }, { unique: true, sparse: true });
const conversationSchema = new Schema<Conversation>({
  title: String,
  participants: [Schema.Types.ObjectId],
  tags: [String],
  messageCount: { type: Number, default: 0 },
  lastMessageAt: Date,
  bigCounter: Schema.Types.BigInt,
  price: Schema.Types.Decimal128,
});

const chatModels = (conn: Connection) => ({
  Messages: conn.model('Message', messageSchema),
  Counters: conn.model('Counter', counterSchema),
  ReadStates: conn.model('ReadState', readStateSchema),
  Conversations: conn.model('Conversation', conversationSchema),
});
type ChatModels = ReturnType<typeof chatModels>;

const MESSAGES = 250;
const convA = new Types.ObjectId();
const convB = new Types.ObjectId();
const alice = new Types.ObjectId();
const bob = new Types.ObjectId();
const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 123);

const pidGone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
};
const portOf = (uri: string): number => Number(/:(\d+)\//.exec(uri)![1]);

describe('MongoDB for tests, through Mongoose 9', () => {
  let mongo: MongoHandle;
  let conn: Connection;
  let Messages: ChatModels['Messages'];
  let Counters: ChatModels['Counters'];
  let ReadStates: ChatModels['ReadStates'];
  let Conversations: ChatModels['Conversations'];
  const commands: string[] = [];

  beforeAll(async () => {
    const started = Date.now();
    mongo = await startMongo({ dbName: 'chat' });
    console.info(
      `MongoDB backend: ${mongo.backend} — ${mongo.description} (ready in ${Date.now() - started} ms)`,
    );
    conn = await mongoose
      .createConnection(mongo.uri, { monitorCommands: true, serverSelectionTimeoutMS: 5_000 })
      .asPromise();
    conn
      .getClient()
      .on('commandStarted', (event: { commandName: string }) => commands.push(event.commandName));
    ({ Messages, Counters, ReadStates, Conversations } = chatModels(conn));
  });

  afterAll(async () => {
    await conn?.close();
    await mongo?.stop();
  });

  it('creates the compound unique and the partial unique indexes', async () => {
    await Promise.all([Messages.init(), ReadStates.init(), Counters.init(), Conversations.init()]);
    await Messages.createIndexes();
    await Messages.createIndexes(); // idempotent, as on every application start
    const indexes = await Messages.listIndexes();
    const byName = new Map(indexes.map((index: { name: string }) => [index.name, index]));
    expect(byName.get('conversationId_1_seq_1')).toMatchObject({
      key: { conversationId: 1, seq: 1 },
      unique: true,
    });
    expect(byName.get('conversationId_1_senderId_1_clientMessageId_1')).toMatchObject({
      unique: true,
      partialFilterExpression: { clientMessageId: { $exists: true } },
    });
    expect((await ReadStates.listIndexes()).map((index: { name: string }) => index.name)).toContain(
      'conversationId_1_userId_1',
    );
  });

  it('inserts messages with insertMany and rejects duplicates with E11000', async () => {
    const docs = Array.from({ length: MESSAGES }, (_, i) => ({
      conversationId: convA,
      seq: i + 1,
      senderId: i % 3 === 0 ? bob : alice,
      clientMessageId: `c-${i + 1}`,
      body: `message ${i + 1}`,
      sentAt: new Date(t0 + i * 1000),
    }));
    const inserted = await Messages.insertMany(docs);
    expect(inserted).toHaveLength(MESSAGES);
    await Messages.insertMany(
      [1, 2, 3, 4, 5].map((seq) => ({
        conversationId: convB,
        seq,
        senderId: bob,
        body: `b${seq}`,
        sentAt: new Date(t0),
      })),
    );

    const sameSeq = Messages.create({
      conversationId: convA,
      seq: 5,
      senderId: alice,
      body: 'dup',
      sentAt: new Date(),
    });
    await expect(sameSeq).rejects.toBeInstanceOf(mongoose.mongo.MongoServerError);
    await expect(sameSeq).rejects.toMatchObject({
      code: 11000,
      keyPattern: { conversationId: 1, seq: 1 },
      keyValue: { conversationId: convA, seq: 5 },
    });
    await expect(sameSeq).rejects.toThrow(/E11000 duplicate key error/);

    // Same client message id from the same sender: the idempotency index catches the retry.
    const retry = Messages.create({
      conversationId: convA,
      seq: 999,
      senderId: alice,
      clientMessageId: 'c-2',
      body: 'retry',
      sentAt: new Date(),
    });
    await expect(retry).rejects.toMatchObject({
      code: 11000,
      keyValue: { clientMessageId: 'c-2' },
    });

    // Messages without a client id are outside the partial index: no conflict between them.
    await Messages.create({
      conversationId: convB,
      seq: 6,
      senderId: bob,
      body: 'x',
      sentAt: new Date(t0),
    });
    await Messages.create({
      conversationId: convB,
      seq: 7,
      senderId: bob,
      body: 'y',
      sentAt: new Date(t0),
    });

    // insertMany stops at the first duplicate (ordered) and reports code 11000.
    const batch = Messages.insertMany([
      { conversationId: convB, seq: 8, senderId: bob, body: 'ok', sentAt: new Date(t0) },
      { conversationId: convB, seq: 8, senderId: bob, body: 'dup', sentAt: new Date(t0) },
      { conversationId: convB, seq: 9, senderId: bob, body: 'never', sentAt: new Date(t0) },
    ]);
    await expect(batch).rejects.toMatchObject({ code: 11000 });
    expect(await Messages.countDocuments({ conversationId: convB })).toBe(8);
    expect(await Messages.countDocuments({ conversationId: convA })).toBe(MESSAGES);
  });

  it('pages by sequence in both directions', async () => {
    const older = await Messages.find({ conversationId: convA, seq: { $lt: 100 } })
      .sort({ seq: -1 })
      .limit(20)
      .lean();
    expect(older.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 99 - i));
    expect(older.every((m) => m.conversationId.equals(convA))).toBe(true);

    const newer = await Messages.find({ conversationId: convA, seq: { $gt: 230 } })
      .sort({ seq: 1 })
      .limit(10)
      .select({ seq: 1, body: 1, _id: 0 })
      .lean();
    expect(newer).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ seq: 231 + i, body: `message ${231 + i}` })),
    );

    const page3 = await Messages.find({ conversationId: convA })
      .sort({ seq: 1 })
      .skip(40)
      .limit(20)
      .lean();
    expect(page3.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));

    const tail = await Messages.find({ conversationId: convA, seq: { $gt: 245 } })
      .sort({ seq: -1 })
      .limit(50)
      .lean();
    expect(tail.map((m) => m.seq)).toEqual([250, 249, 248, 247, 246]);
  });

  it('returns more than 101 documents through getMore, also with an explicit batch size', async () => {
    commands.length = 0;
    const all = await Messages.find({ conversationId: convA }).sort({ seq: 1 }).lean();
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    expect(commands.filter((c) => c === 'getMore').length).toBeGreaterThanOrEqual(1);

    commands.length = 0;
    const seen: number[] = [];
    for await (const m of Messages.find({ conversationId: convA })
      .sort({ seq: -1 })
      .batchSize(60)
      .lean()
      .cursor()) {
      seen.push(m.seq);
    }
    expect(seen).toEqual(Array.from({ length: MESSAGES }, (_, i) => MESSAGES - i));
    expect(commands.filter((c) => c === 'getMore')).toHaveLength(4); // 60 + 60 + 60 + 60 + 10

    // A cursor closed early is killed on the server and does not break the connection.
    const cursor = Messages.find({ conversationId: convA }).batchSize(10).cursor();
    await cursor.next();
    await cursor.close();
    expect(await Messages.countDocuments({ conversationId: convA })).toBe(MESSAGES);
  });

  it('updates read state with $max, upsert, $inc, $set and $addToSet', async () => {
    const key = { conversationId: convA, userId: alice };
    const first = await ReadStates.updateOne(
      key,
      { $max: { lastReadSeq: 50 }, $inc: { reads: 1 } },
      { upsert: true },
    );
    expect(first).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 1 });
    expect(first.upsertedId).toBeInstanceOf(Types.ObjectId);

    const stale = await ReadStates.updateOne(key, { $max: { lastReadSeq: 30 } });
    expect(stale).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
    const fresh = await ReadStates.updateOne(
      key,
      { $max: { lastReadSeq: 70 }, $inc: { reads: 1 } },
      { upsert: true },
    );
    expect(fresh).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
    expect(await ReadStates.findOne(key).lean()).toMatchObject({ lastReadSeq: 70, reads: 2 });

    const conv = await Conversations.create({
      title: 'general',
      participants: [alice],
      tags: ['team'],
    });
    const at = new Date(t0 + 42);
    for (let i = 0; i < 2; i++) {
      await Conversations.updateOne(
        { _id: conv._id },
        {
          $set: { lastMessageAt: at },
          $inc: { messageCount: 1 },
          $addToSet: { participants: bob, tags: 'urgent' },
        },
      );
    }
    await Conversations.updateOne({ _id: conv._id }, { $push: { tags: 'pinned' } });
    await Conversations.updateOne({ _id: conv._id }, { $pull: { tags: 'team' } });
    const after = await Conversations.findById(conv._id).lean();
    expect(after).toMatchObject({ messageCount: 2, tags: ['urgent', 'pinned'], lastMessageAt: at });
    expect(after!.participants.map(String)).toEqual([String(alice), String(bob)]);

    const many = await Messages.updateMany(
      { conversationId: convB },
      { $set: { body: 'redacted' } },
    );
    expect(many).toMatchObject({ matchedCount: 8, modifiedCount: 8 });

    // An update that would break a unique index fails with 11000 and changes nothing.
    const clash = ReadStates.updateOne(
      { conversationId: convA, userId: bob },
      { $set: { userId: alice } },
      { upsert: true },
    );
    await expect(clash).rejects.toMatchObject({ code: 11000 });
    expect(await ReadStates.countDocuments({ conversationId: convA })).toBe(1);
  });

  it('hands out distinct sequence numbers from findOneAndUpdate {new, upsert} under concurrency', async () => {
    const id = `conv:${String(convA)}`;
    // `new: true` still works in Mongoose 9 (deprecated, it warns); returnDocument: 'after' is the same.
    const first = await Counters.findOneAndUpdate(
      { _id: id },
      { $inc: { seq: 1 } },
      { new: true, upsert: true },
    ).lean();
    expect(first).toEqual({ _id: id, seq: 1, __v: 0 });
    const next = () =>
      Counters.findOneAndUpdate(
        { _id: id },
        { $inc: { seq: 1 } },
        { returnDocument: 'after', upsert: true },
      ).lean();
    const values = (await Promise.all(Array.from({ length: 49 }, next))).map((c) => c.seq);
    expect(new Set([first.seq, ...values]).size).toBe(50);
    expect([first.seq, ...values].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );

    const before = await Counters.findOneAndUpdate(
      { _id: `conv:${String(convA)}` },
      { $inc: { seq: 1 } },
      { returnDocument: 'before' },
    ).lean();
    expect(before!.seq).toBe(50);
    expect(
      await Counters.findOneAndUpdate({ _id: 'missing' }, { $inc: { seq: 1 } }).lean(),
    ).toBeNull();
    const removed = await Counters.findOneAndDelete({ _id: `conv:${String(convA)}` }).lean();
    expect(removed!.seq).toBe(51);
    expect(await Counters.countDocuments()).toBe(0);
  });

  it('counts and aggregates', async () => {
    expect(await Messages.countDocuments({ conversationId: convA, senderId: bob })).toBe(
      Math.ceil(MESSAGES / 3),
    );
    expect(await Messages.estimatedDocumentCount()).toBe(MESSAGES + 8);
    expect(
      (await Messages.distinct('senderId', { conversationId: convA })).map(String).sort(),
    ).toEqual([String(alice), String(bob)].sort());

    const perSender = await Messages.aggregate<{ _id: Types.ObjectId; n: number; lastSeq: number }>(
      [
        { $match: { conversationId: convA } },
        { $group: { _id: '$senderId', n: { $sum: 1 }, lastSeq: { $max: '$seq' } } },
        { $sort: { n: -1 } },
        { $limit: 5 },
      ],
    );
    expect(perSender.map((r) => [String(r._id), r.n, r.lastSeq])).toEqual([
      [String(alice), MESSAGES - Math.ceil(MESSAGES / 3), 249],
      [String(bob), Math.ceil(MESSAGES / 3), 250],
    ]);

    await Conversations.create({
      _id: convA,
      title: 'project-x',
      participants: [alice, bob],
      tags: [],
    });
    const joined = await Messages.aggregate<{ seq: number; conversation: { title: string }[] }>([
      { $match: { conversationId: convA, seq: { $lte: 2 } } },
      { $sort: { seq: 1 } },
      {
        $lookup: {
          from: 'conversations',
          localField: 'conversationId',
          foreignField: '_id',
          as: 'conversation',
        },
      },
      { $project: { _id: 0, seq: 1, 'conversation.title': 1 } },
    ]);
    expect(joined).toEqual([
      { seq: 1, conversation: [{ title: 'project-x' }] },
      { seq: 2, conversation: [{ title: 'project-x' }] },
    ]);
  });

  it('round-trips dates, ObjectIds, 64-bit integers and decimals', async () => {
    const m = await Messages.findOne({ conversationId: convA, seq: 7 }).lean();
    expect(m!.sentAt).toBeInstanceOf(Date);
    expect(m!.sentAt.getTime()).toBe(t0 + 6000);
    expect(m!.createdAt).toBeInstanceOf(Date);
    expect(m!._id).toBeInstanceOf(Types.ObjectId);
    expect(m!.senderId.equals(bob)).toBe(true); // seq 7: every third message is bob's
    expect(
      await Messages.countDocuments({
        sentAt: { $gte: new Date(t0 + 10_000), $lt: new Date(t0 + 20_000) },
      }),
    ).toBe(10);

    const big = 2n ** 53n + 7n;
    const conv = await Conversations.create({
      title: 'types',
      bigCounter: big,
      price: Types.Decimal128.fromString('12.345'),
    });
    // Mongoose casts the Int64 back to a bigint; lean() shows the driver's Long (2^53 + 7 would not survive a double).
    expect((await Conversations.findById(conv._id))!.bigCounter).toBe(big);
    const back = await Conversations.findById(conv._id).lean();
    expect(back!.bigCounter).toBeInstanceOf(mongoose.mongo.Long);
    expect(String(back!.bigCounter)).toBe(String(big));
    expect(back!.price!.toString()).toBe('12.345');
    expect(back!._id.equals(conv._id)).toBe(true);
  });

  it('deletes with deleteMany and deleteOne', async () => {
    expect(await Messages.deleteMany({ conversationId: convB })).toMatchObject({ deletedCount: 8 });
    expect(await Messages.deleteOne({ conversationId: convA, seq: 1 })).toMatchObject({
      deletedCount: 1,
    });
    expect(await Messages.countDocuments({})).toBe(MESSAGES - 1);
    await conn.dropCollection('readstates');
    expect((await conn.listCollections()).map((c) => c.name).sort()).toEqual([
      'conversations',
      'counters',
      'messages',
    ]);
  });
});

describe('server lifecycle', () => {
  it('stop() makes the wire double unreachable and leaves no process behind', async () => {
    const mongo = await startWireDouble();
    const port = portOf(mongo.uri);
    expect(await pingMongo('127.0.0.1', port)).toBe(true);
    await mongo.stop();
    await expect(pingMongo('127.0.0.1', port, 1_000)).rejects.toThrow(/ECONNREFUSED/);
    expect(pidGone(mongo.pid!)).toBe(true);
    await mongo.stop(); // idempotent
  });

  it('kill() ends the wire double abruptly; a fresh one starts empty', async () => {
    const first = await startWireDouble();
    const conn = await mongoose
      .createConnection(first.uri, { serverSelectionTimeoutMS: 2_000 })
      .asPromise();
    await conn.collection('probe').insertOne({ a: 1 });
    await first.kill();
    expect(pidGone(first.pid!)).toBe(true);
    await expect(pingMongo('127.0.0.1', portOf(first.uri), 1_000)).rejects.toThrow();
    await conn.close(true);

    const second = await startWireDouble();
    try {
      const conn2 = await mongoose.createConnection(second.uri).asPromise();
      expect(await conn2.collection('probe').countDocuments()).toBe(0);
      await conn2.close();
    } finally {
      await second.stop();
    }
  });

  it('uses a mongod found on PATH, waits until it answers, and removes its temp dbpath', async () => {
    // A stand-in `mongod` that logs readiness before it even listens (startMongo must still wait
    // for a real answer) and records the dbpath it was given.
    const bin = mkdtempSync(join(tmpdir(), 'fake-mongod-bin-'));
    const fake = join(bin, 'mongod');
    writeFileSync(
      fake,
      [
        '#!/usr/bin/python3',
        'import os, runpy, sys, time',
        'args = sys.argv[1:]',
        "port, dbpath = args[args.index('--port') + 1], args[args.index('--dbpath') + 1]",
        "open(os.path.join(dbpath, 'mongod.lock'), 'w').close()",
        'print(\'{"msg":"Waiting for connections"}\', flush=True)',
        'time.sleep(0.3)',
        `sys.argv = ['mongo_double', '--port', port]`,
        `runpy.run_path(${JSON.stringify(mongoDoubleScript())}, run_name='__main__')`,
      ].join('\n'),
    );
    chmodSync(fake, 0o755);
    const env = { PATH: process.env['PATH'], MONGODB_URI: process.env['MONGODB_URI'] };
    const dbpaths = () =>
      readdirSync(tmpdir()).filter((name) => name.startsWith('jobsphere-mongod-'));
    const before = dbpaths();
    process.env['PATH'] = `${bin}:${env.PATH ?? ''}`;
    delete process.env['MONGODB_URI'];
    try {
      const mongo = await startMongo({ dbName: 'chat' });
      expect(mongo.backend).toBe('real');
      expect(mongo.description).toContain(fake);
      expect(mongo.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/chat$/);
      const created = dbpaths().filter((name) => !before.includes(name));
      expect(created).toHaveLength(1);
      expect(readdirSync(join(tmpdir(), created[0]!))).toContain('mongod.lock');
      expect(await pingMongo('127.0.0.1', portOf(mongo.uri))).toBe(true);
      await mongo.stop();
      expect(dbpaths()).toEqual(before);
      expect(pidGone(mongo.pid!)).toBe(true);
    } finally {
      process.env['PATH'] = env.PATH;
      if (env.MONGODB_URI !== undefined) process.env['MONGODB_URI'] = env.MONGODB_URI;
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('with MONGODB_URI, uses a fresh uniquely named database and drops it on stop()', async () => {
    const server = await startWireDouble();
    const saved = process.env['MONGODB_URI'];
    process.env['MONGODB_URI'] = server.uri.replace(/\/test$/, '/');
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
      const conn = await mongoose.createConnection(a.uri).asPromise();
      await conn.collection('messages').insertOne({ body: 'hi' });
      const dbName = conn.db!.databaseName;
      const names = async () =>
        (await conn.db!.admin().listDatabases()).databases.map((d) => d.name);
      expect(await names()).toContain(dbName);
      await a.stop();
      await b.stop();
      expect(await names()).not.toContain(dbName);
      await expect(a.kill()).rejects.toThrow(/not possible/);
      await conn.close();
    } finally {
      if (saved === undefined) delete process.env['MONGODB_URI'];
      else process.env['MONGODB_URI'] = saved;
      await server.stop();
    }
  });
});
