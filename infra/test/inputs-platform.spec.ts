import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environments } from '../src/config/environments.js';
import {
  INPUT_VARIABLES,
  InputsError,
  resolveInputs,
  type DeployInputs,
} from '../src/config/inputs.js';
import {
  dataSources,
  infraDir,
  ref,
  resources,
  synth,
  testInputs,
  type Attributes,
  type TerraformJson,
} from './support/synth.js';

// The whole product from the stack: the platform half's secrets (server API, webhooks), the
// identity provider's settings, the client IP behind the ALB, and the region and AZs as inputs.
const dev = environments.dev;
const synthDev = (inputs: Partial<DeployInputs> & Record<string, unknown>) =>
  synth({ dev }, { dev: { ...testInputs.dev, ...inputs } }).dev!;

const parameter = (json: TerraformJson, suffix: string) =>
  Object.values(resources(json, 'aws_ssm_parameter')).find((p) => String(p.name).endsWith(suffix))
    ?.value;
const readableSecrets = (json: TerraformJson) => {
  const statements = dataSources(json, 'aws_iam_policy_document')['compute/instance-access']!
    .statement as Attributes[];
  return statements.find((s) => s.sid === 'ReadOwnSecrets')!.resources as string[];
};
const secretRef = (json: TerraformJson, name: string) =>
  ref(json, 'aws_secretsmanager_secret', `platform-secrets/${name}`, 'arn');

