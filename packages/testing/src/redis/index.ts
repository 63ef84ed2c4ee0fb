export { startRedis, type RedisServer, type StartRedisOptions } from './server.js';
export {
  startRedisCluster,
  type RedisCluster,
  type RedisClusterMaster,
  type RedisNodeAddress,
  type StartRedisClusterOptions,
} from './cluster.js';
export { runRedisCli, redisCliBin, redisServerBin, type RedisCliTarget } from './binaries.js';
export { generateTlsMaterial, type TlsMaterial } from './tls.js';
