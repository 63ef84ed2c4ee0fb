import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import { withDeadline, type UnannouncedSends } from '@jobsphere/chat-domain';
import { describeError } from '../common/log-text.js';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { REDIS_LOSS } from '../realtime/redis-loss.policy.js';

const key = (send: string) => `chat:unannounced:${send}`;

/**
 * How long a mark waits for its retry: the SDK retries within seconds; a day covers a device
 * that went offline mid-send and comes back the next morning.
 */
const MARK_TTL_MS = 24 * 60 * 60 * 1000;
/** Marks one instance keeps in memory on the embedded default (each is a short string). */
const LOCAL_MAX = 100_000;
/** Re-checks one instance holds at once; past this, the mark alone waits for the retry. */
const RECHECKS_MAX = 1_000;

/**
 * The domain's `UnannouncedSends`: in Redis (one SET with expiry, one GETDEL), so a retry that
 * reaches another instance still finds the mark; in this process's memory on the embedded
 * default. Only sends answered UNAVAILABLE are marked, and only duplicates are looked up, so an
 * ordinary send costs nothing here. A mark's re-check runs once, two store deadlines later.
 */
@Injectable()
export class UnannouncedSendMarks implements UnannouncedSends, OnApplicationShutdown {
  private readonly logger = new Logger('UnannouncedSends');
  private readonly local = new Map<string, number>();
  private readonly rechecks = new Set<NodeJS.Timeout>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: RedisClient,
  ) {}

  async mark(send: string, recheck?: () => Promise<void>): Promise<void> {
    // Scheduled first: a mark whose SET answers after its deadline still gets its re-check.
    if (recheck && this.rechecks.size < RECHECKS_MAX) {
      const timer = setTimeout(() => {
        this.rechecks.delete(timer);
        recheck().catch((error: unknown) =>
          this.logger.warn(`re-check of an unannounced send failed: ${describeError(error)}`),
        );
      }, 2 * this.config.store.timeoutMs);
      timer.unref();
      this.rechecks.add(timer);
    }
    if (this.redis) {
      await withDeadline(
        this.redis.set(key(send), '1', 'PX', MARK_TTL_MS),
        REDIS_LOSS.unannouncedDeadlineMs,
        'unannounced send mark',
      );
    } else {
      this.local.delete(send);
      this.local.set(send, Date.now() + MARK_TTL_MS);
      if (this.local.size > LOCAL_MAX) this.local.delete(this.local.keys().next().value!);
    }
  }

  async take(send: string): Promise<boolean> {
    if (!this.redis) {
      const until = this.local.get(send);
      this.local.delete(send);
      return until !== undefined && until > Date.now();
    }
    const value = await withDeadline(
      this.redis.getdel(key(send)),
      REDIS_LOSS.unannouncedDeadlineMs,
      'unannounced send lookup',
    );
    return value !== null;
  }

  /** Pending re-checks go with the instance; their marks stay for the retries. */
  onApplicationShutdown(): void {
    for (const timer of this.rechecks) clearTimeout(timer);
    this.rechecks.clear();
  }
}
