/** Injection token of the shared ioredis client (`Redis` or `Cluster`). */
export const REDIS_CLIENT: unique symbol = Symbol('jobsphere:REDIS_CLIENT');
/** Injection token of the parsed {@link RedisConfig}. */
export const REDIS_CONFIG: unique symbol = Symbol('jobsphere:REDIS_CONFIG');
/** Injection token of the module options (internal). */
export const REDIS_MODULE_OPTIONS: unique symbol = Symbol('jobsphere:REDIS_MODULE_OPTIONS');
