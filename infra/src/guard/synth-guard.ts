import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** Ports that must never be reachable from the whole internet. */
export const DATA_PORTS = [22, 4000, 6379, 27017] as const;

const OPEN_CIDRS = new Set(['0.0.0.0/0', '::/0']);
/** Attribute names that carry a credential; a literal string there is a leaked secret. */
const SECRET_KEY =
  /(^|_)(password|auth_token|secret_string|secret_binary|private_key|client_secret|secret_key|access_key|token)$/i;
/** Output names that suggest a credential (ARNs and ids of secrets are fine). */
const SECRET_OUTPUT = /(password|token|secret)(?!.*_(arn|id|name)$)/i;

export interface GuardViolation {
  readonly stack: string;
  readonly path: string;
  readonly message: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: Json | undefined): Json[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];
const strings = (value: Json | undefined): string[] =>
  asArray(value).filter((v): v is string => typeof v === 'string');
/** A Terraform expression (`${...}`) is a reference resolved at apply time, not a literal. */
const isLiteral = (value: string) => value.length > 0 && !value.includes('${');

/**
 * A JSON document whose credential fields are all empty holds no secret: a secret's first version
 * that only names the user (the rotation function sets the password).
 */
function holdsNoCredential(value: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
  return Object.entries(parsed).every(
    ([key, field]) => !CREDENTIAL_FIELD.test(key) || field === '' || field === null,
  );
}
const CREDENTIAL_FIELD = /password|token|secret|key/i;

function exposedDataPorts(rule: JsonObject): number[] {
  const raw = rule.ip_protocol ?? rule.protocol ?? 'tcp';
  const protocol = (
    typeof raw === 'string' || typeof raw === 'number' ? String(raw) : ''
  ).toLowerCase();
  if (protocol === '-1' || protocol === 'all') return [...DATA_PORTS];
  if (protocol !== 'tcp' && protocol !== '6') return [];
  const from = Number(rule.from_port ?? 0);
  const to = Number(rule.to_port ?? 65535);
  return DATA_PORTS.filter((port) => port >= from && port <= to);
}

function openSources(rule: JsonObject): string[] {
  return [
    ...strings(rule.cidr_ipv4),
    ...strings(rule.cidr_ipv6),
    ...strings(rule.cidr_blocks),
    ...strings(rule.ipv6_cidr_blocks),
  ].filter((cidr) => OPEN_CIDRS.has(cidr));
}

function* ingressRules(resources: JsonObject): Generator<[string, JsonObject]> {
  for (const [type, byName] of Object.entries(resources)) {
    if (!isObject(byName)) continue;
    for (const [name, resource] of Object.entries(byName)) {
      if (!isObject(resource)) continue;
      const path = `${type}.${name}`;
      if (type === 'aws_vpc_security_group_ingress_rule') yield [path, resource];
      if (type === 'aws_security_group_rule' && resource.type === 'ingress') yield [path, resource];
      if (type === 'aws_security_group') {
        for (const [i, inline] of asArray(resource.ingress).entries()) {
          if (isObject(inline)) yield [`${path}.ingress[${i}]`, inline];
        }
      }
    }
  }
}

function* literalSecrets(node: Json, path: string): Generator<string> {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) yield* literalSecrets(item, `${path}[${i}]`);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      const here = path ? `${path}.${key}` : key;
      if (
        typeof value === 'string' &&
        SECRET_KEY.test(key) &&
        isLiteral(value) &&
        !holdsNoCredential(value)
      )
        yield here;
      else yield* literalSecrets(value, here);
    }
  }
}

/** Checks one stack's synthesized Terraform JSON. */
export function findViolations(stack: string, synthesized: unknown): GuardViolation[] {
  const root = synthesized as JsonObject;
  const violations: GuardViolation[] = [];
  const resources = isObject(root.resource) ? root.resource : {};
  for (const [path, rule] of ingressRules(resources)) {
    const sources = openSources(rule);
    const ports = exposedDataPorts(rule);
    if (sources.length > 0 && ports.length > 0) {
      violations.push({
        stack,
        path,
        message: `opens port(s) ${ports.join(', ')} to ${sources.join(', ')}`,
      });
    }
  }
  const outputs = isObject(root.output) ? root.output : {};
  for (const [name, output] of Object.entries(outputs)) {
    const value = isObject(output) ? output.value : undefined;
    if (SECRET_OUTPUT.test(name) && typeof value === 'string' && isLiteral(value)) {
      violations.push({ stack, path: `output.${name}`, message: 'outputs a literal secret value' });
    }
  }
  for (const section of ['resource', 'data', 'provider', 'output', 'locals', 'variable'] as const) {
    for (const path of literalSecrets(root[section] ?? null, section)) {
      violations.push({ stack, path, message: 'holds a literal secret value' });
    }
  }
  return violations;
}

/** Runs the guard over every stack in a cdktf output directory; throws listing all violations. */
export function assertSafeSynth(outdir: string): string[] {
  const stacksDir = join(outdir, 'stacks');
  const stacks = existsSync(stacksDir) ? readdirSync(stacksDir) : [];
  if (stacks.length === 0) throw new Error(`synth guard: no stacks under ${stacksDir}`);
  const violations = stacks.flatMap((stack) =>
    findViolations(stack, JSON.parse(readFileSync(join(stacksDir, stack, 'cdk.tf.json'), 'utf8'))),
  );
  if (violations.length > 0) {
    const lines = violations.map((v) => `  ${v.stack}: ${v.path} ${v.message}`);
    throw new Error(`synth guard failed:\n${lines.join('\n')}`);
  }
  return stacks;
}