describe('the platform half in the stack', () => {
  const json = synthDev({});
  const kmsKey = ref(json, 'aws_kms_key', 'keys/data-key', 'arn');

  it('tells the gateways the ALB is one proxy in front (per-IP budgets count clients)', () => {
    expect(parameter(json, '/env/TRUST_PROXY_HOPS')).toBe('1');
  });

  it('generates the service-token secret, encrypted with the stack key, and hands it to the instances', () => {
    const secret = resources(json, 'aws_secretsmanager_secret')[
      'platform-secrets/service-token-secret'
    ]!;
    expect(secret).toMatchObject({
      name: 'jobsphere-chat-dev/service-token-secret',
      kms_key_id: kmsKey,
    });
    const password = resources(json, 'random_password')['platform-secrets/service-token']!;
    expect(password).toMatchObject({ length: 64, special: false });
    const version = resources(json, 'aws_secretsmanager_secret_version')[
      'platform-secrets/service-token-secret-value'
    ]!;
    expect(version.secret_string).toBe(
      ref(json, 'random_password', 'platform-secrets/service-token', 'result'),
    );
    expect(version.lifecycle).toEqual({ ignore_changes: ['secret_string'] });
    expect(parameter(json, '/secret-env/SERVICE_TOKEN_SECRET')).toBe(
      secretRef(json, 'service-token-secret'),
    );
    expect(parameter(json, '/secret-env/JWT_SECRET')).toBe(testInputs.dev.jwtSecretArn);
    expect(readableSecrets(json)).toContain(secretRef(json, 'service-token-secret'));
    expect(json.output.service_token_secret_arn!.value).toBe(
      secretRef(json, 'service-token-secret'),
    );
  });

  it('has no webhooks (and no webhook secret) until endpoints are given', () => {
    expect(parameter(json, '/env/WEBHOOK_URLS')).toBeUndefined();
    expect(parameter(json, '/secret-env/WEBHOOK_SECRET')).toBeUndefined();
    expect(
      resources(json, 'aws_secretsmanager_secret')['platform-secrets/webhook-secret'],
    ).toBeUndefined();
  });

  it('with webhook endpoints: generates a Standard Webhooks secret and delivers both', () => {
    const hooks = synthDev({ webhookUrls: 'https://api.jobsphere-test.net/chat-events' });
    expect(parameter(hooks, '/env/WEBHOOK_URLS')).toBe(
      'https://api.jobsphere-test.net/chat-events',
    );
    const version = resources(hooks, 'aws_secretsmanager_secret_version')[
      'platform-secrets/webhook-secret-value'
    ]!;
    expect(version.secret_string).toBe(
      `whsec_${ref(hooks, 'random_id', 'platform-secrets/webhook-key', 'b64_std')}`,
    );
    expect(resources(hooks, 'random_id')['platform-secrets/webhook-key']).toMatchObject({
      byte_length: 32,
    });
    expect(parameter(hooks, '/secret-env/WEBHOOK_SECRET')).toBe(secretRef(hooks, 'webhook-secret'));
    expect(readableSecrets(hooks)).toContain(secretRef(hooks, 'webhook-secret'));
    expect(hooks.output.webhook_secret_arn!.value).toBe(secretRef(hooks, 'webhook-secret'));
  });

  it("uses the operator's own secrets when given, and generates none", () => {
    const service =
      'arn:aws:secretsmanager:us-east-1:210987654321:secret:jobsphere/chat-service-AbCdEf';
    const webhook =
      'arn:aws:secretsmanager:us-east-1:210987654321:secret:jobsphere/chat-webhook-AbCdEf';
    const own = synthDev({
      serviceTokenSecretArn: service,
      webhookUrls: 'https://api.jobsphere-test.net/chat-events',
      webhookSecretArn: webhook,
    });
    expect(
      Object.keys(resources(own, 'aws_secretsmanager_secret')).filter((k) =>
        k.startsWith('platform-secrets/'),
      ),
    ).toEqual([]);
    expect(parameter(own, '/secret-env/SERVICE_TOKEN_SECRET')).toBe(service);
    expect(parameter(own, '/secret-env/WEBHOOK_SECRET')).toBe(webhook);
    expect(readableSecrets(own)).toEqual(expect.arrayContaining([service, webhook]));
  });

  it("passes an identity provider's settings, and reads no JWT secret when there is none", () => {
    const { jwtSecretArn: _none, ...withoutSecret } = testInputs.dev;
    const oidc = synth(
      { dev },
      {
        dev: {
          ...withoutSecret,
          jwtJwksUrl:
            'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/.well-known/jwks.json',
          jwtIssuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123',
          jwtAudience: '4abc1def2ghi3jkl',
          jwtAudienceClaim: 'client_id',
          jwtRoleClaim: 'cognito:groups',
          jwtRoleMap: 'recruiters=recruiter,moderators=admin',
          jwtDefaultRole: 'candidate',
          jwtCompanyClaim: 'custom:company',
        },
      },
    ).dev!;
    expect({
      JWT_JWKS_URL: parameter(oidc, '/env/JWT_JWKS_URL'),
      JWT_ISSUER: parameter(oidc, '/env/JWT_ISSUER'),
      JWT_AUDIENCE: parameter(oidc, '/env/JWT_AUDIENCE'),
      JWT_AUDIENCE_CLAIM: parameter(oidc, '/env/JWT_AUDIENCE_CLAIM'),
      JWT_ROLE_CLAIM: parameter(oidc, '/env/JWT_ROLE_CLAIM'),
      JWT_ROLE_MAP: parameter(oidc, '/env/JWT_ROLE_MAP'),
      JWT_DEFAULT_ROLE: parameter(oidc, '/env/JWT_DEFAULT_ROLE'),
      JWT_COMPANY_CLAIM: parameter(oidc, '/env/JWT_COMPANY_CLAIM'),
    }).toEqual({
      JWT_JWKS_URL:
        'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/.well-known/jwks.json',
      JWT_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123',
      JWT_AUDIENCE: '4abc1def2ghi3jkl',
      JWT_AUDIENCE_CLAIM: 'client_id',
      JWT_ROLE_CLAIM: 'cognito:groups',
      JWT_ROLE_MAP: 'recruiters=recruiter,moderators=admin',
      JWT_DEFAULT_ROLE: 'candidate',
      JWT_COMPANY_CLAIM: 'custom:company',
    });
    expect(parameter(oidc, '/secret-env/JWT_SECRET')).toBeUndefined();
    expect(readableSecrets(oidc)).not.toContain(testInputs.dev.jwtSecretArn);
  });

  it('deploys into the region and AZs the inputs name', () => {
    const placed = synthDev({
      region: 'eu-west-1',
      availabilityZones: 'eu-west-1b,eu-west-1c',
      jwtSecretArn:
        'arn:aws:secretsmanager:eu-west-1:210987654321:secret:jobsphere/identity/jwt-dev-AbCdEf',
    });
    expect(placed.provider.aws![0]).toMatchObject({ region: 'eu-west-1' });
    expect((placed.terraform.backend as { s3: { region: string } }).s3.region).toBe('eu-west-1');
    const zones = Object.values(resources(placed, 'aws_subnet')).map((s) => s.availability_zone);
    expect(new Set(zones)).toEqual(new Set(['eu-west-1b', 'eu-west-1c']));
    expect(parameter(placed, '/env/AWS_REGION')).toBe('eu-west-1');
    // Only the region is named: its a and b zones.
    const regionOnly = synthDev({
      region: 'eu-central-1',
      jwtSecretArn: 'arn:aws:secretsmanager:eu-central-1:210987654321:secret:jwt-AbCdEf',
    });
    const centralZones = Object.values(resources(regionOnly, 'aws_subnet')).map(
      (s) => s.availability_zone,
    );
    expect(new Set(centralZones)).toEqual(new Set(['eu-central-1a', 'eu-central-1b']));
  });
});

