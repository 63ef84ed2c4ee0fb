import { type Message, type Principal } from '../entities.js';
import { BannedError, ForbiddenError, NotFoundError, SlowModeError } from '../errors.js';
import {
  type AuditAction,
  type AuditLog,
  type AuditLogQuery,
  type ModerationGate,
  type ModerationList,
  type ModerationListQuery,
  type NewAuditEntry,
  type RestrictionDto,
  type RestrictionKind,
  type SlowModeDto,
  type UserRestriction,
  MODERATION_LIMITS,
  toAuditEntryDto,
  toModerationFlagDto,
} from '../moderation.js';
import { type ChatStore, type Clock } from '../ports.js';
import { lastMessageSeq, memberIds } from '../rules.js';
import { type ChatDeps } from './context.js';

/** Who acts: an admin (their user id) or the platform's service (`service:<name>`). */
export type Moderator = { actor: string };

export function moderatorOf(principal: Principal): Moderator {
  if (principal.role !== 'admin') throw new ForbiddenError('moderation is for admins');
  return { actor: principal.userId };
}

/**
 * The gate on the send path, in one process: restrictions read from the store, slow-mode slots
 * in memory (one process is every instance there is). The gateway brings a shared one (Redis).
 */
export function localModerationGate(store: ChatStore, clock: Clock): ModerationGate {
  /** conversationId|userId -> the send holding the slot, and when it frees. */
  const slots = new Map<string, { key: string; until: number }>();
  const MAX_SLOTS = 100_000;
  return {
    restriction: (userId) => store.moderation.restriction(userId),
    restrictionChanged: () => Promise.resolve(),
    async takeSlot(conversationId, userId, sendKey) {
      const seconds = await store.moderation.slowMode(conversationId);
      if (seconds <= 0) return 0;
      const now = clock.now().getTime();
      const id = `${conversationId}|${userId}`;
      const held = slots.get(id);
      if (held && held.until > now && held.key !== sendKey) return held.until - now;
      if (!held || held.until <= now) {
        slots.delete(id);
        slots.set(id, { key: sendKey, until: now + seconds * 1000 });
        // Bounded: the oldest slot goes first (its wait is the nearest to its end anyway).
        if (slots.size > MAX_SLOTS) slots.delete(slots.keys().next().value!);
      }
      return 0;
    },
    async releaseSlot(conversationId, userId, sendKey) {
      const id = `${conversationId}|${userId}`;
      if (slots.get(id)?.key === sendKey) slots.delete(id);
    },
    slowModeChanged: () => Promise.resolve(),
  };
}

const localGates = new WeakMap<ChatStore, ModerationGate>();

export function gateOf(deps: ChatDeps): ModerationGate {
  if (deps.moderation) return deps.moderation;
  let gate = localGates.get(deps.store);
  if (!gate) localGates.set(deps.store, (gate = localModerationGate(deps.store, deps.clock)));
  return gate;
}

/**
 * What a person may do now: refused with BANNED while banned; `shadow` while shadow-banned
 * (what they send is theirs alone). Every path that reaches others asks this first: sends,
 * edits, uploads, typing, new conversations.
 */
export async function standing(deps: ChatDeps, userId: string): Promise<{ shadow: boolean }> {
  const restriction = await gateOf(deps).restriction(userId);
  if (restriction?.kind === 'banned') throw new BannedError(restriction.reason);
  return { shadow: restriction?.kind === 'shadow-banned' };
}

/**
 * Slow mode: takes the member's slot, or refuses with the wait. A retry of the same send
 * (its clientMessageId) holds the slot already and passes.
 */
export async function takeSlowModeSlot(
  deps: ChatDeps,
  conversationId: string,
  userId: string,
  sendKey: string,
): Promise<void> {
  const wait = await gateOf(deps).takeSlot(conversationId, userId, sendKey);
  if (wait > 0) throw new SlowModeError(wait);
}

/**
 * A shadow-banned sender's message took a seq the others will never see: the members who had
 * read everything they can see read past it too, so the next message counts as one unread, not
 * two. (A member behind on reading counts it until they read past it: documented.) Bounded by
 * the conversation's size.
 */
export async function coverShadowSeq(deps: ChatDeps, message: Message): Promise<void> {
  const conversation = await deps.store.conversations.get(message.conversationId);
  if (!conversation) return;
  const visible = lastMessageSeq(conversation);
  await Promise.all(
    conversation.members
      .filter((m) => m.userId !== message.senderId && m.lastReadSeq >= visible)
      .map((m) => deps.store.conversations.advanceRead(conversation.id, m.userId, message.seq)),
  );
}

