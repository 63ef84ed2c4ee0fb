import { existsSync, readFileSync } from 'node:fs';
import type { EnvironmentConfig, EnvironmentName } from './environments.js';

/** The environment as deployed: its region and AZs, unless the inputs name others. */
export function placeEnvironment(
  config: EnvironmentConfig,
  inputs: DeployInputs,
): EnvironmentConfig {
  const region = inputs.region ?? config.region;
  const zones = inputs.availabilityZones?.split(',').map((z) => z.trim());
  const availabilityZones: readonly [string, string] = zones
    ? [zones[0]!, zones[1]!]
    : region === config.region
      ? config.availabilityZones
      : [`${region}a`, `${region}b`];
  return { ...config, region, availabilityZones };
}

/**
 * What belongs to one AWS account and operator, not to the code: where the gateway answers, who
 * gets the alarms, which secret signs the tokens, which AMI runs, where the state lives. Read from
 * a JSON file outside git (infra/deploy-inputs.json, or CHAT_INPUTS_FILE) and from CHAT_*
 * variables, which win. Synth refuses to run while any of them is missing or a placeholder.
 */
export interface DeployInputs {
  /** AWS region of the stack; the environment's (us-east-1) when unset. */
  readonly region?: string;
  /** The two AZs, comma-separated (e.g. `eu-west-1a,eu-west-1b`); `<region>a,<region>b` when unset. */
  readonly availabilityZones?: string;
  /** Fully qualified name the ALB answers on, inside the hosted zone. */
  readonly domainName: string;
  /** Public Route 53 hosted zone that holds the record and the certificate's validation record. */
  readonly hostedZoneId: string;
  /** Receives the alarms (confirm the SNS subscription once). */
  readonly alarmEmail: string;
  /** Browser origin(s) of the JobSphere web app, comma-separated (the gateway's CLIENT_URL). */
  readonly clientUrl: string;
  /**
   * Secrets Manager ARN of the identity service's HS256 secret (the gateway's JWT_SECRET). Needed
   * unless `jwtJwksUrl` is set; with both, both kinds of token are accepted.
   */
  readonly jwtSecretArn?: string;
  /** KMS key of that secret when it is not the AWS managed key (optional). */
  readonly jwtSecretKmsKeyArn?: string;
  /** The identity provider's JWKS (RS256/ES256 tokens); needs `jwtIssuer` and `jwtAudience`. */
  readonly jwtJwksUrl?: string;
  readonly jwtIssuer?: string;
  /** Accepted audiences, comma-separated (Cognito: the app client ids, with jwtAudienceClaim client_id). */
  readonly jwtAudience?: string;
  readonly jwtAudienceClaim?: string;
  readonly jwtUserIdClaim?: string;
  readonly jwtRoleClaim?: string;
  /** Provider groups or roles to chat roles: `recruiters=recruiter,moderators=admin`. */
  readonly jwtRoleMap?: string;
  readonly jwtDefaultRole?: string;
  /** Claim with the company a person acts for (`org_id` by default; Keycloak: `organization.id`). */
  readonly jwtCompanyClaim?: string;
  /** Secret of the server API's service tokens; a random one is generated in Secrets Manager when unset. */
  readonly serviceTokenSecretArn?: string;
  /** https endpoints of JobSphere's backend that receive the webhooks, comma-separated; none = no webhooks. */
  readonly webhookUrls?: string;
  /** Standard Webhooks secret (`whsec_…`); generated in Secrets Manager when webhooks are on and it is unset. */
  readonly webhookSecretArn?: string;
  /** Pinned Amazon Linux 2023 AMI for the region and architecture; change it on purpose. */
  readonly amiId: string;
  /** S3 bucket of the Terraform state (scripts/bootstrap-state.sh creates and prints it). */
  readonly stateBucket: string;
  /**
   * Restore: DocumentDB is (re)created from this cluster snapshot. Keep it set afterwards;
   * removing it would replace the cluster again (see the runbook, "Restore from a snapshot").
   */
  readonly docdbSnapshotIdentifier?: string;
}

