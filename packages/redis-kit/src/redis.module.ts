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
import { type RedisClient, createRedisClient, quitRedisClient } from './redis.client.js';
import type { RedisConfig } from './redis.config.js';
import { REDIS_CLIENT, REDIS_CONFIG, REDIS_MODULE_OPTIONS } from './redis.constants.js';
import { RedisHealthIndicator } from './redis.health.js';
import type { RedisKitLogger } from './redis.logger.js';

export interface RedisModuleOptions {
  config: RedisConfig;
  logger?: RedisKitLogger;
  /** Client name in logs and CLIENT LIST (default `jobsphere`). */
  name?: string;
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
      }),
    inject: [REDIS_MODULE_OPTIONS],
  },
  RedisHealthIndicator,
];

const moduleExports = [REDIS_CLIENT, REDIS_CONFIG, RedisHealthIndicator];

/** Global module: one shared client (`REDIS_CLIENT`), its config and a health indicator; quits the client on shutdown. */
@Global()
@Module({})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {}

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
    await quitRedisClient(this.client);
  }
}
