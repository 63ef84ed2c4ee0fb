export {
  parseRedisConfig,
  describeRedisConfig,
  RedisConfigError,
  REDIS_ENV_VARIABLES,
} from './redis.config.js';
export type {
  RedisConfig,
  RedisConfigIssue,
  RedisCredentials,
  RedisCredentialsProvider,
  RedisMode,
} from './redis.config.js';
export {
  connectRedisClient,
  createRedisClient,
  quitRedisClient,
  RedisConnectionError,
} from './redis.client.js';
export type { CreateRedisClientOptions, RedisClient } from './redis.client.js';
export { createDebugLogger } from './redis.logger.js';
export type { RedisKitLogger } from './redis.logger.js';
export { createRedisAdapter, createRoutedAdapter } from './redis.adapter.js';
export { AdapterFrameError, decodeFrame, encodeFrame, encodePerRoom } from './adapter-frame.js';
export type {
  CreateRedisAdapterOptions,
  RedisAdapterHandle,
  RedisConnectedAdapter,
  RoutedAdapterOptions,
} from './redis.adapter.js';
export { RedisHealthIndicator } from './redis.health.js';
export { RedisModule } from './redis.module.js';
export type { RedisModuleAsyncOptions, RedisModuleOptions } from './redis.module.js';
export {
  REDIS_ADAPTER,
  REDIS_CLIENT,
  REDIS_CONFIG,
  REDIS_PUBLISHER,
  REDIS_SUBSCRIBER,
} from './redis.constants.js';
