import { type Conversation, type Principal } from '../entities.js';
import { type DeliveredResult, type SettingsDto } from '../responses.js';
import { decideSend, sendSubjectOf } from '../send-decision.js';
import { audienceOf, deliveredPosition, lastMessageSeq, sharesReceipts } from '../rules.js';
import { type MarkDeliveredInput, type SettingsUpdate } from '../schemas.js';
import { UnavailableError } from '../errors.js';
import { type ChatDeps, type Origin, except, trustOf } from './context.js';
import { withoutBlocked } from './presence.js';

const NOBODY: ReadonlySet<string> = new Set();

/**
 * Who among `userIds` turned receipts off: one query, bounded by the ids given (a page's or a
 * conversation's members).
 */
export async function hidingAmong(
  deps: ChatDeps,
  userIds: Iterable<string>,
): Promise<ReadonlySet<string>> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return NOBODY;
  return new Set(await deps.store.preferences.hidingReceipts(ids));
}

/** Everyone a page of conversations names, for `hidingAmong`. */
export function membersOf(conversations: readonly Conversation[]): string[] {
  return conversations.flatMap((c) => c.members.map((m) => m.userId));
}

/**
 * Of `audience`, who may hear `subjectId`'s receipts in this conversation: those sharing activity
 * with them, none of either side hiding receipts, and (in a group) nobody behind a block.
 */
export async function receiptAudience(
  deps: ChatDeps,
  conversation: Conversation,
  subjectId: string,
  known?: ReadonlySet<string>,
): Promise<string[]> {
  const others = audienceOf(conversation).filter((id) => id !== subjectId);
  if (others.length === 0) return [];
  // `known`: who hides receipts among everyone concerned, read once for a batch.
  const hiding = known ?? (await hidingAmong(deps, [subjectId, ...others]));
  if (hiding.has(subjectId)) return [];
  return withoutBlocked(
    deps,
    conversation,
    subjectId,
    others.filter((id) => sharesReceipts(conversation, subjectId, id, NOBODY, hiding)),
  );
}

interface DeliveredRequest {
  principal: Principal;
  /** Conversation id -> the position this device holds. */
  wanted: Map<string, number>;
  origin: Origin;
  resolve: (result: DeliveredResult) => void;
  reject: (error: unknown) => void;
}

/** A (member, conversation) position to move, and the requests that asked for it. */
interface Move {
  conversation: Conversation;
  userId: string;
  target: number;
  origins: Set<string | undefined>;
}

export interface DeliveredAcksOptions {
  /** Positions one batch takes at most (it reads their conversations in one query). */
  maxBatchPositions: number;
  /** Requests waiting at most; past it one is answered UNAVAILABLE at once (the SDK retries). */
  maxWaiting: number;
}

export const DELIVERED_ACKS: DeliveredAcksOptions = { maxBatchPositions: 1_000, maxWaiting: 5_000 };

/**
 * Devices acknowledge what they hold ("delivered"), many conversations at once, each while
 * messages arrive (the SDK's debounce: about once a second per device). Each acknowledgement
 * once cost a read of its conversations, a write per position and reads of who hides receipts
 * and who is blocked: more store work than the sends themselves (bench: the gateway saturated
 * at 50 msg/s with them, sustained 200 without). So the acknowledgements of every device on
 * this instance are coalesced like the store's group commit: one batch in flight, what arrives
 * meanwhile leaves as the next batch. A batch reads its conversations in one query and who
 * hides receipts in another, and moves each (member, conversation) once however many devices
 * and requests asked for it. A quiet instance answers each acknowledgement at once.
 *
 * Each position moves forward only and never past the newest message; one that moves nothing
 * costs no write and no event. Conversations the caller is not admitted to are left out of its
 * answer: an acknowledgement is never refused as a whole.
 */
export class DeliveredAcks {
  private readonly waiting: DeliveredRequest[] = [];
  private busy = false;

  constructor(
    private readonly deps: ChatDeps,
    private readonly options: DeliveredAcksOptions = DELIVERED_ACKS,
  ) {}

  mark(
    principal: Principal,
    input: MarkDeliveredInput,
    origin: Origin = {},
  ): Promise<DeliveredResult> {
    if (this.waiting.length >= this.options.maxWaiting)
      return Promise.reject(new UnavailableError('too many delivered acknowledgements waiting'));
    const wanted = new Map<string, number>();
    for (const { conversationId, seq } of input.positions)
      wanted.set(conversationId, Math.max(seq, wanted.get(conversationId) ?? 0));
    return new Promise<DeliveredResult>((resolve, reject) => {
      this.waiting.push({ principal, wanted, origin, resolve, reject });
      if (!this.busy) this.next();
    });
  }