type Field = keyof DeployInputs;

/** CHAT_* variable per input; they apply to the environment named by CHAT_ENV. */
export const INPUT_VARIABLES: Readonly<Record<Field, string>> = {
  // First: the region decides what the secret ARNs and the AZs must match.
  region: 'CHAT_REGION',
  availabilityZones: 'CHAT_AVAILABILITY_ZONES',
  domainName: 'CHAT_DOMAIN_NAME',
  hostedZoneId: 'CHAT_HOSTED_ZONE_ID',
  alarmEmail: 'CHAT_ALARM_EMAIL',
  clientUrl: 'CHAT_CLIENT_URL',
  jwtSecretArn: 'CHAT_JWT_SECRET_ARN',
  jwtSecretKmsKeyArn: 'CHAT_JWT_SECRET_KMS_KEY_ARN',
  jwtJwksUrl: 'CHAT_JWT_JWKS_URL',
  jwtIssuer: 'CHAT_JWT_ISSUER',
  jwtAudience: 'CHAT_JWT_AUDIENCE',
  jwtAudienceClaim: 'CHAT_JWT_AUDIENCE_CLAIM',
  jwtUserIdClaim: 'CHAT_JWT_USER_ID_CLAIM',
  jwtRoleClaim: 'CHAT_JWT_ROLE_CLAIM',
  jwtRoleMap: 'CHAT_JWT_ROLE_MAP',
  jwtDefaultRole: 'CHAT_JWT_DEFAULT_ROLE',
  jwtCompanyClaim: 'CHAT_JWT_COMPANY_CLAIM',
  serviceTokenSecretArn: 'CHAT_SERVICE_TOKEN_SECRET_ARN',
  webhookUrls: 'CHAT_WEBHOOK_URLS',
  webhookSecretArn: 'CHAT_WEBHOOK_SECRET_ARN',
  amiId: 'CHAT_AMI_ID',
  stateBucket: 'CHAT_STATE_BUCKET',
  docdbSnapshotIdentifier: 'CHAT_DOCDB_SNAPSHOT',
};

const REQUIRED: readonly Field[] = [
  'domainName',
  'hostedZoneId',
  'alarmEmail',
  'clientUrl',
  'amiId',
  'stateBucket',
];

export const DEFAULT_INPUTS_FILE = 'deploy-inputs.json';

const WHERE = `infra/${DEFAULT_INPUTS_FILE} (copy deploy-inputs.example.json) or CHAT_* variables with CHAT_ENV; see infra/README.md, "Inputs"`;

export class InputsError extends Error {
  constructor(
    readonly problems: string[],
    summary = `deploy inputs missing or placeholders: ${problems.join('; ')}`,
  ) {
    super(`${summary}. Set them in ${WHERE}.`);
    this.name = this.constructor.name;
  }
}

// Documentation values: RFC 2606 domains, AWS's example account and ids, angle-bracket templates.
const PLACEHOLDER =
  /(^|[.@/])example\.(com|net|org)$|example\.(com|net|org)[/:]|123456789012|EXAMPLE|<|>|changeme|replace[-_ ]?me|^ami-0abcdef1234567890$|^ami-0123456789abcdef0$/i;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@]+@([a-z0-9-]+\.)+[a-z]{2,63}$/i;
const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:[A-Za-z0-9/_+=.@-]+$/;
const SNAPSHOT =
  /^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster-snapshot:)?[a-zA-Z][a-zA-Z0-9:-]{0,254}$/;
const KMS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/[0-9a-f-]{36}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CLAIM = /^\S{1,200}$/;
const ROLES = ['candidate', 'recruiter', 'admin'];

