import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'cdktf';
import { GATEWAY_BUNDLE, ROTATION_BUNDLE, resolveBundle } from '../../src/bundle.js';
import {
  environments,
  type EnvironmentConfig,
  type EnvironmentName,
} from '../../src/config/environments.js';
import type { DeployInputs } from '../../src/config/inputs.js';
import { ChatStack } from '../../src/stack.js';

export type Attributes = Record<string, unknown>;
export interface TerraformJson {
  resource: Record<string, Record<string, Attributes>>;
  data: Record<string, Record<string, Attributes>>;
  output: Record<string, Attributes>;
  provider: Record<string, Attributes[]>;
  terraform: Attributes;
}

export const infraDir = fileURLToPath(new URL('../..', import.meta.url));
export const repoDir = join(infraDir, '..');

// Inputs of a made-up account (no placeholder values), as an operator's deploy-inputs.json holds.
export const testInputs: Record<EnvironmentName, DeployInputs> = {
  dev: {
    domainName: 'chat.dev.jobsphere-test.net',
    hostedZoneId: 'Z04TESTZONE0000001',
    alarmEmail: 'chat-dev-alerts@jobsphere-test.net',
    clientUrl: 'https://dev.jobsphere-test.net',
    jwtSecretArn:
      'arn:aws:secretsmanager:us-east-1:210987654321:secret:jobsphere/identity/jwt-dev-AbCdEf',
    amiId: 'ami-0fedcba9876543210',
    stateBucket: 'jobsphere-chat-tfstate-210987654321-us-east-1',
  },
  prod: {
    domainName: 'chat.jobsphere-test.net',
    hostedZoneId: 'Z04TESTZONE0000002',
    alarmEmail: 'chat-alerts@jobsphere-test.net',
    clientUrl: 'https://jobsphere-test.net',
    jwtSecretArn:
      'arn:aws:secretsmanager:us-east-1:210987654321:secret:jobsphere/identity/jwt-prod-AbCdEf',
    amiId: 'ami-0fedcba9876543210',
    stateBucket: 'jobsphere-chat-tfstate-210987654321-us-east-1',
  },
};

/** Writes the test inputs as an inputs file (for the entry point and the scripts). */
export function writeInputsFile(dir: string): string {
  const path = join(dir, 'deploy-inputs.json');
  const { stateBucket, ...dev } = testInputs.dev;
  const { stateBucket: _same, ...prod } = testInputs.prod;
  writeFileSync(path, JSON.stringify({ stateBucket, dev, prod }, null, 2));
  return path;
}

// Always the committed placeholders: a bundle someone built must not change what tests see.
const bundles = {
  gateway: resolveBundle(GATEWAY_BUNDLE, {
    infraDir,
    bundleDir: GATEWAY_BUNDLE.placeholderDir,
  }),
  rotation: resolveBundle(ROTATION_BUNDLE, {
    infraDir,
    bundleDir: ROTATION_BUNDLE.placeholderDir,
  }),
};

/** Synthesizes stacks into a throwaway directory and returns their parsed JSON. */
export function synth(
  configs: Partial<Record<EnvironmentName, EnvironmentConfig>> = environments,
  inputs: Partial<Record<EnvironmentName, DeployInputs>> = testInputs,
): Partial<Record<EnvironmentName, TerraformJson>> {
  const outdir = mkdtempSync(join(tmpdir(), 'jobsphere-infra-'));
  try {
    const app = new App({ outdir });
    for (const config of Object.values(configs)) {
      new ChatStack(app, config.stackName, {
        config,
        inputs: inputs[config.name] ?? testInputs[config.name],
        gatewayBundle: bundles.gateway,
        rotationBundle: bundles.rotation,
      });
    }
    app.synth();
    return Object.fromEntries(
      Object.values(configs).map((config) => [
        config.name,
        JSON.parse(
          readFileSync(join(outdir, 'stacks', config.stackName, 'cdk.tf.json'), 'utf8'),
        ) as TerraformJson,
      ]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Both shipped stacks. */
export function synthAll(): Record<EnvironmentName, TerraformJson> {
  const all = synth();
  return { dev: all.dev!, prod: all.prod! };
}

/** Every resource of a type, keyed by its construct path below the stack (e.g. `security/alb`). */
export function resources(json: TerraformJson, type: string): Record<string, Attributes> {
  const byId = json.resource[type] ?? {};
  return Object.fromEntries(Object.values(byId).map((attrs) => [pathOf(attrs), attrs]));
}

/** Every data source of a type, keyed by construct path. */
export function dataSources(json: TerraformJson, type: string): Record<string, Attributes> {
  const byId = json.data[type] ?? {};
  return Object.fromEntries(Object.values(byId).map((attrs) => [pathOf(attrs), attrs]));
}

function pathOf(attrs: Attributes): string {
  return (attrs['//'] as { metadata: { path: string } }).metadata.path
    .split('/')
    .slice(1)
    .join('/');
}

/** The one resource of a type; fails if there are none or several. */
export function only(json: TerraformJson, type: string): Attributes {
  const all = Object.values(resources(json, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0]!;
}

/** `${aws_security_group.security_alb_XXXX.id}` -> the Terraform reference of a construct path. */
export function ref(json: TerraformJson, type: string, path: string, attribute = 'id'): string {
  for (const [id, attrs] of Object.entries(json.resource[type] ?? {})) {
    if (pathOf(attrs) === path) return `\${${type}.${id}.${attribute}}`;
  }
  throw new Error(`no ${type} at ${path}`);
}

/** Decoded user data of the launch template. */
export function userDataOf(json: TerraformJson): string {
  return Buffer.from(String(only(json, 'aws_launch_template').user_data), 'base64').toString(
    'utf8',
  );
}

/** Replaces content hashes and machine paths so snapshots survive a rebuilt bundle or a new clone. */
export function normalize(json: TerraformJson): unknown {
  const text = JSON.stringify(json)
    .replaceAll(infraDir.replace(/\/$/, ''), '<infra>')
    .replace(/[0-9A-F]{32}/g, '<asset-hash>');
  return JSON.parse(text, (key, value: unknown) =>
    key === 'user_data' && typeof value === 'string'
      ? Buffer.from(value, 'base64')
          .toString('utf8')
          .replace(/[0-9A-F]{32}/g, '<asset-hash>')
      : value,
  );
}
