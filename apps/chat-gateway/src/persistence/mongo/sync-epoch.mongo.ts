import { randomBytes } from 'node:crypto';
import type { mongo } from 'mongoose';
import { isDuplicateKey } from './driver-errors.js';

/** The one document of the `meta` collection that names the store's epoch. */
export interface EpochDoc {
  _id: 'sync';
  epoch: string;
  createdAt: Date;
}

export const META_COLLECTION = 'meta';

/**
 * The store's sync epoch, kept in the database itself so that it travels with the data: a fresh
 * database, or one restored from a snapshot taken before the document existed, mints a new one
 * at the next sync. Restoring a snapshot that holds the document keeps its epoch: the restore
 * runbook rotates it (`db.meta.deleteOne({ _id: 'sync' })`). Read at every sync (one lookup by
 * `_id`), so a rotation reaches every instance at once.
 */
export class MongoSyncEpoch {
  constructor(
    private readonly meta: mongo.Collection<EpochDoc>,
    /** The store's per-command limit (the driver's collections do not take Mongoose's). */
    private readonly maxTimeMS: number | undefined,
  ) {}

  async current(): Promise<string> {
    const found = await this.find();
    if (found) return found.epoch;
    const minted: EpochDoc = {
      _id: 'sync',
      epoch: randomBytes(16).toString('hex'),
      createdAt: new Date(),
    };
    try {
      await this.meta.insertOne(minted);
      return minted.epoch;
    } catch (error) {
      // Another instance minted it first: theirs is the epoch.
      if (!isDuplicateKey(error)) throw error;
      const winner = await this.find();
      if (!winner) throw error;
      return winner.epoch;
    }
  }

  private find(): Promise<EpochDoc | null> {
    return this.meta.findOne(
      { _id: 'sync' },
      this.maxTimeMS === undefined ? {} : { maxTimeMS: this.maxTimeMS },
    );
  }
}
