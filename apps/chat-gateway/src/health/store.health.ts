import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type ChatStore } from '@jobsphere/chat-domain';
import { CHAT_STORE } from '../persistence/persistence.tokens.js';

/** Pings the store with a timeout; reports down with the reason, never throws or hangs. */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
  ) {}

  async isHealthy(key = 'store', timeoutMs = 1_000) {
    const indicator = this.health.check(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return indicator.up({ kind: this.store.kind });
    } catch (error) {
      return indicator.down({
        kind: this.store.kind,
        message: error instanceof Error ? error.message : String(error),
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
