import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import { withDeadline } from '@jobsphere/chat-domain';
import { describeError } from '../common/log-text.js';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { REDIS_LOSS } from '../realtime/redis-loss.policy.js';

const key = (userId: string) => `chat:revoked:${userId}`;

/**
 * The deny-list of people whose earlier tokens no longer count (an erasure): userId -> when.
 * A token of theirs issued at or before that time is refused at the handshake, on `auth:refresh`
 * and on every REST call, on every instance: the entry lives in Redis (shared) and in this
 * instance's memory (the embedded default, and what this instance still knows while Redis does
 * not answer). It expires after JWT_MAX_TTL_MS, when every such token has expired by itself.
 */
@Injectable()
export class TokenRevocations {
  private readonly logger = new Logger('Revocations');
  private readonly local = new Map<string, { at: number; until: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: RedisClient,
  ) {}

  /** From now on the user's tokens issued until now are refused everywhere. */
  async revokeUser(userId: string, at = Date.now()): Promise<void> {
    const ttlMs = this.config.jwt.maxTtlMs;
    this.remember(userId, at, at + ttlMs);
    // Shared before the erasure goes on: a device reconnecting to another instance is refused.
    await this.redis?.set(key(userId), String(at), 'PX', ttlMs);
  }

  /** Whether a token of `userId` issued at `issuedAtMs` (undefined: unknown) was revoked. */
  async revoked(userId: string, issuedAtMs: number | undefined): Promise<boolean> {
    const at = await this.revokedAt(userId);
    return at !== undefined && (issuedAtMs === undefined || issuedAtMs <= at);
  }

  private async revokedAt(userId: string): Promise<number | undefined> {
    const now = Date.now();
    const known = this.local.get(userId);
    if (known && known.until <= now) this.local.delete(userId);
    const mine = known && known.until > now ? known.at : undefined;
    if (!this.redis) return mine;
    try {
      const value = await withDeadline(
        this.redis.get(key(userId)),
        REDIS_LOSS.revocationLookupDeadlineMs,
        'token deny-list',
      );
      if (value === null) return mine;
      const at = Number(value);
      this.remember(userId, at, at + this.config.jwt.maxTtlMs);
      return Math.max(at, mine ?? 0);
    } catch (error) {
      // See redis-loss.policy.ts: what this instance knows still holds.
      this.logger.warn(`deny-list lookup failed: ${describeError(error)}`);
      return mine;
    }
  }

  private remember(userId: string, at: number, until: number): void {
    const known = this.local.get(userId);
    if (!known || known.at < at) this.local.set(userId, { at, until });
    // Bounded like every cache here: the oldest entry goes first.
    if (this.local.size > LOCAL_MAX) this.local.delete(this.local.keys().next().value!);
  }
}

/** Revocations one instance keeps in memory (each is tiny; erasures are rare). */
const LOCAL_MAX = 100_000;
