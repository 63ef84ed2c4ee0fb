import {
  hasJoined,
  decodeActivityCursor,
  nextCursorOf,
  type Conversation,
  type ContactStore,
} from '@jobsphere/chat-domain';
import { isDuplicateKey } from './driver-errors.js';
import { errorsByStatement } from './group-commit.js';
import type { BlockDoc, Models } from './models.js';

/** Contact upserts per bulk write: a 50-member group makes 2,450 pairs. */
const CONTACT_BATCH = 1_000;
/**
 * Two upserts of one pair at once (two accepts, two creations) both miss and both insert; one
 * gets E11000. MongoDB 4.2+ retries that on the server, DocumentDB does not: the same upsert
 * again finds the winner's document and updates it. Bounded: one race per pair is the rule.
 */
const UPSERT_ATTEMPTS = 3;

/**
 * Makes every member of `conversation` a contact of every other one. Idempotent, so opening a
 * conversation again repairs contacts a failure left out.
 */
export async function addContacts(
  contacts: Models['contacts'],
  conversation: Conversation,
): Promise<void> {
  // The members who joined become contacts of each other (an open invitation makes none).
  const ids = conversation.members.filter(hasJoined).map((m) => m.userId);
  const operations = ids.flatMap((userId) =>
    ids
      .filter((contactId) => contactId !== userId)
      .map((contactId) => ({
        updateOne: {
          filter: { userId, contactId },
          update: { $max: { since: conversation.createdAt } },
          upsert: true,
        },
      })),
  );
  for (let i = 0; i < operations.length; i += CONTACT_BATCH) {
    let batch = operations.slice(i, i + CONTACT_BATCH);
    for (let attempt = 1; ; attempt++) {
      try {
        await contacts.collection.bulkWrite(batch, { ordered: false });
        break;
      } catch (error) {
        const errors = errorsByStatement(error, batch.length);
        const lost = errors.every((e) => e === undefined || isDuplicateKey(e));
        if (!lost || attempt >= UPSERT_ATTEMPTS) throw error;
        batch = batch.filter((_, index) => errors[index] !== undefined);
      }
    }
  }
}

export class MongoContacts implements ContactStore {
  private readonly model: Models['contacts'];
  private readonly blocks: Models['blocks'];

  constructor(models: Models) {
    this.model = models.contacts;
    this.blocks = models.blocks;
  }

  async among(userId: string, candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const unique = [...new Set(candidates)];
    const [docs, blocked] = await Promise.all([
      this.model
        .find({ userId, contactId: { $in: unique } }, { contactId: 1 })
        .lean<{ contactId: string }[]>(),
      this.blockedAmong(userId, unique),
    ]);
    const excluded = new Set(blocked);
    return docs.map((d) => d.contactId).filter((id) => !excluded.has(id));
  }

  /** Up to `limit`: the newest contacts, less those behind a block. */
  async audience(userId: string, limit: number): Promise<string[]> {
    const docs = await this.model
      .find({ userId }, { contactId: 1 })
      .sort({ since: -1 })
      .limit(limit)
      .lean<{ contactId: string }[]>();
    const ids = docs.map((d) => d.contactId);
    const excluded = new Set(await this.blockedAmong(userId, ids));
    return ids.filter((id) => !excluded.has(id));
  }

  async accepted(a: string, b: string): Promise<boolean> {
    return (await this.model.exists({ userId: a, contactId: b })) !== null;
  }

  async blockedPairs(userIds: string[]): Promise<[string, string][]> {
    const unique = [...new Set(userIds)];
    if (unique.length < 2) return [];
    const docs = await this.blocks
      .find({ blocker: { $in: unique }, blocked: { $in: unique } }, { blocker: 1, blocked: 1 })
      .limit(unique.length * unique.length)
      .lean<BlockDoc[]>();
    const seen = new Set<string>();
    const pairs: [string, string][] = [];
    for (const d of docs) {
      const key = [d.blocker, d.blocked].sort().join('\u0000');
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push([d.blocker, d.blocked]);
    }
    return pairs;
  }

  async blockedAmong(userId: string, candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const unique = [...new Set(candidates)];
    const docs = await this.blocks
      .find(
        {
          $or: [
            { blocker: userId, blocked: { $in: unique } },
            { blocked: userId, blocker: { $in: unique } },
          ],
        },
        { blocker: 1, blocked: 1 },
      )
      .lean<BlockDoc[]>();
    return [...new Set(docs.map((d) => (d.blocker === userId ? d.blocked : d.blocker)))];
  }

  async block(blocker: string, blocked: string, at: Date): Promise<boolean> {
    try {
      await this.blocks.collection.insertOne({ blocker, blocked, since: at });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async unblock(blocker: string, blocked: string): Promise<boolean> {
    return (await this.blocks.deleteOne({ blocker, blocked })).deletedCount === 1;
  }

  async blockedBy(
    userId: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ users: { userId: string; since: Date }[]; nextCursor?: string }> {
    const filter: Record<string, unknown> = { blocker: userId };
    if (page.cursor) {
      const { at, id } = decodeActivityCursor(page.cursor);
      filter['$or'] = [{ since: { $lt: at } }, { since: at, blocked: { $lt: id } }];
    }
    const docs = await this.blocks
      .find(filter, { blocked: 1, since: 1 })
      .sort({ since: -1, blocked: -1 })
      .limit(page.limit + 1)
      .lean<BlockDoc[]>();
    const users = docs.slice(0, page.limit).map((d) => ({ userId: d.blocked, since: d.since }));
    return {
      users,
      ...nextCursorOf(docs.length, page.limit, users, (i) => [i.since, i.userId]),
    };
  }
}
