import type { mongo } from 'mongoose';
import type { ConversationDoc } from './models.js';
import { reservedSlot, VersionAllocator } from './version-allocator.js';

/** A collection that records the update it is given and answers nothing matched. */
function recording() {
  const updates: Record<string, unknown>[] = [];
  const collection = {
    findOneAndUpdate: async (_filter: unknown, update: Record<string, unknown>) => {
      updates.push(update);
      return null;
    },
  } as unknown as mongo.Collection<ConversationDoc>;
  return { allocator: new VersionAllocator(collection), updates };
}

describe('VersionAllocator', () => {
  it('takes one version per reservation it pushes, and one seq per message among them', async () => {
    const { allocator, updates } = recording();
    await allocator.take(
      {},
      [
        { key: 'a', message: true },
        { key: 'b', message: false },
        { key: 'c', message: true },
      ],
      { alongside: { $inc: { 'request.left': -1 } }, projection: { memberIds: 1 } },
    );
    expect(updates[0]).toEqual({
      $inc: { 'request.left': -1, version: 3, lastSeq: 2 },
      $push: {
        reservations: {
          $each: [
            { k: 'a', m: 1 },
            { k: 'b', m: 0 },
            { k: 'c', m: 1 },
          ],
          $slice: -100,
        },
      },
    });
  });

  it('refuses what rides along when it touches its fields, and an allocation of nothing', async () => {
    const { allocator, updates } = recording();
    const take = { key: 'k', message: false };
    const projection = { version: 1 } as const;
    await expect(
      allocator.take({}, [take], { alongside: { $set: { version: 9 } }, projection }),
    ).rejects.toThrow('only the version allocator writes version');
    await expect(
      allocator.take({}, [take], { alongside: { $inc: { lastSeq: 1 } }, projection }),
    ).rejects.toThrow('only the version allocator writes lastSeq');
    await expect(
      allocator.take({}, [take], { alongside: { $unset: { 'reservations.0': 1 } }, projection }),
    ).rejects.toThrow('only the version allocator writes reservations');
    await expect(allocator.take({}, [], { projection })).rejects.toThrow('at least one');
    expect(updates).toEqual([]);
  });

  it('counts a reservation back to the position it took', () => {
    const doc = {
      version: 10,
      lastSeq: 6,
      reservations: [
        { k: 'x', m: 1 as const },
        { k: 'meta', m: 0 as const },
        { k: 'y', m: 1 as const },
      ],
    };
    expect(reservedSlot(doc, 'x')).toEqual({ version: 8, seq: 5 });
    expect(reservedSlot(doc, 'y')).toEqual({ version: 10, seq: 6 });
    expect(reservedSlot(doc, 'z')).toBeNull();
  });
});
