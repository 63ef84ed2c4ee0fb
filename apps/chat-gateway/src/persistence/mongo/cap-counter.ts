import { type mongo } from 'mongoose';
import { isDuplicateKey } from './driver-errors.js';

/** A count per owner (`_id`) in one field, kept below a cap by the store itself. */
type CounterDoc<F extends string> = { _id: string } & Record<F, number>;

/**
 * A cap atomic across instances (scheduled sends per sender, templates per owner): one counter
 * document per owner, moved by conditional `$inc` only, so two instances taking the last place
 * at once cannot both get it.
 */
export class CapCounter<F extends string> {
  constructor(
    private readonly counters: mongo.Collection<CounterDoc<F>>,
    private readonly field: F,
  ) {}

  /** One place of the owner's cap, atomically; false when all are taken. */
  async take(owner: string, max: number): Promise<boolean> {
    const filter = { _id: owner, [this.field]: { $lt: max } } as mongo.Filter<CounterDoc<F>>;
    const inc = { $inc: { [this.field]: 1 } } as mongo.UpdateFilter<CounterDoc<F>>;
    try {
      await this.counters.updateOne(filter, inc, { upsert: true });
      return true;
    } catch (error) {
      // The counter exists and is full (the upsert's insert collided), or two first creations
      // raced: asked again without upsert, the filter alone decides.
      if (!isDuplicateKey(error)) throw error;
      const again = await this.counters.updateOne(filter, inc);
      return again.modifiedCount === 1;
    }
  }

  async free(owner: string): Promise<void> {
    await this.counters.updateOne(
      { _id: owner, [this.field]: { $gt: 0 } } as mongo.Filter<CounterDoc<F>>,
      { $inc: { [this.field]: -1 } } as mongo.UpdateFilter<CounterDoc<F>>,
    );
  }

  /** Forgets the owner's count (their entries are gone). */
  async forget(owner: string): Promise<void> {
    await this.counters.deleteOne({ _id: owner } as mongo.Filter<CounterDoc<F>>);
  }
}
