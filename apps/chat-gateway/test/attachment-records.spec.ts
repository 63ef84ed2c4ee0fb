import { mkdtemp, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongo, type MongoHandle } from '@jobsphere/testing';
import mongoose, { type Connection } from 'mongoose';
import {
  MemoryAttachmentRecords,
  type AttachmentRecord,
  type AttachmentRecords,
} from '../src/attachments/attachment-records.js';
import { MongoAttachmentRecords } from '../src/attachments/attachment-records.mongo.js';
import { LocalBlobStorage } from '../src/attachments/local.storage.js';

// Around now: MongoDB's TTL monitor drops records whose expiresAt is past.
const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
const later = (ms: number) => new Date(t0.getTime() + ms);
const record = (id: string, overrides: Partial<AttachmentRecord> = {}): AttachmentRecord => ({
  id,
  uploaderId: 'alice',
  conversationId: 'c1',
  fileName: `${id}.pdf`,
  contentType: 'application/pdf',
  size: 10,
  key: id,
  createdAt: t0,
  pendingUntil: later(60_000),
  expiresAt: later(60_000),
  ...overrides,
});
const claimAs = (messageKey: string, at = t0) => ({
  uploaderId: 'alice',
  conversationId: 'c1',
  messageKey,
  at,
});

// One contract for both metadata stores: MongoDB (the server in MONGODB_URI when set, otherwise
// the emulator) and the in-memory one.
let mongo: MongoHandle | undefined;
let connection: Connection | undefined;
const stores: [string, () => Promise<AttachmentRecords>][] = [
  ['memory', () => Promise.resolve(new MemoryAttachmentRecords())],
  [
    'MongoDB',
    async () => {
      if (!mongo) {
        mongo = await startMongo();
        console.log(`attachment records backend: ${mongo.description}`);
      }
      connection ??= await mongoose.createConnection(mongo.uri).asPromise();
      await connection.collection('attachments').deleteMany({});
      return MongoAttachmentRecords.open(connection);
    },
  ],
];

afterAll(async () => {
  await connection?.close();
  await mongo?.stop();
});

describe.each(stores)('attachment records (%s)', (_, open) => {
  let records: AttachmentRecords;
  beforeEach(async () => {
    records = await open();
  });

  it('keeps what was inserted', async () => {
    await records.insert(record('a1'));
    expect(await records.get('a1')).toEqual(record('a1'));
    expect(await records.getMany(['a1', 'missing'])).toEqual([record('a1')]);
    expect(await records.get('missing')).toBeNull();
  });

  it("claims only the uploader's own, for the conversation, unclaimed and unexpired", async () => {
    await records.insert(record('mine'));
    await records.insert(record('bobs', { uploaderId: 'bob' }));
    await records.insert(record('elsewhere', { conversationId: 'c2' }));
    await records.insert(record('old', { expiresAt: later(-1), pendingUntil: later(-1) }));
    expect(
      await records.claim(['mine', 'bobs', 'elsewhere', 'old', 'missing'], claimAs('m1')),
    ).toEqual(['mine']);
    const claimed = await records.get('mine');
    expect(claimed).toMatchObject({ messageKey: 'm1' });
    expect(claimed?.expiresAt).toBeUndefined();
    // Of two messages, only the first holds it.
    expect(await records.claim(['mine'], claimAs('m2'))).toEqual([]);
  });

  it('gives back what a refused message held: pending again until its own expiry', async () => {
    await records.insert(record('a1'));
    await records.insert(record('a2'));
    await records.claim(['a1', 'a2'], claimAs('m1'));
    const released = await records.release('alice', 'm1', ['a1']);
    expect(released.map((r) => r.id)).toEqual(['a1']);
    expect(await records.get('a1')).toEqual(record('a1'));
    expect(await records.get('a2')).toMatchObject({ messageKey: 'm1' });
    expect(await records.release('bob', 'm1')).toEqual([]);
    expect(await records.claim(['a1'], claimAs('m2'))).toEqual(['a1']);
  });

  it("counts a person's pending uploads (not claimed, expired or revoked) and their bytes", async () => {
    await records.insert(record('p1', { size: 100 }));
    await records.insert(record('p2', { size: 200 }));
    await records.insert(record('sent', { size: 400 }));
    await records.insert(record('gone', { size: 800, expiresAt: later(-1) }));
    await records.insert(record('bobs', { uploaderId: 'bob', size: 1600 }));
    await records.claim(['sent'], claimAs('m1'));
    expect(await records.pendingOf('alice', t0)).toEqual({ files: 2, bytes: 300 });
    // Revoked uploads are no longer pending (all of alice's: which one a batch of one takes is
    // the server's order, which differs between a server and its planner rules).
    await records.revokeUploader('alice', 10, t0);
    expect(await records.pendingOf('alice', t0)).toEqual({ files: 0, bytes: 0 });
    expect(await records.pendingOf('bob', t0)).toEqual({ files: 1, bytes: 1600 });
  });

  it("revokes a person's uploads at most `limit` at a time, and the next batch takes the rest", async () => {
    for (const id of ['u1', 'u2', 'u3', 'u4', 'u5']) await records.insert(record(id));
    await records.insert(record('bobs', { uploaderId: 'bob' }));
    await records.claim(['u2'], claimAs('m1'));
    const seen: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const revoked = await records.revokeUploader('alice', 2, t0);
      if (revoked.length === 0) break;
      expect(revoked.length).toBeLessThanOrEqual(2);
      seen.push(...revoked.map((r) => r.id));
      await records.remove(revoked.map((r) => r.id));
    }
    expect(seen.sort()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    expect(await records.get('bobs')).toEqual(record('bobs', { uploaderId: 'bob' }));
  });

  it("revokes what a message holds, and a person's uploads a batch at a time: no claim, then gone", async () => {
    await records.insert(record('a1'));
    await records.insert(record('a2'));
    await records.insert(record('pending'));
    await records.claim(['a1', 'a2'], claimAs('m1'));
    const revoked = await records.revokeMessage('m1', t0);
    expect(revoked.map((r) => r.id).sort()).toEqual(['a1', 'a2']);
    expect(await records.get('a1')).toMatchObject({ messageKey: 'm1', revokedAt: t0 });
    // Revoked again (a retried delete): the same records, the first time kept.
    expect((await records.revokeMessage('m1', later(5))).map((r) => r.revokedAt)).toEqual([t0, t0]);
    await records.remove(revoked.map((r) => r.id));
    expect(await records.getMany(['a1', 'a2'])).toEqual([]);

    expect(await records.revokeUploader('alice', 10, t0)).toMatchObject([{ id: 'pending' }]);
    expect(await records.claim(['pending'], claimAs('m2'))).toEqual([]);
    expect(await records.revokeUploader('bob', 10, t0)).toEqual([]);
  });
});

