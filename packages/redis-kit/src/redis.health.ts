import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { RedisClient } from './redis.client.js';
import { REDIS_CLIENT } from './redis.constants.js';

/** Terminus indicator: PING with a timeout. Reports `down` instead of throwing, and never hangs. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
  ) {}

  async isHealthy(key = 'redis', timeoutMs = 1_000): Promise<HealthIndicatorResult> {
    const indicator = this.healthIndicatorService.check(key);
    const status = this.client.status;
    // Not connected: a PING would only wait in the offline queue.
    if (status !== 'ready') return indicator.down({ message: `not connected (${status})` });

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no PONG within ${timeoutMs} ms`), timeoutMs);
    });
    const ping = this.client.ping().then(
      (reply) => (reply === 'PONG' ? undefined : `unexpected PING reply`),
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    try {
      const problem = await Promise.race([ping, timeout]);
      return problem === undefined ? indicator.up() : indicator.down({ message: problem });
    } finally {
      clearTimeout(timer);
    }
  }
}
