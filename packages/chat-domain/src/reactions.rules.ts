import { type Reaction } from './entities.js';
import { ConflictError, ValidationError, type DomainError } from './errors.js';

export interface ReactionSettings {
  /** When set, only these emoji (at most `maxAllowedEmoji`); else any single emoji grapheme. */
  allowed?: readonly string[];
  /** Different emoji one person may put on one message. */
  perPerson: number;
  /** Different emoji one message may carry, all people together. */
  perMessage: number;
}

export const REACTION_DEFAULTS: ReactionSettings = { perPerson: 3, perMessage: 20 };

/** Longest list `allowed` may be, and the longest emoji string accepted (UTF-16 units). */
export const REACTION_LIMITS = { maxAllowedEmoji: 64, maxEmojiLength: 32 } as const;

// One RGI emoji (flags, keycaps, skin tones and ZWJ sequences included), and nothing else.
// Built at run time: the `v` flag is newer than the compile target's regex syntax.
const SINGLE_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Whether `emoji` is one emoji grapheme the settings accept. */
export function isAcceptedEmoji(emoji: string, settings: ReactionSettings): boolean {
  if (emoji.length === 0 || emoji.length > REACTION_LIMITS.maxEmojiLength) return false;
  if (settings.allowed) return settings.allowed.includes(emoji);
  return [...graphemes.segment(emoji)].length === 1 && SINGLE_EMOJI.test(emoji);
}

/** One person's reaction put on (`on: true`) or taken off: setting a state, so idempotent. */
export interface ReactionChange {
  userId: string;
  emoji: string;
  on: boolean;
}

export type ReactionDecision =
  | { ok: true; changed: false }
  | { ok: true; changed: true; reactions: Reaction[] }
  | { ok: false; error: DomainError };

/**
 * The whole rule of a reaction, decided once: every store evaluates it on the reactions the
 * message holds and writes the result only if they did not change meanwhile.
 */
export function decideReaction(
  current: readonly Reaction[] | undefined,
  change: ReactionChange,
  settings: ReactionSettings,
): ReactionDecision {
  const reactions = current ?? [];
  const has = reactions.some((r) => r.userId === change.userId && r.emoji === change.emoji);
  if (has === change.on) return { ok: true, changed: false };
  if (!change.on)
    return {
      ok: true,
      changed: true,
      reactions: reactions.filter((r) => !(r.userId === change.userId && r.emoji === change.emoji)),
    };
  if (!isAcceptedEmoji(change.emoji, settings))
    return {
      ok: false,
      error: new ValidationError('not an accepted reaction', [
        { path: 'emoji', message: settings.allowed ? 'not in the allowed list' : 'one emoji' },
      ]),
    };
  if (reactions.filter((r) => r.userId === change.userId).length >= settings.perPerson)
    return {
      ok: false,
      error: new ConflictError(`at most ${settings.perPerson} reactions per person on a message`),
    };
  const emoji = new Set(reactions.map((r) => r.emoji));
  if (!emoji.has(change.emoji) && emoji.size >= settings.perMessage)
    return {
      ok: false,
      error: new ConflictError(`at most ${settings.perMessage} different reactions on a message`),
    };
  return {
    ok: true,
    changed: true,
    reactions: [...reactions, { userId: change.userId, emoji: change.emoji }],
  };
}

/** What a message view shows: per emoji, in order of first use, how many and whether the viewer. */
export function summarizeReactions(
  reactions: readonly Reaction[] | undefined,
  viewerId?: string,
): { emoji: string; count: number; mine?: true }[] {
  const byEmoji = new Map<string, { emoji: string; count: number; mine?: true }>();
  for (const r of reactions ?? []) {
    const entry = byEmoji.get(r.emoji) ?? { emoji: r.emoji, count: 0 };
    entry.count += 1;
    if (r.userId === viewerId) entry.mine = true;
    byEmoji.set(r.emoji, entry);
  }
  return [...byEmoji.values()];
}
