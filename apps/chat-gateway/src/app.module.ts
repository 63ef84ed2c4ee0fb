import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { createChat, createPlatform, type ChatStore, type Clock } from '@jobsphere/chat-domain';
import { RedisModule } from '@jobsphere/redis-kit';
import { type AttachmentRecords } from './attachments/attachment-records.js';
import { type AttachmentService } from './attachments/attachment.service.js';
import { attachmentParts } from './attachments/attachments.module.js';
import { ATTACHMENTS } from './attachments/attachments.tokens.js';
import { TokenRevocations } from './auth/revocations.service.js';
import { TokenService } from './auth/token.service.js';
import { AdminGuard } from './auth/admin.guard.js';
import { BearerGuard } from './auth/bearer.guard.js';
import { ChatController } from './chat/chat.controller.js';
import { ReactionsController } from './chat/reactions.controller.js';
import { ChatGateway } from './chat/chat.gateway.js';
import { CHAT, CLOCK } from './chat/chat.tokens.js';
import { UnannouncedSendMarks } from './chat/unannounced-sends.service.js';
import { TypingService } from './chat/typing.service.js';
import { PreSendHookClient } from './safety/presend-hook.client.js';
import { PreSendVerdicts } from './safety/presend-verdicts.service.js';
import { type AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { HealthController } from './health/health.controller.js';
import { LifecycleState } from './health/lifecycle.state.js';
import { WorkersState } from './workers/workers.state.js';
import { StoreHealthIndicator } from './health/store.health.js';
import { BudgetService } from './limits/budget.service.js';
import { RestRateLimitGuard } from './limits/rest-rate-limit.guard.js';
import { ModerationGateService } from './moderation/moderation-gate.service.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsService, countingLogger } from './metrics/metrics.service.js';
import { OpenApiController } from './openapi/openapi.controller.js';
import { CHAT_STORE } from './persistence/persistence.tokens.js';
import { PresenceService } from './presence/presence.service.js';
import { ConnectionGuard } from './realtime/connection-guard.js';
import { RealtimeBus, isUserRoom } from './realtime/realtime-bus.js';
import { MissedBroadcasts, RedisLossPolicy } from './realtime/redis-loss.policy.js';
import { AdminController } from './trust/admin.controller.js';
import { OrganisationController } from './organisation/organisation.controller.js';
import { ReceiptsController } from './receipts/receipts.controller.js';
import { SearchController } from './search/search.controller.js';
import { TrustController } from './trust/trust.controller.js';
import { devOnlyModules } from './try/try.module.js';
import { ServiceController } from './service/service.controller.js';
import { ServiceGuard } from './service/service.guard.js';
import { ServiceTokenService } from './service/service-token.service.js';
import { PLATFORM } from './service/service.tokens.js';
import { OutboxWorker } from './webhooks/outbox.worker.js';
import { HiringController } from './hiring/hiring.controller.js';
import { HiringServiceController } from './hiring/hiring-service.controller.js';
import { ResponseTimesController } from './hiring/response-times.controller.js';
import { ScheduledSendWorker } from './hiring/scheduled.worker.js';
import { ScheduledController } from './hiring/scheduled.controller.js';
import { TemplatesController } from './hiring/templates.controller.js';
import { TemplatesServiceController } from './hiring/templates-service.controller.js';

export interface AppModuleOptions {
  config: AppConfig;
  /** Connected before the app starts, closed after it (see bootstrap.ts); calls bounded in time. */
  store: ChatStore;
  /** Created before the app so the Redis clients built ahead of it can count their errors. */
  metrics: MetricsService;
  clock?: Clock;
  /** Upload metadata beside the store (MongoDB's when the store is); in memory otherwise. */
  attachmentRecords?: AttachmentRecords;
}

const systemClock: Clock = { now: () => new Date() };

@Module({})
export class AppModule {
  static forRoot({
    config,
    store,
    metrics,
    clock = systemClock,
    attachmentRecords,
  }: AppModuleOptions): DynamicModule {
    const missed = new MissedBroadcasts();
    const attachments = attachmentParts(config.attachments, attachmentRecords);
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
                name: 'chat',
                adapter: {
                  // Fan-out goes to user rooms: each has its own channel (see realtime-bus.ts).
                  routeRoom: isUserRoom,
                  onTraffic: (direction, bytes) => {
                    metrics.adapterMessages.inc({ direction });
                    metrics.adapterBytes.inc({ direction }, bytes);
                  },
                  onDropped: (rooms) => {
                    metrics.adapterDropped.inc();
                    missed.add(rooms);
                  },
                },
              }),
            ]
          : []),
        ...devOnlyModules(config),
      ],
      controllers: [
        ChatController,
        ReactionsController,
        TrustController,
        ReceiptsController,
        OrganisationController,
        SearchController,
        AdminController,
        ...attachments.controllers,
        HealthController,
        // Production serves metrics on their own port and keeps the API description off the public path.
        ...(config.metrics ? [] : [MetricsController]),
        ...(config.nodeEnv === 'production' ? [] : [OpenApiController]),
        // The server API exists where a service secret is configured (always outside production).
        ...(config.platform.service
          ? [
              ServiceController,
              HiringServiceController,
              ResponseTimesController,
              TemplatesServiceController,
            ]
          : []),
        HiringController,
        ScheduledController,
        TemplatesController,
      ],
      providers: [
        { provide: CHAT_STORE, useValue: store },
        { provide: CLOCK, useValue: clock },
        {
          provide: CHAT,
          useFactory: (
            fanout: RealtimeBus,
            now: Clock,
            files: AttachmentService,
            unannounced: UnannouncedSendMarks,
            verdicts: PreSendVerdicts,
            moderation: ModerationGateService,
          ) =>
            createChat({
              store,
              fanout,
              clock: now,
              trust: config.trust,
              reactions: config.reactions,
              attachments: { store: files, maxBytes: config.attachments.maxBytes },
              unannounced,
              contentPolicy: config.safety.contentPolicy,
              // Unset, the send path makes no call and no lookup for it.
              ...(config.safety.presend && {
                presend: new PreSendHookClient(config.safety.presend, verdicts, metrics),
              }),
              moderation,
              // After each stored send, not waited for; a failure is counted, never the send's.
              responseTimes: { lost: () => metrics.responseTimesLost.inc() },
            }),
          inject: [
            RealtimeBus,
            CLOCK,
            ATTACHMENTS,
            UnannouncedSendMarks,
            PreSendVerdicts,
            ModerationGateService,
          ],
        },
        {
          provide: PLATFORM,
          useFactory: (
            fanout: RealtimeBus,
            now: Clock,
            files: AttachmentService,
            unannounced: UnannouncedSendMarks,
            moderation: ModerationGateService,
          ) =>
            createPlatform({
              store,
              fanout,
              clock: now,
              attachments: { store: files },
              unannounced,
              moderation,
            }),
          inject: [RealtimeBus, CLOCK, ATTACHMENTS, UnannouncedSendMarks, ModerationGateService],
        },
        UnannouncedSendMarks,
        PreSendVerdicts,
        ModerationGateService,
        ...attachments.providers,
        TokenService,
        TokenRevocations,
        BearerGuard,
        AdminGuard,
        ServiceTokenService,
        ServiceGuard,
        OutboxWorker,
        ScheduledSendWorker,
        ChatGateway,
        RealtimeBus,
        LifecycleState,
        WorkersState,
        StoreHealthIndicator,
        BudgetService,
        RestRateLimitGuard,
        ConnectionGuard,
        { provide: MissedBroadcasts, useValue: missed },
        RedisLossPolicy,
        { provide: MetricsService, useValue: metrics },
        PresenceService,
        TypingService,
      ],
    };
  }
}
