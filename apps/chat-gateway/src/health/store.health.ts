import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { withDeadline, type ChatStore } from '@jobsphere/chat-domain';
import { describeError } from '../common/log-text.js';
import { CHAT_STORE } from '../persistence/persistence.tokens.js';

/** Pings the store with a deadline; reports down with the reason, never throws or hangs. */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
  ) {}

  async isHealthy(key = 'store', timeoutMs = 1_000) {
    const indicator = this.health.check(key);
    try {
      await withDeadline(this.store.ping(), timeoutMs, 'store ping');
      return indicator.up({ kind: this.store.kind });
    } catch (error) {
      return indicator.down({ kind: this.store.kind, message: describeError(error) });
    }
  }
}
