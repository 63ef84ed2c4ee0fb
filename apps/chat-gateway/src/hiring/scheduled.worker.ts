import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type Chat } from '@jobsphere/chat-domain';
import { randomBytes } from 'node:crypto';
import { CHAT } from '../chat/chat.tokens.js';
import { describeError } from '../common/log-text.js';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

/**
 * Works the scheduled sends on every instance (issue 27): claims the one due first under a
 * lease and sends it through the ordinary send; polls when none is due. An instance killed
 * mid-send loses nothing: its lease ends, another instance claims the entry, and the send (same
 * clientMessageId) finds the message stored instead of storing it again.
 */
@Injectable()
export class ScheduledSendWorker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ScheduledSends');
  private readonly instance = randomBytes(6).toString('hex');
  private readonly settings: AppConfig['platform']['scheduled'];
  private leases = 0;
  private running = false;
  private worker: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CHAT) private readonly chat: Chat,
  ) {
    this.settings = config.platform.scheduled;
  }

  onModuleInit(): void {
    this.running = true;
    this.worker = this.work();
  }

  /** Stops claiming; a send in flight finishes (or its lease ends and another instance sends it). */
  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.worker;
  }

  private async work(): Promise<void> {
    while (this.running) {
      let found = false;
      try {
        found = await this.chat.runDueScheduled(
          `${this.instance}:${++this.leases}`,
          this.settings.leaseMs,
        );
      } catch (error) {
        // The entry stays leased and is claimed again when the lease ends.
        this.logger.warn(`scheduled send failed: ${describeError(error)}`);
      }
      if (!found) await this.sleep(this.settings.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.wake = wake;
      function done() {
        resolve();
      }
    });
  }
}
