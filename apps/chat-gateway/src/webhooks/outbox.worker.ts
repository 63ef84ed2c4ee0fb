import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import {
  webhookEntries,
  type ChatStore,
  type Clock,
  type DeadLetterPolicy,
  type OfflineCheck,
  type OutboxEntry,
  type Platform,
} from '@jobsphere/chat-domain';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { CLOCK } from '../chat/chat.tokens.js';
import { describeError } from '../common/log-text.js';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { type WebhookConfig } from '../config/platform-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CHAT_STORE } from '../persistence/persistence.tokens.js';
import { PresenceService } from '../presence/presence.service.js';
import { PLATFORM } from '../service/service.tokens.js';

/** Answers a receiver may send before we stop reading them (a log line needs no more). */
const MAX_ERROR_TEXT = 200;

/** Retry n waits a random time up to min(max, base * 2^(n-1)): capped backoff with full jitter. */
export function backoffMs(
  attempts: number,
  config: Pick<WebhookConfig, 'backoffBaseMs' | 'backoffMaxMs'>,
  random = Math.random,
): number {
  const ceiling = Math.min(
    config.backoffMaxMs,
    config.backoffBaseMs * 2 ** Math.min(30, attempts - 1),
  );
  return Math.floor(random() * ceiling);
}

/**
 * Works the outbox on every instance: claims due entries under a lease (an instance that dies
 * mid-delivery loses nothing: the lease ends and another claims the entry again), delivers
 * webhooks signed per Standard Webhooks with a deadline, retries with capped backoff and
 * jitter, dead-letters after WEBHOOK_MAX_ATTEMPTS; and settles offline checks, turning the
 * ones that hold into notification.offline events. At least once: receivers dedupe by
 * `webhook-id` (the event id).
 */
@Injectable()
export class OutboxWorker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly config: WebhookConfig | undefined;
  private readonly offline: AppConfig['platform']['offline'];
  private readonly signer: Webhook | undefined;
  private readonly instance = randomBytes(6).toString('hex');
  private leases = 0;
  private running = false;
  private readonly workers: Promise<void>[] = [];
  private wake: (() => void)[] = [];

  constructor(
    @Inject(APP_CONFIG) appConfig: AppConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly presence: PresenceService,
    private readonly metrics: MetricsService,
  ) {
    this.config = appConfig.platform.webhooks;
    this.offline = appConfig.platform.offline;
    this.signer = this.config ? new Webhook(this.config.secret) : undefined;
  }

  onModuleInit(): void {
    if (!this.config) return;
    this.running = true;
    for (let i = 0; i < this.config.concurrency; i++) this.workers.push(this.work());
    this.logger.log(
      `delivering to ${this.config.endpoints.length} endpoint(s), ${this.config.concurrency} at a time, leases ${this.instance}:*`,
    );
  }

  /** Stops claiming; deliveries in flight finish within their deadline (or their lease ends). */
  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    for (const wake of this.wake.splice(0)) wake();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    while (this.running) {
      let entry: OutboxEntry | null = null;
      try {
        entry = await this.store.outbox.claim(
          this.clock.now(),
          this.config!.leaseMs,
          `${this.instance}:${++this.leases}`,
        );
      } catch (error) {
        this.logger.warn(`outbox claim failed: ${describeError(error)}`);
      }
      if (entry) await this.process(entry);
      else await this.sleep(this.config!.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = this.wake;
      function done() {
        clearTimeout(timer);
        const i = wake.indexOf(done);
        if (i >= 0) wake.splice(i, 1);
        resolve();
      }
      wake.push(done);
    });
  }

  private async process(entry: OutboxEntry): Promise<void> {
    try {
      if (entry.kind === 'offline-check') await this.check(entry);
      else await this.deliver(entry);
    } catch (error) {
      await this.failed(entry, describeError(error));
    }
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const config = this.config!;
    // Only to endpoints configured now: an entry for one that was removed is given up.
    if (!entry.endpoint || !config.endpoints.includes(entry.endpoint)) {
      await this.store.outbox.deadLetter(
        entry.id,
        entry.lease!,
        'endpoint no longer configured',
        this.deadLetterPolicy(),
      );
      return;
    }
    const event = JSON.parse(entry.payload) as { id: string; type: string };
    const at = this.clock.now();
    const response = await fetch(entry.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'jobsphere-chat-webhooks',
        'webhook-id': event.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': this.signer!.sign(event.id, at, entry.payload),
      },
      body: entry.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    // The body is read (bounded by the same deadline) so the connection can be reused.
    const text = await response.text().catch(() => '');
    if (response.status >= 200 && response.status < 300) {
      await this.store.outbox.complete(entry.id);
      this.metrics.webhooks.inc({ outcome: 'delivered', type: event.type });
      return;
    }
    throw new Error(`HTTP ${response.status} ${text.slice(0, MAX_ERROR_TEXT)}`.trim());
  }

  private async check(entry: OutboxEntry): Promise<void> {
    const check = JSON.parse(entry.payload) as OfflineCheck;
    const event = await this.platform.offlineNotification(check, (userId) =>
      this.presence.isOnline(userId),
    );
    if (!event) {
      // Nothing to say now; a later message in the same window may schedule it again.
      await this.store.outbox.complete(entry.id);
      return;
    }
    const now = this.clock.now();
    const sender = (event.data['sender'] as { userId: string }).userId;
    await this.store.outbox.enqueue(webhookEntries(event, this.config!.endpoints, [sender], now));
    // Kept until its window is over: the same window cannot notify twice.
    const windowMs = this.offline?.windowMs ?? 0;
    await this.store.outbox.settle(entry.id, new Date((check.window + 1) * windowMs + windowMs));
    this.metrics.webhooks.inc({ outcome: 'notified', type: 'notification.offline' });
  }

  /** Dead letters expire and are capped: what the platform never took is not kept forever. */
  private deadLetterPolicy(): DeadLetterPolicy {
    const config = this.config!;
    return {
      expireAt: new Date(this.clock.now().getTime() + config.deadLetterTtlMs),
      keep: config.maxDeadLetters,
    };
  }

  private async failed(entry: OutboxEntry, error: string): Promise<void> {
    const config = this.config!;
    try {
      if (entry.attempts >= config.maxAttempts) {
        await this.store.outbox.deadLetter(entry.id, entry.lease!, error, this.deadLetterPolicy());
        this.metrics.webhooks.inc({ outcome: 'dead', type: entry.kind });
        this.logger.warn(`${entry.id}: dead-lettered after ${entry.attempts} attempts: ${error}`);
        return;
      }
      const dueAt = new Date(this.clock.now().getTime() + backoffMs(entry.attempts, config));
      await this.store.outbox.retry(entry.id, entry.lease!, dueAt, error);
      this.metrics.webhooks.inc({ outcome: 'retry', type: entry.kind });
    } catch (storeError) {
      // The lease ends by itself: the entry is claimed again then.
      this.logger.warn(`${entry.id}: could not reschedule: ${describeError(storeError)}`);
    }
  }
}
