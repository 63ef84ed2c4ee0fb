import { Inject, Injectable, Optional } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { RedisConnectedAdapter } from './redis.adapter.js';
import type { RedisClient } from './redis.client.js';
import { REDIS_ADAPTER, REDIS_CLIENT } from './redis.constants.js';

type ClientState = { status: 'up' } | { status: 'down'; message: string };

/**
 * Terminus indicator over every client of the process: the command client and the adapter's
 * publisher are PINGed with a timeout, the subscriber (which may only subscribe) must be ready.
 * Reports `down` naming the client and why, instead of throwing, and never hangs.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
    @Optional()
    @Inject(REDIS_ADAPTER)
    private readonly adapter: RedisConnectedAdapter | null = null,
  ) {}

  async isHealthy(key = 'redis', timeoutMs = 1_000): Promise<HealthIndicatorResult> {
    const indicator = this.healthIndicatorService.check(key);
    const clients: Record<string, ClientState> = {
      commands: await ping(this.client, timeoutMs),
    };
    if (this.adapter) {
      clients['publisher'] = await ping(this.adapter.publisher, timeoutMs);
      clients['subscriber'] =
        this.adapter.subscriber.status === 'ready'
          ? { status: 'up' }
          : { status: 'down', message: `not connected (${this.adapter.subscriber.status})` };
    }
    const down = Object.entries(clients).filter(([, c]) => c.status === 'down');
    if (down.length === 0) return this.adapter ? indicator.up({ clients }) : indicator.up();
    const message = down
      .map(([name, c]) => `${name}: ${(c as { message: string }).message}`)
      .join('; ');
    return indicator.down({ message, ...(this.adapter && { clients }) });
  }
}

async function ping(client: RedisClient, timeoutMs: number): Promise<ClientState> {
  // Not connected: a PING would only wait in the offline queue.
  if (client.status !== 'ready')
    return { status: 'down', message: `not connected (${client.status})` };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no PONG within ${timeoutMs} ms`), timeoutMs);
  });
  const pong = client.ping().then(
    (reply) => (reply === 'PONG' ? undefined : 'unexpected PING reply'),
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  try {
    const problem = await Promise.race([pong, timeout]);
    return problem === undefined ? { status: 'up' } : { status: 'down', message: problem };
  } finally {
    clearTimeout(timer);
  }
}