async function audit(
  deps: ChatDeps,
  moderator: Moderator,
  action: AuditAction,
  fields: Omit<NewAuditEntry, 'actor' | 'action' | 'at'>,
) {
  return deps.store.moderation.audit({
    actor: moderator.actor,
    action,
    at: deps.clock.now(),
    ...fields,
  });
}

function toRestrictionDto(userId: string, r: UserRestriction | null): RestrictionDto {
  return r
    ? { userId, kind: r.kind, reason: r.reason, by: r.by, at: r.at.toISOString() }
    : { userId, kind: null };
}

/**
 * Bans or shadow-bans a person (replacing what they had), audited. The store first (the
 * truth), then every instance's gate; the transport closes a banned person's sockets after.
 */
export async function restrictUser(
  deps: ChatDeps,
  moderator: Moderator,
  userId: string,
  kind: RestrictionKind,
  reason: string,
): Promise<RestrictionDto> {
  const restriction: UserRestriction = {
    userId,
    kind,
    reason,
    by: moderator.actor,
    at: deps.clock.now(),
  };
  await deps.store.moderation.restrict(userId, restriction);
  await gateOf(deps).restrictionChanged(userId, restriction);
  await audit(deps, moderator, kind === 'banned' ? 'user.banned' : 'user.shadow-banned', {
    subjectUserId: userId,
    reason,
  });
  return toRestrictionDto(userId, restriction);
}

/** Lifts a ban or a shadow-ban (only that kind); lifting what is not there changes nothing. */
export async function liftRestriction(
  deps: ChatDeps,
  moderator: Moderator,
  userId: string,
  kind: RestrictionKind,
  reason?: string,
): Promise<RestrictionDto> {
  const current = await deps.store.moderation.restriction(userId);
  if (current?.kind !== kind) return toRestrictionDto(userId, current);
  await deps.store.moderation.restrict(userId, null);
  await gateOf(deps).restrictionChanged(userId, null);
  await audit(deps, moderator, kind === 'banned' ? 'user.unbanned' : 'user.shadow-unbanned', {
    subjectUserId: userId,
    ...(reason !== undefined && { reason }),
  });
  return toRestrictionDto(userId, null);
}

export async function userRestriction(deps: ChatDeps, userId: string): Promise<RestrictionDto> {
  return toRestrictionDto(userId, await deps.store.moderation.restriction(userId));
}

/** Slow mode on a conversation (0: off), audited; every member's devices hear it live. */
export async function setSlowMode(
  deps: ChatDeps,
  moderator: Moderator,
  conversationId: string,
  seconds: number,
  reason?: string,
): Promise<SlowModeDto> {
  const conversation = await deps.store.conversations.get(conversationId);
  if (!conversation) throw new NotFoundError('no such conversation');
  const bounded = Math.min(Math.max(0, seconds), MODERATION_LIMITS.maxSlowModeSeconds);
  await deps.store.moderation.setSlowMode(conversationId, bounded);
  await gateOf(deps).slowModeChanged(conversationId, bounded);
  await audit(deps, moderator, 'conversation.slow-mode', {
    conversationId,
    slowModeSeconds: bounded,
    ...(reason !== undefined && { reason }),
  });
  const event = { conversationId, slowModeSeconds: bounded };
  deps.fanout.toUsers(memberIds(conversation), 'conversation:slow-mode', event);
  return event;
}

/** The moderation list: reports, policy flags and hook flags, filtered, newest first, paged. */
export async function listModeration(
  deps: ChatDeps,
  query: ModerationListQuery,
): Promise<ModerationList> {
  const page = await deps.store.moderation.listFlags({
    ...(query.source && { source: query.source }),
    ...(query.state && { state: query.state }),
    ...(query.userId && { userId: query.userId }),
    ...(query.conversationId && { conversationId: query.conversationId }),
    limit: query.limit,
    ...(query.cursor && { cursor: query.cursor }),
  });
  return {
    flags: page.flags.map(toModerationFlagDto),
    ...(page.nextCursor && { nextCursor: page.nextCursor }),
  };
}

export async function auditLog(deps: ChatDeps, query: AuditLogQuery): Promise<AuditLog> {
  const page = await deps.store.moderation.auditLog({
    ...(query.userId && { subjectUserId: query.userId }),
    ...(query.actor && { actor: query.actor }),
    limit: query.limit,
    ...(query.cursor && { cursor: query.cursor }),
  });
  return {
    entries: page.entries.map(toAuditEntryDto),
    ...(page.nextCursor && { nextCursor: page.nextCursor }),
  };
}

/** Records a moderator's action the other use cases take (report resolutions, deletions). */
export const recordModeration = audit;
