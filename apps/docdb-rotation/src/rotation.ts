import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { MongoClient, type MongoClientOptions } from 'mongodb';

/** What Secrets Manager sends for each of the four steps of a rotation. */
export interface RotationEvent {
  SecretId: string;
  ClientRequestToken: string;
  Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

export interface RotationSettings {
  host: string;
  port: number;
  /** The chat database the application user may read and write. */
  database: string;
  /** The DocumentDB master user's secret (only this function reads it). */
  masterSecretArn: string;
  /** The two users the secret alternates between. */
  usernames: readonly [string, string];
  /** The application user's role on `database`. */
  role: string;
  tls: boolean;
  /** PEM of the CA that signs the server's certificate (the RDS bundle for DocumentDB). */
  ca?: string;
  /** DocumentDB clusters are replica set rs0; a test server may be standalone. */
  replicaSet?: string;
}

export interface RotationLogger {
  log(entry: Record<string, unknown>): void;
}

/** Every dependency call has a deadline; the Lambda itself stops at 60 s. */
const SECRETS_DEADLINE_MS = 5_000;
const MONGO_TIMEOUTS = {
  serverSelectionTimeoutMS: 5_000,
  connectTimeoutMS: 5_000,
  socketTimeoutMS: 10_000,
};
/** Alphanumeric only: no character that needs escaping in a URI, a shell or JSON. */
const PASSWORD_LENGTH = 40;

interface UserSecret {
  username: string;
  password: string;
  [field: string]: unknown;
}

export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * Rotates the gateway's DocumentDB login with alternating users: the pending version holds the
 * user that is *not* current with a fresh password, which setSecret creates (first time) or
 * updates with the master user, testSecret logs in with, and finishSecret makes current. The
 * previous user keeps its password until the next rotation, so gateways still using it never
 * fail. Each step is idempotent: Secrets Manager retries steps.
 */
export async function rotate(
  event: RotationEvent,
  settings: RotationSettings,
  secrets: SecretsManagerClient,
  logger: RotationLogger,
): Promise<void> {
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
  const call = { abortSignal: AbortSignal.timeout(SECRETS_DEADLINE_MS) };
  const description = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }), call);
  const stages = description.VersionIdsToStages ?? {};
  const tokenStages = stages[token];
  if (!tokenStages)
    throw new RotationError(`secret ${secretId} has no version ${token} to rotate to`);
  if (tokenStages.includes('AWSCURRENT')) {
    logger.log({ step, secretId, token, outcome: 'already current' });
    return;
  }
  if (!tokenStages.includes('AWSPENDING'))
    throw new RotationError(`version ${token} of ${secretId} is not AWSPENDING`);

  const read = async (options: {
    VersionId?: string;
    VersionStage?: string;
    SecretId?: string;
  }) => {
    const result = await secrets.send(
      new GetSecretValueCommand({ SecretId: secretId, ...options }),
      { abortSignal: AbortSignal.timeout(SECRETS_DEADLINE_MS) },
    );
    return parseUser(result.SecretString, options.SecretId ?? secretId);
  };
  const pending = () => read({ VersionId: token, VersionStage: 'AWSPENDING' });

  switch (step) {
    case 'createSecret': {
      const current = await read({ VersionStage: 'AWSCURRENT' });
      const existing = await pending().catch((error: unknown) => {
        if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw error;
      });
      if (existing) {
        logger.log({ step, secretId, token, outcome: 'pending version exists' });
        return;
      }
      const { RandomPassword: password } = await secrets.send(
        new GetRandomPasswordCommand({ PasswordLength: PASSWORD_LENGTH, ExcludePunctuation: true }),
        { abortSignal: AbortSignal.timeout(SECRETS_DEADLINE_MS) },
      );
      if (!password) throw new RotationError('Secrets Manager returned no password');
      const username = otherUser(current.username, settings.usernames);
      await secrets.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: token,
          SecretString: JSON.stringify({ ...current, username, password }),
          VersionStages: ['AWSPENDING'],
        }),
        { abortSignal: AbortSignal.timeout(SECRETS_DEADLINE_MS) },
      );
      logger.log({ step, secretId, token, outcome: 'pending version stored', username });
      return;
    }
    case 'setSecret': {
      const user = await pending();
      const master = await read({ SecretId: settings.masterSecretArn });
      const client = await connect(settings, master);
      try {
        const admin = client.db('admin');
        const info = await admin.command({ usersInfo: user.username });
        const exists = Array.isArray(info.users) && info.users.length > 0;
        if (exists) {
          await admin.command({ updateUser: user.username, pwd: user.password });
        } else {
          await admin.command({
            createUser: user.username,
            pwd: user.password,
            roles: [{ role: settings.role, db: settings.database }],
          });
        }
        logger.log({
          step,
          secretId,
          token,
          outcome: exists ? 'password set' : 'user created',
          username: user.username,
          role: `${settings.role}@${settings.database}`,
        });
      } finally {
        await client.close();
      }
      return;
    }
    case 'testSecret': {
      const user = await pending();
      const client = await connect(settings, user);
      try {
        await client.db(settings.database).command({ ping: 1 });
      } finally {
        await client.close();
      }
      logger.log({ step, secretId, token, outcome: 'logged in', username: user.username });
      return;
    }
    case 'finishSecret': {
      const current = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      await secrets.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(current !== undefined && { RemoveFromVersionId: current }),
        }),
        { abortSignal: AbortSignal.timeout(SECRETS_DEADLINE_MS) },
      );
      logger.log({ step, secretId, token, outcome: 'made current', previous: current });
      return;
    }
    default:
      throw new RotationError(`unknown rotation step ${String(step)}`);
  }
}

function otherUser(username: string, usernames: readonly [string, string]): string {
  if (username === usernames[0]) return usernames[1];
  if (username === usernames[1]) return usernames[0];
  throw new RotationError(`secret user ${username} is not one of ${usernames.join(', ')}`);
}

function parseUser(raw: string | undefined, secretId: string): UserSecret {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw ?? '');
  } catch {
    throw new RotationError(`secret ${secretId} is not JSON`);
  }
  const user = parsed as Partial<UserSecret>;
  if (typeof user.username !== 'string' || typeof user.password !== 'string')
    throw new RotationError(`secret ${secretId} has no username and password`);
  return user as UserSecret;
}

async function connect(
  settings: RotationSettings,
  user: { username: string; password: string },
): Promise<MongoClient> {
  const options: MongoClientOptions = {
    ...MONGO_TIMEOUTS,
    auth: { username: user.username, password: user.password },
    authSource: 'admin',
    retryWrites: false,
    readPreference: 'primary',
    tls: settings.tls,
    ...(settings.ca !== undefined && { ca: settings.ca }),
    ...(settings.replicaSet !== undefined && { replicaSet: settings.replicaSet }),
  };
  const client = new MongoClient(`mongodb://${settings.host}:${settings.port}/`, options);
  await client.connect();
  return client;
}
