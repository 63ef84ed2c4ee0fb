import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { RateLimitedError } from '@jobsphere/chat-domain';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { type AppConfig, type BudgetScope } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** A key's spending not told to Redis yet. */
interface Untold {
  scope: BudgetScope;
  key: string;
  points: number;
}

/** Keys told in one batch at most; the rest go in the next. */
const TELL_BATCH_MAX = 1_000;
/** Keys waiting to be told at most (while Redis stalls); past it, spending is held per instance. */
const UNTOLD_MAX = 20_000;

interface Limiter {
  /** Answers from this instance's memory: no round trip on the request's path. */
  local: RateLimiterMemory;
  /** The shared count, told in the background; blocks the key locally once it is spent. */
  shared?: RateLimiterRedis;
}

/**
 * What each user (or client IP) may spend, shared by every instance without a Redis round trip
 * on the request path: each instance answers from its own memory, tells Redis in the background,
 * catches its count up with what Redis says the others spent, and blocks the key locally once
 * the shared budget is spent. So one user can never exceed the budget on one instance, and
 * across instances only by what was in flight before an instance heard of the others' spending
 * (at most one action per instance when a client acts one at a time).
 * One batch is told to Redis at a time, its calls issued in one tick (one write, with the
 * client's auto-pipelining); what is spent meanwhile is added up per key and told in the next
 * batch when the answers come. A busy instance costs Redis one write per round trip, a burst of
 * one user one call, and a client acting one at a time is told about at once (as before).
 * While Redis is unreachable or stalls, each instance holds the budget on its own (fail open per
 * instance: chat keeps working).
 */
@Injectable()
export class BudgetService {
  private readonly logger = new Logger('Budgets');
  private readonly limiters: Record<BudgetScope, Limiter>;
  private lastSharedError: string | undefined;
  /** Spending not told yet, by `scope\0key`. */
  private readonly untold = new Map<string, Untold>();
  private telling = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
    @Optional() @Inject(REDIS_CLIENT) redis?: RedisClient,
  ) {
    const build = (scope: BudgetScope): Limiter => {
      const { points, durationS } = config.budgets[scope];
      const local = new RateLimiterMemory({ points, duration: durationS, keyPrefix: scope });
      if (!redis) return { local };
      const shared = new RateLimiterRedis({
        storeClient: redis,
        points,
        duration: durationS,
        keyPrefix: `chat:rl:${scope}`,
        rejectIfRedisNotReady: true,
      });
      return { local, shared };
    };
    this.limiters = Object.fromEntries(
      (Object.keys(config.budgets) as BudgetScope[]).map((scope) => [scope, build(scope)]),
    ) as Record<BudgetScope, Limiter>;
  }

  /** Takes `points` of the key's budget, or throws RateLimitedError with the wait. */
  async consume(scope: BudgetScope, key: string, points = 1): Promise<void> {
    const { local, shared } = this.limiters[scope];
    try {
      await local.consume(key, points);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      this.metrics.rateLimited.inc({ scope });
      throw new RateLimitedError(Math.max(1, rejection.msBeforeNext));
    }
    if (shared) this.tell(scope, key, points);
  }

  private tell(scope: BudgetScope, key: string, points: number): void {
    const id = `${scope}\u0000${key}`;
    const waiting = this.untold.get(id);
    if (waiting) waiting.points += points;
    else if (this.untold.size < UNTOLD_MAX) this.untold.set(id, { scope, key, points });
    if (!this.telling) this.tellBatch();
  }

  /** One batch in flight; when every answer is in, the next. */
  private tellBatch(): void {
    const batch: Untold[] = [];
    for (const [id, entry] of this.untold) {
      if (batch.length >= TELL_BATCH_MAX) break;
      this.untold.delete(id);
      if (entry.points > 0) batch.push(entry);
    }
    this.telling = batch.length > 0;
    if (!this.telling) return;
    // Every call is issued here, in this tick: they leave Redis's client as one write.
    void Promise.allSettled(batch.map((entry) => this.share(entry))).then(() => this.tellBatch());
  }

  /** Tells Redis; settles within REDIS_COMMAND_TIMEOUT_MS (every command has that deadline). */
  private share({ scope, key, points }: Untold): Promise<void> {
    const { local, shared } = this.limiters[scope];
    return shared!.consume(key, points).then(
      (res) => this.catchUp(local, key, res.consumedPoints),
      (rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) {
          // Spent across instances: refuse here too until the shared window ends.
          void local.block(key, Math.max(rejection.msBeforeNext, 1) / 1000);
          return;
        }
        const message = rejection instanceof Error ? rejection.message : String(rejection);
        if (message !== this.lastSharedError) {
          this.logger.warn(`shared budgets unavailable, holding them per instance: ${message}`);
        }
        this.lastSharedError = message;
      },
    );
  }

  /** Brings the local count up to what the other instances spent (it never goes down here). */
  private async catchUp(local: RateLimiterMemory, key: string, shared: number): Promise<void> {
    const here = (await local.get(key))?.consumedPoints ?? 0;
    if (shared > here) await local.penalty(key, shared - here);
  }

  /** Gives points back (an action that turned out to cost nothing, e.g. reopening a conversation). */
  async refund(scope: BudgetScope, key: string, points = 1): Promise<void> {
    const { local, shared } = this.limiters[scope];
    await local.reward(key, points);
    if (!shared) return;
    // Spent and not told yet: simply not told.
    const waiting = this.untold.get(`${scope}\u0000${key}`);
    const untold = Math.min(waiting?.points ?? 0, points);
    if (waiting) waiting.points -= untold;
    if (points > untold) shared.reward(key, points - untold).catch(() => undefined);
  }
}
