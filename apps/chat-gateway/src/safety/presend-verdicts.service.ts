import { Inject, Injectable, Optional } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import { preSendVerdictSchema, withDeadline, type PreSendVerdict } from '@jobsphere/chat-domain';
import { REDIS_LOSS } from '../realtime/redis-loss.policy.js';

const key = (draft: string) => `chat:presend:${draft}`;
/** Verdicts one instance keeps in memory on the embedded default. */
const LOCAL_MAX = 100_000;

/**
 * The platform's verdicts, kept for retries: a retry of the same send (same sender,
 * conversation and clientMessageId) or of the same edit (message and text) gets the verdict of
 * the first attempt without a second call, on whichever instance it lands (Redis, one SET with
 * expiry, one GET); in this process's memory on the embedded default. Looked up only when a
 * hook is configured. A verdict that cannot be read or kept costs a call, never the send.
 */
@Injectable()
export class PreSendVerdicts {
  private readonly local = new Map<string, { verdict: PreSendVerdict; until: number }>();

  constructor(@Optional() @Inject(REDIS_CLIENT) private readonly redis?: RedisClient) {}

  async get(draft: string): Promise<PreSendVerdict | undefined> {
    if (!this.redis) {
      const kept = this.local.get(draft);
      return kept && kept.until > Date.now() ? kept.verdict : undefined;
    }
    const raw = await withDeadline(
      this.redis.get(key(draft)),
      REDIS_LOSS.unannouncedDeadlineMs,
      'pre-send verdict lookup',
    );
    if (raw === null) return undefined;
    const parsed = preSendVerdictSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  async put(draft: string, verdict: PreSendVerdict, ttlMs: number): Promise<void> {
    if (!this.redis) {
      this.local.delete(draft);
      this.local.set(draft, { verdict, until: Date.now() + ttlMs });
      if (this.local.size > LOCAL_MAX) this.local.delete(this.local.keys().next().value!);
      return;
    }
    await withDeadline(
      this.redis.set(key(draft), JSON.stringify(verdict), 'PX', ttlMs),
      REDIS_LOSS.unannouncedDeadlineMs,
      'pre-send verdict',
    );
  }
}
