import type { RedisCredentials, RedisCredentialsProvider } from '@jobsphere/redis-kit';
import type { AppConfig } from '../config/app-config.js';
import {
  type MongoCredentials,
  type MongoCredentialsProvider,
  parseMongoSecret,
  parseRedisSecret,
} from './credentials.js';
import {
  RotatingSecret,
  type SecretLogger,
  type SecretReader,
  secretsManagerReader,
} from './rotating-secret.js';

export interface LoadedSecrets {
  /** The configuration with the Redis credentials hooked to their secret. */
  config: AppConfig;
  /** For the MongoDB connection, when its user comes from a secret. */
  mongo?: MongoCredentialsProvider;
  close(): void;
}

/**
 * Reads the rotating credentials named in `config.secrets` (Secrets Manager), before anything
 * connects, and keeps them current: every `refreshMs`, and at once when Redis or MongoDB refuses
 * them. Without `config.secrets` the configuration is returned as it is.
 */
export async function loadSecrets(
  config: AppConfig,
  logger: SecretLogger,
  reader: SecretReader | undefined = config.secrets && secretsManagerReader(config.secrets),
): Promise<LoadedSecrets> {
  const settings = config.secrets;
  if (!settings || !reader) return { config, close: () => {} };
  const secrets: { stop(): void; startRefreshing(intervalMs: number): void }[] = [];
  try {
    let redis = config.redis;
    if (settings.redisAuthSecretId && redis) {
      const secret = await RotatingSecret.load<RedisCredentials>({
        reader,
        secretId: settings.redisAuthSecretId,
        label: 'Redis AUTH token',
        parse: parseRedisSecret,
        logger,
      });
      secrets.push(secret);
      const credentials: RedisCredentialsProvider = {
        current: () => secret.current(),
        refresh: () => secret.refresh('refused'),
        onChange: (listener) => secret.onChange(() => listener()),
      };
      redis = { ...redis, credentials };
    }
    let mongo: MongoCredentialsProvider | undefined;
    if (settings.mongodbSecretId) {
      const secret = await RotatingSecret.load<MongoCredentials>({
        reader,
        secretId: settings.mongodbSecretId,
        label: 'MongoDB user',
        parse: parseMongoSecret,
        logger,
      });
      secrets.push(secret);
      mongo = { current: () => secret.current(), refresh: () => secret.refresh('refused') };
    }
    for (const secret of secrets) secret.startRefreshing(settings.refreshMs);
    return {
      config: { ...config, ...(redis && { redis }) },
      ...(mongo && { mongo }),
      close: () => {
        for (const secret of secrets) secret.stop();
        reader.close();
      },
    };
  } catch (error) {
    for (const secret of secrets) secret.stop();
    reader.close();
    throw error;
  }
}