describe('expiry of unclaimed uploads', () => {
  it('MongoDB drops them by a TTL index on expiresAt (claimed ones have none)', async () => {
    const [, open] = stores[1]!;
    await open();
    const indexes = await connection!.collection('attachments').indexes();
    expect(indexes).toContainEqual(
      expect.objectContaining({ key: { expiresAt: 1 }, expireAfterSeconds: 0 }),
    );
  });

  it('the in-memory store sweeps them and keeps claimed ones', async () => {
    const records = new MemoryAttachmentRecords();
    await records.insert(record('pending'));
    await records.insert(record('kept'));
    await records.claim(['kept'], claimAs('m1'));
    expect(await records.sweep(later(59_999))).toBe(0);
    expect(await records.sweep(later(60_000))).toBe(1);
    expect(await records.get('pending')).toBeNull();
    expect(await records.get('kept')).not.toBeNull();
  });

  it('the local folder deletes pending files older than the pending lifetime, never claimed ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attachments-sweep-'));
    try {
      const storage = new LocalBlobStorage({
        dir,
        publicUrl: 'http://localhost:1',
        signingKey: Buffer.alloc(32, 1),
        pendingTtlMs: 60_000,
        timeoutMs: 1_000,
      });
      await storage.sweep(new Date()); // creates the folders
      for (const name of ['old', 'fresh', 'claimed'])
        await writeFile(join(dir, 'pending', name), 'x');
      await storage.markAttached('claimed');
      const twoMinutesAgo = new Date(Date.now() - 120_000);
      await utimes(join(dir, 'pending', 'old'), twoMinutesAgo, twoMinutesAgo);
      await mkdir(join(dir, 'files'), { recursive: true });
      await utimes(join(dir, 'files', 'claimed'), twoMinutesAgo, twoMinutesAgo);
      expect(await storage.sweep(new Date())).toBe(1);
      await expect(stat(join(dir, 'pending', 'old'))).rejects.toThrow();
      await expect(stat(join(dir, 'pending', 'fresh'))).resolves.toBeTruthy();
      await expect(stat(join(dir, 'files', 'claimed'))).resolves.toBeTruthy();
      expect(await storage.uploaded('claimed', 1)).toBe(true);
      expect(await storage.uploaded('old', 1)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
