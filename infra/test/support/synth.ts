import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'cdktf';
import { environments, type EnvironmentName } from '../../src/config/environments.js';
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
export const placeholderBundle = join(infraDir, 'assets', 'placeholder-gateway');

/** Synthesizes both stacks once into a throwaway directory and returns their parsed JSON. */
export function synthAll(): Record<EnvironmentName, TerraformJson> {
  const outdir = mkdtempSync(join(tmpdir(), 'jobsphere-infra-'));
  try {
    const app = new App({ outdir });
    for (const config of Object.values(environments)) {
      new ChatStack(app, config.stackName, { config, bundleDir: placeholderBundle });
    }
    app.synth();
    const read = (name: EnvironmentName) =>
      JSON.parse(
        readFileSync(join(outdir, 'stacks', environments[name].stackName, 'cdk.tf.json'), 'utf8'),
      ) as TerraformJson;
    return { dev: read('dev'), prod: read('prod') };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Every resource of a type, keyed by its construct path below the stack (e.g. `security/alb`). */
export function resources(json: TerraformJson, type: string): Record<string, Attributes> {
  const byId = json.resource[type] ?? {};
  return Object.fromEntries(
    Object.values(byId).map((attrs) => {
      const path = (attrs['//'] as { metadata: { path: string } }).metadata.path
        .split('/')
        .slice(1)
        .join('/');
      return [path, attrs];
    }),
  );
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
    const meta = (attrs['//'] as { metadata: { path: string } }).metadata.path;
    if (meta.split('/').slice(1).join('/') === path) return `\${${type}.${id}.${attribute}}`;
  }
  throw new Error(`no ${type} at ${path}`);
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
