import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type RotationEvent, type RotationSettings, rotate } from './rotation.js';

/** The function's settings, from the environment infra gives it (the only place that reads it). */
export function settingsFromEnv(env: Record<string, string | undefined>): Omit<
  RotationSettings,
  'ca'
> & {
  caUrl?: string;
} {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const usernames = required('APP_USERNAMES').split(',');
  if (usernames.length !== 2 || usernames.some((u) => u.trim() === ''))
    throw new Error('APP_USERNAMES must name exactly two users');
  return {
    host: required('DOCDB_HOST'),
    port: Number(env.DOCDB_PORT ?? '27017'),
    database: required('DOCDB_DATABASE'),
    masterSecretArn: required('DOCDB_MASTER_SECRET_ARN'),
    usernames: [usernames[0]!.trim(), usernames[1]!.trim()],
    role: env.APP_USER_ROLE || 'readWrite',
    tls: env.DOCDB_TLS !== 'false',
    // DocumentDB is the replica set rs0; DOCDB_REPLICA_SET='' for a standalone server.
    ...(env.DOCDB_REPLICA_SET !== '' && { replicaSet: env.DOCDB_REPLICA_SET ?? 'rs0' }),
    ...(env.DOCDB_CA_URL && { caUrl: env.DOCDB_CA_URL }),
  };
}

/** The RDS CA bundle, fetched once per container (the instances fetch the same file). */
let ca: Promise<string> | undefined;
async function fetchCa(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`CA bundle ${url}: HTTP ${response.status}`);
  const pem = await response.text();
  if (!pem.includes('BEGIN CERTIFICATE')) throw new Error(`CA bundle ${url} holds no certificate`);
  return pem;
}

export function createHandler(
  env: Record<string, string | undefined>,
  // Lambda ships what goes to stdout to the function's log group (JSON log format).
  logger = { log: (entry: Record<string, unknown>) => console.log(JSON.stringify(entry)) },
) {
  const { caUrl, ...settings } = settingsFromEnv(env);
  // Credentials come from the default chain (the function's role in Lambda).
  const secrets = new SecretsManagerClient({
    ...(env.AWS_REGION && { region: env.AWS_REGION }),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000 },
    ...(env.AWS_ENDPOINT_URL_SECRETS_MANAGER && { endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER }),
  });
  return async (event: RotationEvent): Promise<void> => {
    const pem =
      caUrl && settings.tls
        ? await (ca ??= fetchCa(caUrl).catch((error: unknown) => {
            ca = undefined;
            throw error;
          }))
        : undefined;
    await rotate(event, { ...settings, ...(pem !== undefined && { ca: pem }) }, secrets, logger);
  };
}

let handle: ((event: RotationEvent) => Promise<void>) | undefined;

/** Lambda entry point (handler `dist/handler.handler`). */
export const handler = (event: RotationEvent): Promise<void> => {
  handle ??= createHandler(process.env);
  return handle(event);
};