describe('the new inputs are checked before anything is synthesized', () => {
  const problemsWith = (values: Record<string, string | undefined>) => {
    const file = {
      dev: Object.fromEntries(
        Object.entries({ ...testInputs.dev, ...values }).filter(([, v]) => v !== undefined),
      ),
    };
    try {
      resolveInputs({ environments: [dev], file, env: {} });
      return [];
    } catch (error) {
      if (!(error instanceof InputsError)) throw error;
      return error.problems;
    }
  };

  it.each<[string, Record<string, string | undefined>, string]>([
    ['a region that is not one', { region: 'europe' }, 'dev.region is not an AWS region (europe)'],
    [
      'one AZ',
      { availabilityZones: 'us-east-1a' },
      'dev.availabilityZones must name exactly two AZs',
    ],
    [
      'an AZ of another region',
      { availabilityZones: 'us-east-1a,eu-west-1b' },
      'dev.availabilityZones has eu-west-1b, which is not an AZ of us-east-1',
    ],
    [
      'a JWT secret in another region than the stack',
      { region: 'eu-west-1' },
      'dev.jwtSecretArn must be a secret in eu-west-1 (the gateway reads it in its own region)',
    ],
    [
      'neither a JWT secret nor a JWKS',
      { jwtSecretArn: undefined },
      'dev.jwtSecretArn (CHAT_JWT_SECRET_ARN) or dev.jwtJwksUrl (CHAT_JWT_JWKS_URL) missing',
    ],
    [
      'a JWKS without its issuer',
      { jwtJwksUrl: 'https://idp.jobsphere-test.net/jwks', jwtAudience: 'chat' },
      'dev.jwtIssuer (CHAT_JWT_ISSUER) missing (required with jwtJwksUrl)',
    ],
    [
      'a plain-http JWKS',
      { jwtJwksUrl: 'http://idp.jobsphere-test.net/jwks' },
      'dev.jwtJwksUrl must be https URLs (http://idp.jobsphere-test.net/jwks)',
    ],
    [
      'a role map to no role',
      { jwtRoleMap: 'recruiters=boss' },
      'dev.jwtRoleMap must be <provider value>=<candidate|recruiter|admin>, comma-separated',
    ],
    [
      'webhooks over http',
      { webhookUrls: 'http://api.jobsphere-test.net/hooks' },
      'dev.webhookUrls must be https URLs (http://api.jobsphere-test.net/hooks)',
    ],
    [
      'a webhook secret without endpoints',
      { webhookSecretArn: 'arn:aws:secretsmanager:us-east-1:210987654321:secret:hooks-AbCdEf' },
      'dev.webhookUrls (CHAT_WEBHOOK_URLS) missing (webhookSecretArn is set)',
    ],
    [
      'a service secret in another region',
      { serviceTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:svc-AbCdEf' },
      'dev.serviceTokenSecretArn must be a secret in us-east-1 (the gateway reads it in its own region)',
    ],
  ])('names %s', (_what, values, problem) => {
    expect(problemsWith(values)).toEqual([problem]);
  });

  it('documents every input in infra/README.md, "Inputs" (where the synth error points)', () => {
    const readme = readFileSync(join(infraDir, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Inputs\n');
    expect(start).toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const body = readme.slice(start, end === -1 ? undefined : end);
    for (const [field, variable] of Object.entries(INPUT_VARIABLES)) {
      expect(body).toContain(`\`${field}\``);
      expect(body).toContain(`\`${variable}\``);
    }
  });
});
