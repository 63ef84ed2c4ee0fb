/** Injection token of the shared command client (`Redis` or `Cluster`). */
export const REDIS_CLIENT: unique symbol = Symbol('jobsphere:REDIS_CLIENT');
/** Injection token of the Socket.IO adapter and its own clients ({@link RedisConnectedAdapter}), or null. */
export const REDIS_ADAPTER: unique symbol = Symbol('jobsphere:REDIS_ADAPTER');
/** Injection tokens of the adapter's publisher and subscriber (null without an adapter). */
export const REDIS_PUBLISHER: unique symbol = Symbol('jobsphere:REDIS_PUBLISHER');
export const REDIS_SUBSCRIBER: unique symbol = Symbol('jobsphere:REDIS_SUBSCRIBER');
/** Injection token of the parsed {@link RedisConfig}. */
export const REDIS_CONFIG: unique symbol = Symbol('jobsphere:REDIS_CONFIG');
/** Injection token of the module options (internal). */
export const REDIS_MODULE_OPTIONS: unique symbol = Symbol('jobsphere:REDIS_MODULE_OPTIONS');
