import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { type ChatStore } from '@jobsphere/chat-domain';
import { RedisModule } from '@jobsphere/redis-kit';
import { TokenService } from './auth/token.service.js';
import { BearerGuard } from './auth/bearer.guard.js';
import { ChatController } from './chat/chat.controller.js';
import { ChatGateway } from './chat/chat.gateway.js';
import { ChatService } from './chat/chat.service.js';
import { type AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { HealthController } from './health/health.controller.js';
import { LifecycleState } from './health/lifecycle.state.js';
import { StoreHealthIndicator } from './health/store.health.js';
import { CHAT_STORE } from './persistence/persistence.tokens.js';
import { RealtimeBus } from './realtime/realtime-bus.js';
import { OpenApiController } from './openapi/openapi.controller.js';
import { RateLimitService } from './limits/rate-limit.service.js';
import { RestRateLimitGuard } from './limits/rest-rate-limit.guard.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsService, countingLogger } from './metrics/metrics.service.js';
import { PresenceService } from './presence/presence.service.js';
import { TypingService } from './chat/typing.service.js';
import { devOnlyModules } from './try/try.module.js';

export interface AppModuleOptions {
  config: AppConfig;
  /** Connected before the app starts, closed after it (see bootstrap.ts). */
  store: ChatStore;
  /** Created before the app so the Redis clients built ahead of it can count their errors. */
  metrics: MetricsService;
}

@Module({})
export class AppModule {
  static forRoot({ config, store, metrics }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TerminusModule.forRoot({ logger: false }),
        ...(config.redis
          ? [
              RedisModule.forRoot({
                config: config.redis,
                logger: countingLogger('Redis', metrics),
              }),
            ]
          : []),
        ...devOnlyModules(config),
      ],
      controllers: [ChatController, HealthController, OpenApiController, MetricsController],
      providers: [
        { provide: CHAT_STORE, useValue: store },
        TokenService,
        BearerGuard,
        ChatService,
        ChatGateway,
        RealtimeBus,
        LifecycleState,
        StoreHealthIndicator,
        RateLimitService,
        RestRateLimitGuard,
        { provide: MetricsService, useValue: metrics },
        PresenceService,
        TypingService,
      ],
    };
  }
}