  private next(): void {
    const batch: DeliveredRequest[] = [];
    let positions = 0;
    while (this.waiting.length > 0) {
      const size = this.waiting[0]!.wanted.size;
      if (batch.length > 0 && positions + size > this.options.maxBatchPositions) break;
      batch.push(this.waiting.shift()!);
      positions += size;
    }
    if (batch.length === 0) {
      this.busy = false;
      return;
    }
    this.busy = true;
    this.run(batch)
      .then(
        (results) => batch.forEach((r, i) => r.resolve(results[i]!)),
        (error: unknown) => batch.forEach((r) => r.reject(error)),
      )
      .finally(() => this.next());
  }

  private async run(batch: DeliveredRequest[]): Promise<DeliveredResult[]> {
    const { deps } = this;
    const ids = new Set(batch.flatMap((r) => [...r.wanted.keys()]));
    const conversations = new Map(
      (await deps.store.conversations.getMany([...ids])).map((c) => [c.id, c]),
    );
    const allowance = trustOf(deps).requestAllowance;
    const moves = new Map<string, Move>();
    // Per request, its admitted conversations (answered) and where each stood when read.
    const admitted = batch.map((r) => {
      const mine: { conversation: Conversation; current: number; key: string }[] = [];
      for (const [conversationId, seq] of r.wanted) {
        const conversation = conversations.get(conversationId);
        if (!conversation) continue;
        const userId = r.principal.userId;
        const decision = decideSend(sendSubjectOf(conversation, allowance), {
          senderId: userId,
          kind: 'user',
          action: 'read',
        });
        if (!decision.ok) continue;
        const current = deliveredPosition(conversation, userId);
        const target = Math.min(seq, lastMessageSeq(conversation));
        const key = `${conversationId}\u0000${userId}`;
        mine.push({ conversation, current, key });
        if (target <= current) continue;
        const move = moves.get(key);
        if (move) {
          move.target = Math.max(move.target, target);
          move.origins.add(r.origin.socketId);
        } else
          moves.set(key, {
            conversation,
            userId,
            target,
            origins: new Set([r.origin.socketId]),
          });
      }
      return mine;
    });
    const moved = new Map<string, number | null>();
    await Promise.all(
      [...moves].map(async ([key, m]) =>
        moved.set(
          key,
          await deps.store.conversations.advanceDelivered(m.conversation.id, m.userId, m.target),
        ),
      ),
    );
    // Who hides receipts among every member concerned: one read for the batch.
    const landed = [...moves].filter(([key]) => (moved.get(key) ?? null) !== null);
    const hiding = await hidingAmong(
      deps,
      landed.flatMap(([, m]) => [m.userId, ...audienceOf(m.conversation)]),
    );
    await Promise.all(
      landed.map(async ([key, m]) => {
        const current = deliveredPosition(m.conversation, m.userId);
        const lastDeliveredSeq = Math.max(moved.get(key)!, current);
        const audience = await receiptAudience(deps, m.conversation, m.userId, hiding);
        // The one device that asked already knows; several asked: all of them hear it.
        const [only] = m.origins;
        deps.fanout.toUsers(
          [...audience, m.userId],
          'conversation:delivered',
          { conversationId: m.conversation.id, userId: m.userId, lastDeliveredSeq },
          except(m.origins.size === 1 && only !== undefined ? { socketId: only } : {}),
        );
      }),
    );
    return admitted.map((mine) => ({
      conversations: mine.flatMap(({ conversation, current, key }) => {
        if (!moves.has(key))
          return [{ conversationId: conversation.id, lastDeliveredSeq: current }];
        const to = moved.get(key);
        return to === null || to === undefined
          ? []
          : [{ conversationId: conversation.id, lastDeliveredSeq: Math.max(to, current) }];
      }),
    }));
  }
}

export async function getSettings(deps: ChatDeps, principal: Principal): Promise<SettingsDto> {
  const hiding = await hidingAmong(deps, [principal.userId]);
  return { receipts: !hiding.has(principal.userId) };
}

/** Changes the caller's settings; their other devices are told. */
export async function updateSettings(
  deps: ChatDeps,
  principal: Principal,
  input: SettingsUpdate,
  origin: Origin = {},
): Promise<SettingsDto> {
  if (input.receipts === undefined) return getSettings(deps, principal);
  const changed = await deps.store.preferences.setReceipts(
    principal.userId,
    input.receipts,
    deps.clock.now(),
  );
  const settings = { receipts: input.receipts };
  if (changed)
    deps.fanout.toUsers([principal.userId], 'settings:updated', settings, except(origin));
  return settings;
}