/** A secret the gateway reads in its own region. */
function checkSecretArn(value: string, region: string): string | undefined {
  const match = SECRET_ARN.exec(value);
  if (!match) return 'is not a Secrets Manager secret ARN';
  return match[1] === region
    ? undefined
    : `must be a secret in ${region} (the gateway reads it in its own region)`;
}

/** Comma-separated https URLs (webhook endpoints, origins' cousins). */
function checkHttpsUrls(value: string): string | undefined {
  for (const entry of value.split(',').map((u) => u.trim())) {
    if (!URL.canParse(entry)) return `has an entry that is not a URL (${entry})`;
    const url = new URL(entry);
    if (url.protocol !== 'https:') return `must be https URLs (${entry})`;
    if (PLACEHOLDER.test(url.hostname)) return `is a placeholder (${entry})`;
  }
  return undefined;
}

function checkField(field: Field, value: string, region: string): string | undefined {
  if (PLACEHOLDER.test(value)) return `is a placeholder (${value})`;
  switch (field) {
    case 'region':
      return REGION.test(value) ? undefined : `is not an AWS region (${value})`;
    case 'availabilityZones': {
      const zones = value.split(',').map((z) => z.trim());
      if (zones.length !== 2 || new Set(zones).size !== 2) return 'must name exactly two AZs';
      const outside = zones.find((z) => !new RegExp(`^${region}[a-z]$`).test(z));
      return outside ? `has ${outside}, which is not an AZ of ${region}` : undefined;
    }
    case 'jwtJwksUrl':
      return checkHttpsUrls(value);
    case 'jwtIssuer':
      return URL.canParse(value) ? undefined : 'is not a URL (the `iss` the provider writes)';
    case 'jwtAudience':
      return value.split(',').every((a) => a.trim()) ? undefined : 'has an empty entry';
    case 'jwtAudienceClaim':
    case 'jwtUserIdClaim':
    case 'jwtRoleClaim':
    case 'jwtCompanyClaim':
      return CLAIM.test(value) ? undefined : 'is not a claim name';
    case 'jwtRoleMap':
      return value.split(',').every((e) => {
        const at = e.lastIndexOf('=');
        return at > 0 && ROLES.includes(e.slice(at + 1).trim());
      })
        ? undefined
        : `must be <provider value>=<${ROLES.join('|')}>, comma-separated`;
    case 'jwtDefaultRole':
      return ROLES.includes(value) ? undefined : `must be one of ${ROLES.join(', ')}`;
    case 'serviceTokenSecretArn':
    case 'webhookSecretArn':
      return checkSecretArn(value, region);
    case 'webhookUrls':
      return checkHttpsUrls(value);
    case 'domainName':
      return HOSTNAME.test(value) ? undefined : `is not a host name (${value})`;
    case 'hostedZoneId':
      return ZONE_ID.test(value) ? undefined : 'is not a Route 53 hosted zone id (Z...)';
    case 'alarmEmail':
      return EMAIL.test(value) ? undefined : 'is not an e-mail address';
    case 'clientUrl':
      for (const origin of value.split(',').map((o) => o.trim())) {
        let url: URL;
        try {
          url = new URL(origin);
        } catch {
          return `has an origin that is not a URL (${origin})`;
        }
        if (url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash)
          return `must be https origins without a path (${origin})`;
        if (PLACEHOLDER.test(url.hostname)) return `is a placeholder (${origin})`;
      }
      return undefined;
    case 'jwtSecretArn':
      return checkSecretArn(value, region);
    case 'jwtSecretKmsKeyArn':
      return KMS_ARN.test(value) ? undefined : 'is not a KMS key ARN';
    case 'amiId':
      return AMI_ID.test(value) ? undefined : 'is not an AMI id (ami-...)';
    case 'stateBucket':
      return BUCKET.test(value) ? undefined : 'is not an S3 bucket name';
    case 'docdbSnapshotIdentifier':
      return SNAPSHOT.test(value) ? undefined : 'is not a DocumentDB snapshot identifier or ARN';
  }
}

