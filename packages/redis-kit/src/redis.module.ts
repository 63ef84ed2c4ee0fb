import {
  type FactoryProvider,
  type DynamicModule,
  Global,
  Inject,
  Module,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import {
  type CreateRedisAdapterOptions,
  type RedisConnectedAdapter,
  createRedisAdapter,
} from './redis.adapter.js';
import { type RedisClient, createRedisClient, quitRedisClient } from './redis.client.js';
import type { RedisConfig } from './redis.config.js';
import {
  REDIS_ADAPTER,
  REDIS_CLIENT,
  REDIS_CONFIG,
  REDIS_MODULE_OPTIONS,
  REDIS_PUBLISHER,
  REDIS_SUBSCRIBER,
} from './redis.constants.js';
import { RedisHealthIndicator } from './redis.health.js';
import type { RedisKitLogger } from './redis.logger.js';

export interface RedisModuleOptions {
  config: RedisConfig;
  logger?: RedisKitLogger;
  /** Client name in logs and CLIENT LIST (default `jobsphere`). */
  name?: string;
  /** Also build the Socket.IO adapter with its own publisher and subscriber (connected at boot). */
  adapter?: Omit<CreateRedisAdapterOptions, 'logger' | 'name'>;
}

// The same shape as Nest's own FactoryProvider, so injected values keep their types at the call site.
export interface RedisModuleAsyncOptions
  extends
    Pick<ModuleMetadata, 'imports'>,
    Pick<
      FactoryProvider<RedisModuleOptions | Promise<RedisModuleOptions>>,
      'inject' | 'useFactory'
    > {}

const sharedProviders: Provider[] = [
  {
    provide: REDIS_CONFIG,
    useFactory: (options: RedisModuleOptions) => options.config,
    inject: [REDIS_MODULE_OPTIONS],
  },
  {
    provide: REDIS_CLIENT,
    useFactory: (options: RedisModuleOptions): RedisClient =>
      createRedisClient(options.config, {
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.name ? { name: options.name } : {}),
        // Callers that issue many commands in one tick (batches) pay one write for them.
        autoPipelining: true,
      }),
    inject: [REDIS_MODULE_OPTIONS],
  },
  {
    // Connected before the app starts: an unreachable Redis fails the boot, with its reason.
    provide: REDIS_ADAPTER,
    useFactory: async (options: RedisModuleOptions): Promise<RedisConnectedAdapter | null> =>
      options.adapter
        ? createRedisAdapter(options.config, {
            ...options.adapter,
            ...(options.logger ? { logger: options.logger } : {}),
            name: options.name ?? 'jobsphere',
          })
        : null,
    inject: [REDIS_MODULE_OPTIONS],
  },
  {
    provide: REDIS_PUBLISHER,
    useFactory: (adapter: RedisConnectedAdapter | null) => adapter?.publisher ?? null,
    inject: [REDIS_ADAPTER],
  },
  {
    provide: REDIS_SUBSCRIBER,
    useFactory: (adapter: RedisConnectedAdapter | null) => adapter?.subscriber ?? null,
    inject: [REDIS_ADAPTER],
  },
  RedisHealthIndicator,
];

const moduleExports = [
  REDIS_CLIENT,
  REDIS_CONFIG,
  REDIS_ADAPTER,
  REDIS_PUBLISHER,
  REDIS_SUBSCRIBER,
  RedisHealthIndicator,
];

/**
 * Global module: every Redis client of the process by name (commands; the adapter's publisher
 * and subscriber), its config and a health indicator over all of them. Closes every client on
 * shutdown, after Socket.IO has closed (Nest closes the websocket server first).
 */
@Global()
@Module({})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
    @Inject(REDIS_ADAPTER) private readonly adapter: RedisConnectedAdapter | null,
  ) {}

  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      imports: [TerminusModule],
      providers: [{ provide: REDIS_MODULE_OPTIONS, useValue: options }, ...sharedProviders],
      exports: moduleExports,
    };
  }

  static forRootAsync(options: RedisModuleAsyncOptions): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      imports: [...(options.imports ?? []), TerminusModule],
      providers: [
        {
          provide: REDIS_MODULE_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
        ...sharedProviders,
      ],
      exports: moduleExports,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([quitRedisClient(this.client), this.adapter?.close()]);
  }
}
