import { createHash } from 'node:crypto';
import type { mongo } from 'mongoose';
import type { ConversationDoc, ReservationDoc } from './models.js';

/** Reservations kept per conversation: how many changes back a retry still finds its position. */
export const RESERVATIONS_KEPT = 100;

/** The allocator's fields: nothing else writes them (see `allocate`). */
const OWN_FIELDS = ['version', 'lastSeq', 'reservations'] as const;

type Counters = Pick<ConversationDoc, 'lastSeq' | 'version' | 'reservations'>;

/** A new conversation's counters: nothing handed out yet. */
export function unallocated(): Counters {
  return { lastSeq: 0, version: 0, reservations: [] };
}

/** A short, stable key for what takes a position (`<senderId>|<clientMessageId>` for a send). */
export function reservationKey(owner: string, attempt: string): string {
  return createHash('sha256')
    .update(`${owner}|${attempt}`)
    .digest()
    .subarray(0, 12)
    .toString('base64url');
}

/** One position to take: a message takes a seq and a version, any other change a version. */
export interface Take {
  key: string;
  message: boolean;
}

/** What the same update writes besides the positions it takes (never the allocator's fields). */
export interface Alongside {
  $set?: Record<string, unknown>;
  $unset?: Record<string, unknown>;
  $inc?: Record<string, number>;
}

/**
 * The one update that moves `version` and `lastSeq` and pushes reservations: each position
 * taken is one version (one seq too for a message) and one reservation, pushed together, so
 * the count-back of `reservedSlot` holds by construction. Anything else that must change
 * atomically with the positions rides along in `alongside`, which may not touch them.
 */
function allocate(
  takes: readonly Take[],
  alongside: Alongside,
): mongo.UpdateFilter<ConversationDoc> {
  if (takes.length === 0) throw new Error('an allocation takes at least one position');
  for (const [operator, fields] of Object.entries(alongside)) {
    for (const field of Object.keys(fields as object)) {
      const root = field.split('.')[0];
      if (OWN_FIELDS.some((own) => own === root))
        throw new Error(`${operator} ${field}: only the version allocator writes ${root}`);
    }
  }
  const reservations: ReservationDoc[] = takes.map((t) => ({ k: t.key, m: t.message ? 1 : 0 }));
  const seqs = takes.filter((t) => t.message).length;
  return {
    ...(alongside.$set && { $set: alongside.$set }),
    ...(alongside.$unset && { $unset: alongside.$unset }),
    $inc: { ...alongside.$inc, version: takes.length, ...(seqs > 0 && { lastSeq: seqs }) },
    $push: { reservations: { $each: reservations, $slice: -RESERVATIONS_KEPT } },
  } as mongo.UpdateFilter<ConversationDoc>;
}

/** An inclusion projection gets `version` added: the caller reads the positions it took. */
function withVersion(projection: Record<string, 0 | 1>): Record<string, 0 | 1> {
  return Object.values(projection).includes(1) ? { ...projection, version: 1 } : projection;
}

/** The seq and version a reservation stands for, counted back from the newest one. */
export function reservedSlot(doc: Counters, key: string): { seq: number; version: number } | null {
  const list = doc.reservations ?? [];
  const index = list.findLastIndex((r) => r.k === key);
  if (index < 0) return null;
  const later = list.slice(index + 1);
  return {
    version: doc.version - later.length,
    seq: doc.lastSeq - later.filter((r) => r.m === 1).length,
  };
}

/**
 * Hands out the versions (the sync cursor) and seqs (the message order) of conversations. The
 * only code that moves them: a send, a revision, a conversation change and an erasure each take
 * their positions here, in one conditional update of the conversation.
 */
export class VersionAllocator {
  constructor(private readonly conversations: mongo.Collection<ConversationDoc>) {}

  /**
   * Takes `takes` positions on the conversation `filter` matches, with `alongside` in the same
   * update. Answers the document after it (`projection`; `version` is always there, and the
   * last position taken is that version), or before it when asked (the positions taken are
   * the ones after its `version` and `lastSeq`), or null when nothing matched and nothing was
   * taken.
   */
  async take<T extends Pick<ConversationDoc, 'version'>>(
    filter: mongo.Filter<ConversationDoc>,
    takes: readonly Take[],
    options: {
      alongside?: Alongside;
      projection: Record<string, 0 | 1>;
      returnDocument?: 'before' | 'after';
      maxTimeMS?: number;
    },
  ): Promise<T | null> {
    const doc = await this.conversations.findOneAndUpdate(
      filter,
      allocate(takes, options.alongside ?? {}),
      {
        returnDocument: options.returnDocument ?? 'after',
        projection: withVersion(options.projection),
        ...(options.maxTimeMS !== undefined && { maxTimeMS: options.maxTimeMS }),
      },
    );
    return doc as T | null;
  }
}