type RawInputs = Partial<Record<Field, unknown>>;
interface InputsFile extends RawInputs {
  readonly dev?: RawInputs;
  readonly prod?: RawInputs;
}

export interface LoadInputsOptions {
  readonly environments: readonly EnvironmentConfig[];
  /** Parsed inputs file, or undefined when there is none. */
  readonly file?: InputsFile | undefined;
  /** CHAT_ENV and the CHAT_* variables. */
  readonly env: Record<string, string | undefined>;
}

/**
 * Resolves every selected environment's inputs: file values per environment, top-level file
 * values shared by all (e.g. one state bucket), CHAT_* variables for the CHAT_ENV environment.
 * Throws one {@link InputsError} naming every missing, malformed or placeholder input.
 */
export function resolveInputs(
  options: LoadInputsOptions,
): Record<EnvironmentName, DeployInputs | undefined> {
  const problems: string[] = [];
  const result: Record<EnvironmentName, DeployInputs | undefined> = {
    dev: undefined,
    prod: undefined,
  };
  const fromEnvFor = options.env.CHAT_ENV;
  for (const config of options.environments) {
    const perEnv = options.file?.[config.name] ?? {};
    const values: Partial<Record<Field, string>> = {};
    for (const field of Object.keys(INPUT_VARIABLES) as Field[]) {
      const variable = INPUT_VARIABLES[field];
      const fromEnv = fromEnvFor === config.name ? options.env[variable]?.trim() : undefined;
      const raw = fromEnv || perEnv[field] || options.file?.[field];
      if (raw === undefined || raw === '') {
        if (REQUIRED.includes(field))
          problems.push(`${config.name}.${field} (${variable}) missing`);
        continue;
      }
      if (typeof raw !== 'string') {
        problems.push(`${config.name}.${field} must be a string`);
        continue;
      }
      const problem = checkField(field, raw.trim(), values.region ?? config.region);
      if (problem) problems.push(`${config.name}.${field} ${problem}`);
      else values[field] = raw.trim();
    }
    // Who signs the users' tokens: a shared secret, a provider's keys, or both.
    const where = (field: Field) => `${config.name}.${field} (${INPUT_VARIABLES[field]})`;
    if (
      !values.jwtSecretArn &&
      !values.jwtJwksUrl &&
      !problems.some((p) => /\.jwt(SecretArn|JwksUrl) /.test(p))
    )
      problems.push(`${where('jwtSecretArn')} or ${where('jwtJwksUrl')} missing`);
    if (values.jwtJwksUrl)
      for (const field of ['jwtIssuer', 'jwtAudience'] as const)
        if (!values[field] && !problems.some((p) => p.startsWith(`${config.name}.${field} `)))
          problems.push(`${where(field)} missing (required with jwtJwksUrl)`);
    if (values.webhookSecretArn && !values.webhookUrls)
      problems.push(`${where('webhookUrls')} missing (webhookSecretArn is set)`);
    if (problems.length === 0) result[config.name] = values as DeployInputs;
  }
  if (problems.length > 0) {
    const nothingGiven =
      options.file === undefined &&
      Object.values(INPUT_VARIABLES).every((variable) => !options.env[variable]);
    throw nothingGiven
      ? new InputsError(
          problems,
          `no deploy inputs for ${options.environments.map((c) => c.stackName).join(', ')} (domain, hosted zone, alarm e-mail, client URL, JWT secret or JWKS, AMI, state bucket)`,
        )
      : new InputsError(problems);
  }
  return result;
}

/** Reads the inputs file when it exists; a file that is not valid JSON is an error, not "absent". */
export function readInputsFile(path: string): InputsFile | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: InputsFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as InputsFile;
  } catch (error) {
    throw new InputsError([`${path} is not valid JSON (${(error as Error).message})`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InputsError([`${path} must hold a JSON object`]);
  return parsed;
}
