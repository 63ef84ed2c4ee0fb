import { Controller, Get, Inject, Optional } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { RedisHealthIndicator } from '@jobsphere/redis-kit';
import { LifecycleState } from './lifecycle.state.js';
import { StoreHealthIndicator } from './store.health.js';

const CHECK_TIMEOUT_MS = 1_000;

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: StoreHealthIndicator,
    private readonly lifecycle: LifecycleState,
    @Optional() @Inject(RedisHealthIndicator) private readonly redis?: RedisHealthIndicator,
  ) {}

  /** The load balancer's check: 200 when Redis and the store answer in time, 503 otherwise. */
  @Get()
  @HealthCheck()
  readiness() {
    const checks: HealthIndicatorFunction[] = [
      () => {
        const lifecycle = this.indicators.check('lifecycle');
        return this.lifecycle.draining ? lifecycle.down({ message: 'draining' }) : lifecycle.up();
      },
      () => this.store.isHealthy('store', CHECK_TIMEOUT_MS),
    ];
    if (this.redis) checks.push(() => this.redis!.isHealthy('redis', CHECK_TIMEOUT_MS));
    return this.health.check(checks);
  }

  /** Liveness: the process answers. Never depends on Redis or the store. */
  @Get('live')
  liveness() {
    return { status: 'ok' };
  }
}
