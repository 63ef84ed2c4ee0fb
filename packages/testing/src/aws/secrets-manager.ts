import { randomBytes, randomUUID } from 'node:crypto';
import { listenOnLoopback, readBody } from './http.js';

/** A call the fake received: the action and the secret, never a secret's value. */
export interface SecretsManagerCall {
  readonly action: string;
  readonly secretId?: string;
  readonly versionStage?: string;
  readonly at: number;
}

interface Version {
  id: string;
  /** Undefined for the empty AWSPENDING version RotateSecret creates before createSecret. */
  value: string | undefined;
  stages: Set<string>;
  created: number;
}

interface Secret {
  name: string;
  arn: string;
  versions: Version[];
}

export interface FakeSecretsManager {
  /** Endpoint for the AWS SDK (`endpoint`) or AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly url: string;
  readonly region: string;
  readonly calls: readonly SecretsManagerCall[];
  /** Creates a secret with an AWSCURRENT version; returns its ARN. */
  createSecret(name: string, value: string): string;
  /** Stores a new AWSCURRENT version (the previous one becomes AWSPREVIOUS), as a rotation does. */
  putValue(nameOrArn: string, value: string): string;
  /** The value under a stage (default AWSCURRENT). */
  valueOf(nameOrArn: string, stage?: string): string | undefined;
  /** The next `count` calls fail with a 500 InternalServiceError. */
  failNextCalls(count: number): void;
  /** Every call waits this long before answering (to test callers' deadlines). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * AWS Secrets Manager on loopback, enough of its JSON 1.1 protocol for the gateway's secret
 * reader, the rotation function and the rotation scripts: GetSecretValue, PutSecretValue,
 * DescribeSecret, UpdateSecretVersionStage, RotateSecret (it stages the empty AWSPENDING version
 * and invokes nothing) and GetRandomPassword, with version stages that move the way the service
 * moves them. Requests are not signature-checked.
 */
export async function startFakeSecretsManager(
  options: { region?: string } = {},
): Promise<FakeSecretsManager> {
  const region = options.region ?? 'us-east-1';
  const secrets = new Map<string, Secret>();
  const calls: SecretsManagerCall[] = [];
  let failures = 0;
  let delayMs = 0;

  const find = (id: unknown): Secret => {
    if (typeof id !== 'string')
      throw new ServiceError('InvalidParameterException', 'SecretId is required');
    const secret =
      secrets.get(id) ??
      [...secrets.values()].find((s) => s.arn === id || id.startsWith(`${s.arn}`));
    if (!secret)
      throw new ServiceError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    return secret;
  };
  const moveStage = (secret: Secret, stage: string, to: Version | undefined) => {
    const from = secret.versions.find((v) => v.stages.has(stage));
    from?.stages.delete(stage);
    if (stage === 'AWSCURRENT' && from && from !== to) {
      for (const v of secret.versions) v.stages.delete('AWSPREVIOUS');
      from.stages.add('AWSPREVIOUS');
    }
    to?.stages.add(stage);
  };
  const addVersion = (
    secret: Secret,
    value: string,
    stages: string[],
    id: string = randomUUID(),
  ) => {
    const version: Version = { id, value, stages: new Set(), created: Date.now() };
    secret.versions.push(version);
    for (const stage of stages) moveStage(secret, stage, version);
    // Versions without a stage are deprecated and eventually removed by the service.
    secret.versions = secret.versions.filter((v) => v.stages.size > 0 || v === version);
    return version;
  };
  const describe = (secret: Secret) => ({
    ARN: secret.arn,
    Name: secret.name,
    VersionIdsToStages: Object.fromEntries(secret.versions.map((v) => [v.id, [...v.stages]])),
  });

  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue: (input) => {
      const secret = find(input.SecretId);
      const version =
        typeof input.VersionId === 'string'
          ? secret.versions.find((v) => v.id === input.VersionId)
          : secret.versions.find((v) =>
              v.stages.has(
                typeof input.VersionStage === 'string' ? input.VersionStage : 'AWSCURRENT',
              ),
            );
      if (!version || version.value === undefined)
        throw new ServiceError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label or version.",
        );
      if (typeof input.VersionStage === 'string' && !version.stages.has(input.VersionStage))
        throw new ServiceError('ResourceNotFoundException', 'version does not have that stage');
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        SecretString: version.value,
        VersionStages: [...version.stages],
        CreatedDate: version.created / 1000,
      };
    },
    PutSecretValue: (input) => {
      const secret = find(input.SecretId);
      if (typeof input.SecretString !== 'string')
        throw new ServiceError('InvalidParameterException', 'SecretString is required');
      const token =
        typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
      const existing = token ? secret.versions.find((v) => v.id === token) : undefined;
      if (existing && existing.value === undefined) {
        existing.value = input.SecretString;
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: existing.id,
          VersionStages: [...existing.stages],
        };
      }
      if (existing) {
        if (existing.value !== input.SecretString)
          throw new ServiceError(
            'ResourceExistsException',
            'a version with this token already exists',
          );
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: existing.id,
          VersionStages: [...existing.stages],
        };
      }
      const stages = Array.isArray(input.VersionStages)
        ? (input.VersionStages as string[])
        : ['AWSCURRENT'];
      const version = addVersion(secret, input.SecretString, stages, token);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        VersionStages: [...version.stages],
      };
    },
    // Starts a rotation the way the service does before it invokes createSecret: an empty
    // version under the token, staged AWSPENDING. (No function is invoked: tests drive the steps.)
    RotateSecret: (input) => {
      const secret = find(input.SecretId);
      const token =
        typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : randomUUID();
      if (!secret.versions.some((v) => v.id === token)) {
        const version: Version = {
          id: token,
          value: undefined,
          stages: new Set(),
          created: Date.now(),
        };
        secret.versions.push(version);
        moveStage(secret, 'AWSPENDING', version);
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: token };
    },
    DescribeSecret: (input) => ({ ...describe(find(input.SecretId)), RotationEnabled: true }),
    UpdateSecretVersionStage: (input) => {
      const secret = find(input.SecretId);
      const stage = input.VersionStage;
      if (typeof stage !== 'string')
        throw new ServiceError('InvalidParameterException', 'VersionStage is required');
      const holder = secret.versions.find((v) => v.stages.has(stage));
      if (holder && holder.id !== input.RemoveFromVersionId && input.MoveToVersionId !== holder.id)
        throw new ServiceError(
          'InvalidParameterException',
          `The staging label ${stage} is currently attached to version ${holder.id}, but you didn't specify that version in RemoveFromVersionId`,
        );
      const to =
        typeof input.MoveToVersionId === 'string'
          ? secret.versions.find((v) => v.id === input.MoveToVersionId)
          : undefined;
      if (typeof input.MoveToVersionId === 'string' && !to)
        throw new ServiceError('ResourceNotFoundException', 'no such version');
      moveStage(secret, stage, to);
      return { ARN: secret.arn, Name: secret.name };
    },
    GetRandomPassword: (input) => {
      const length = typeof input.PasswordLength === 'number' ? input.PasswordLength : 32;
      const alphabet =
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789' +
        (input.ExcludePunctuation === true ? '' : '!#$%&*+-=?^_');
      const exclude = typeof input.ExcludeCharacters === 'string' ? input.ExcludeCharacters : '';
      const allowed = [...alphabet].filter((c) => !exclude.includes(c));
      const bytes = randomBytes(length);
      return { RandomPassword: [...bytes].map((b) => allowed[b % allowed.length]).join('') };
    },
  };

  const http = await listenOnLoopback((req, res) => {
    void (async () => {
      const reply = (status: number, body: unknown) =>
        res
          .writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify(body));
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = target.replace(/^secretsmanager\./, '');
      let input: Record<string, unknown>;
      try {
        input = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'invalid JSON' });
      }
      calls.push({
        action,
        ...(typeof input.SecretId === 'string' && { secretId: input.SecretId }),
        ...(typeof input.VersionStage === 'string' && { versionStage: input.VersionStage }),
        at: Date.now(),
      });
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (failures > 0) {
        failures--;
        return reply(500, { __type: 'InternalServiceError', message: 'injected failure' });
      }
      const handler = actions[action];
      if (!handler) return reply(400, { __type: 'UnknownOperationException', message: target });
      try {
        reply(200, handler(input));
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        reply(error.status, { __type: error.type, message: error.message });
      }
    })();
  });

  return {
    url: http.url,
    region,
    calls,
    createSecret: (name, value) => {
      const arn = `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`;
      const secret: Secret = { name, arn, versions: [] };
      secrets.set(name, secret);
      addVersion(secret, value, ['AWSCURRENT']);
      return arn;
    },
    putValue: (nameOrArn, value) => addVersion(find(nameOrArn), value, ['AWSCURRENT']).id,
    valueOf: (nameOrArn, stage = 'AWSCURRENT') =>
      find(nameOrArn).versions.find((v) => v.stages.has(stage))?.value,
    failNextCalls: (count) => {
      failures = count;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () => http.close(),
  };
}
