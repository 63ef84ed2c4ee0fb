import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import {
  localModerationGate,
  withDeadline,
  type ChatStore,
  type Clock,
  type ModerationGate,
  type UserRestriction,
} from '@jobsphere/chat-domain';
import { CLOCK } from '../chat/chat.tokens.js';
import { describeError } from '../common/log-text.js';
import { CHAT_STORE } from '../persistence/persistence.tokens.js';
import { REDIS_LOSS } from '../realtime/redis-loss.policy.js';

// One hash tag per conversation: the setting and its members' slots share a cluster slot.
const restrictionKey = (userId: string) => `chat:restriction:${userId}`;
const settingKey = (conversationId: string) => `chat:slow:{${conversationId}}`;
const slotKey = (conversationId: string, userId: string) =>
  `chat:slow:{${conversationId}}:${userId}`;

/**
 * How long what the store says is cached in Redis. Changes write through at once (every
 * instance reads the same key); the TTL only bounds what a Redis that lost its data forgets.
 */
const CACHE_TTL_MS = 60_000;
const NONE = 'none';

/**
 * The slot of one member: -1 when the setting is not cached (load it, then ask again), 0 when
 * the send may go (slow mode off, the slot taken now, or held by this same send), else the ms
 * until it frees. One script: two instances taking the same slot at once cannot both win.
 */
const TAKE_SLOT = `
local s = redis.call('GET', KEYS[1])
if not s then return -1 end
s = tonumber(s)
if s <= 0 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', s * 1000) then return 0 end
if redis.call('GET', KEYS[2]) == ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[2])
if left < 1 then return 1 end
return left`;

const RELEASE_SLOT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * The domain's `ModerationGate` shared by every instance: restrictions and slow-mode settings
 * cached in Redis from the store (the truth), written through when a moderator changes them,
 * and slow mode's per-member slots taken atomically by one script. Without Redis (the embedded
 * default) the domain's in-process gate. What it does when Redis does not answer: a restriction
 * is read from the store instead (bans hold); slow mode lets the send through (logged): it
 * paces a conversation, it does not guard anyone.
 */
@Injectable()
export class ModerationGateService implements ModerationGate {
  private readonly logger = new Logger('Moderation');
  private readonly local: ModerationGate;

  constructor(
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    @Inject(CLOCK) clock: Clock,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: RedisClient,
  ) {
    this.local = localModerationGate(store, clock);
  }

  async restriction(userId: string): Promise<UserRestriction | null> {
    if (!this.redis) return this.local.restriction(userId);
    try {
      const cached = await withDeadline(
        this.redis.get(restrictionKey(userId)),
        REDIS_LOSS.moderationDeadlineMs,
        'restriction lookup',
      );
      if (cached !== null) return cached === NONE ? null : parseRestriction(cached);
    } catch (error) {
      this.logger.warn(`restriction lookup failed, asking the store: ${describeError(error)}`);
      return this.store.moderation.restriction(userId);
    }
    const stored = await this.store.moderation.restriction(userId);
    await this.cache(restrictionKey(userId), stored ? JSON.stringify(stored) : NONE);
    return stored;
  }

  async restrictionChanged(userId: string, restriction: UserRestriction | null): Promise<void> {
    if (!this.redis) return;
    // Written through on every instance's path; a failure here leaves the TTL to end it.
    await this.cache(restrictionKey(userId), restriction ? JSON.stringify(restriction) : NONE);
  }

  async takeSlot(conversationId: string, userId: string, sendKey: string): Promise<number> {
    if (!this.redis) return this.local.takeSlot(conversationId, userId, sendKey);
    try {
      const keys = [settingKey(conversationId), slotKey(conversationId, userId)];
      let wait = await this.eval(TAKE_SLOT, keys, [sendKey]);
      if (wait === -1) {
        await this.cache(keys[0]!, String(await this.store.moderation.slowMode(conversationId)));
        wait = await this.eval(TAKE_SLOT, keys, [sendKey]);
      }
      return Math.max(0, wait);
    } catch (error) {
      this.logger.warn(`slow mode not applied, Redis did not answer: ${describeError(error)}`);
      return 0;
    }
  }

  async releaseSlot(conversationId: string, userId: string, sendKey: string): Promise<void> {
    if (!this.redis) return this.local.releaseSlot(conversationId, userId, sendKey);
    await this.eval(RELEASE_SLOT, [slotKey(conversationId, userId)], [sendKey]);
  }

  async slowModeChanged(conversationId: string, seconds: number): Promise<void> {
    if (!this.redis) return;
    await this.cache(settingKey(conversationId), String(seconds));
  }

  private async cache(key: string, value: string): Promise<void> {
    await withDeadline(
      this.redis!.set(key, value, 'PX', CACHE_TTL_MS),
      REDIS_LOSS.moderationDeadlineMs,
      'moderation cache',
    ).catch((error: unknown) =>
      this.logger.warn(`moderation cache not written: ${describeError(error)}`),
    );
  }

  private async eval(script: string, keys: string[], args: string[]): Promise<number> {
    const answer = await withDeadline(
      this.redis!.eval(script, keys.length, ...keys, ...args),
      REDIS_LOSS.moderationDeadlineMs,
      'slow mode',
    );
    return Number(answer);
  }
}

function parseRestriction(text: string): UserRestriction {
  const raw = JSON.parse(text) as Omit<UserRestriction, 'at'> & { at: string };
  return { ...raw, at: new Date(raw.at) };
}
