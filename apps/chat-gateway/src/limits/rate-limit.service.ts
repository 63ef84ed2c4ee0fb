import { Inject, Injectable, Optional } from '@nestjs/common';
import { RateLimitedError } from '@jobsphere/chat-domain';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';

export type LimitScope = keyof AppConfig['rateLimits'];

/**
 * Per-user budgets. With Redis they hold across every instance; while Redis is down an
 * in-process limiter of the same size stands in, so chat keeps working (fail-open per instance).
 */
@Injectable()
export class RateLimitService {
  private readonly limiters: Record<LimitScope, RateLimiterAbstract>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
    @Optional() @Inject(REDIS_CLIENT) redis?: RedisClient,
  ) {
    const build = (scope: LimitScope): RateLimiterAbstract => {
      const { points, durationS } = config.rateLimits[scope];
      const memory = new RateLimiterMemory({
        points,
        duration: durationS,
        keyPrefix: `rl:${scope}`,
      });
      if (!redis) return memory;
      return new RateLimiterRedis({
        storeClient: redis,
        points,
        duration: durationS,
        keyPrefix: `chat:rl:${scope}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      });
    };
    this.limiters = { send: build('send'), typing: build('typing'), rest: build('rest') };
  }

  /** Takes one point of the user's budget, or throws RateLimitedError with the wait. */
  async consume(scope: LimitScope, userId: string): Promise<void> {
    try {
      await this.limiters[scope].consume(userId);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        this.metrics.rateLimited.inc({ scope });
        throw new RateLimitedError(rejection.msBeforeNext);
      }
      throw rejection;
    }
  }
}
