import { type PreferenceStore } from '@jobsphere/chat-domain';
import { type mongo } from 'mongoose';
import type { Models, PreferenceDoc } from './models.js';

/** One document per person who changed a setting; everyone else has the defaults. */
export class MongoPreferences implements PreferenceStore {
  private readonly collection: mongo.Collection<PreferenceDoc>;

  constructor(model: Models['preferences']) {
    // The driver's collection, typed by its string ids (the model's is typed for ObjectIds).
    this.collection = model.collection as unknown as mongo.Collection<PreferenceDoc>;
  }

  async hidingReceipts(userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const docs = await this.collection
      .find({ _id: { $in: userIds }, receiptsHidden: true }, { projection: { _id: 1 } })
      .toArray();
    return docs.map((d) => d._id);
  }

  async setReceipts(userId: string, shown: boolean, at: Date): Promise<boolean> {
    // One write; the state before it says whether anything changed (also when two race).
    const before = await this.collection.findOneAndUpdate(
      { _id: userId },
      { $set: { receiptsHidden: !shown, updatedAt: at } },
      { upsert: !shown, returnDocument: 'before', projection: { receiptsHidden: 1 } },
    );
    return (before?.receiptsHidden === true) === shown;
  }
}
