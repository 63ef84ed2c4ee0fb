import { Inject, Injectable, Optional } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import { withDeadline, type UnannouncedSends } from '@jobsphere/chat-domain';
import { REDIS_LOSS } from '../realtime/redis-loss.policy.js';

const key = (send: string) => `chat:unannounced:${send}`;

/** How long a mark waits for its retry: the SDK retries within seconds; a day covers a device
 * that went offline mid-send and comes back the next morning. */
const MARK_TTL_MS = 24 * 60 * 60 * 1000;
/** Marks one instance keeps in memory on the embedded default (each is a short string). */
const LOCAL_MAX = 100_000;

/**
 * The domain's `UnannouncedSends`: in Redis (one SET with expiry, one GETDEL), so a retry that
 * reaches another instance still finds the mark; in this process's memory on the embedded
 * default. Only sends answered UNAVAILABLE are marked, and only duplicates are looked up, so an
 * ordinary send costs no Redis call here.
 */
@Injectable()
export class UnannouncedSendMarks implements UnannouncedSends {
  private readonly local = new Map<string, number>();

  constructor(@Optional() @Inject(REDIS_CLIENT) private readonly redis?: RedisClient) {}

  async mark(send: string): Promise<void> {
    if (!this.redis) {
      this.local.delete(send);
      this.local.set(send, Date.now() + MARK_TTL_MS);
      if (this.local.size > LOCAL_MAX) this.local.delete(this.local.keys().next().value!);
      return;
    }
    await withDeadline(
      this.redis.set(key(send), '1', 'PX', MARK_TTL_MS),
      REDIS_LOSS.unannouncedDeadlineMs,
      'unannounced send mark',
    );
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
}
