import { Controller, Get, HttpException, Inject, Optional, Res } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { RedisHealthIndicator } from '@jobsphere/redis-kit';
import { type Response } from 'express';
import { getHeapStatistics } from 'node:v8';
import { LifecycleState } from './lifecycle.state.js';
import { StoreHealthIndicator } from './store.health.js';
import { WorkersState } from '../workers/workers.state.js';

const CHECK_TIMEOUT_MS = 1_000;
/** Past this share of the heap limit the process is about to fail on its own. */
const HEAP_LIMIT_SHARE = 0.95;

/**
 * Three questions, three endpoints:
 * - `/health`: should the load balancer send traffic here? Fails only for what is wrong with
 *   this instance (draining, its heap nearly exhausted). A shared dependency failing over looks
 *   the same on every instance, so it is reported in `dependencies` and never fails this check:
 *   replacing every instance at once would turn a failover into an outage.
 * - `/health/ready`: can this instance do everything right now? Fails while the store or Redis
 *   does not answer within 1 s: for operators, alarms and the local stack, not the target group.
 * - `/health/live`: the process answers; nothing else.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: StoreHealthIndicator,
    private readonly lifecycle: LifecycleState,
    private readonly workers: WorkersState,
    @Optional() @Inject(RedisHealthIndicator) private readonly redis?: RedisHealthIndicator,
  ) {}

  @Get()
  async target(@Res({ passthrough: true }) res: Response) {
    const [instance, dependencies] = await Promise.all([
      this.run(this.instanceChecks()),
      this.run(this.dependencyChecks()),
    ]);
    if (instance.status !== 'ok') res.status(503);
    return { ...instance, dependencies: dependencies.details };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([...this.instanceChecks(), ...this.dependencyChecks()]);
  }

  /** Liveness: the process answers. Never depends on Redis or the store. */
  @Get('live')
  liveness() {
    return { status: 'ok' };
  }

  private instanceChecks(): HealthIndicatorFunction[] {
    return [
      () => {
        const lifecycle = this.indicators.check('lifecycle');
        return this.lifecycle.draining ? lifecycle.down({ message: 'draining' }) : lifecycle.up();
      },
      () => {
        const heap = this.indicators.check('heap');
        const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
        const share = Math.round((used / limit) * 100) / 100;
        return share < HEAP_LIMIT_SHARE ? heap.up({ share }) : heap.down({ share });
      },
      // Under a supervisor (GATEWAY_WORKERS > 1): the instance is broken once a worker died and
      // the restart budget is spent; a worker being replaced is not (the others serve).
      ...(this.workers.report
        ? [
            () => {
              const check = this.indicators.check('workers');
              const { alive, expected, gaveUp } = this.workers.report!;
              return gaveUp && alive < expected
                ? check.down({ alive, expected })
                : check.up({ alive, expected });
            },
          ]
        : []),
    ];
  }

  private dependencyChecks(): HealthIndicatorFunction[] {
    const checks: HealthIndicatorFunction[] = [
      () => this.store.isHealthy('store', CHECK_TIMEOUT_MS),
    ];
    if (this.redis) checks.push(() => this.redis!.isHealthy('redis', CHECK_TIMEOUT_MS));
    return checks;
  }

  /** Terminus' report either way (it throws its 503 report; here both are values). */
  private async run(checks: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.health.check(checks);
    } catch (error) {
      if (error instanceof HttpException) return error.getResponse() as HealthCheckResult;
      throw error;
    }
  }
}
