import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'cdktf';
import { GATEWAY_BUNDLE, ROTATION_BUNDLE, resolveBundle } from './bundle.js';
import { ENVIRONMENT_NAMES, environments, type EnvironmentName } from './config/environments.js';
import {
  DEFAULT_INPUTS_FILE,
  InputsError,
  readInputsFile,
  resolveInputs,
} from './config/inputs.js';
import { assertSafeSynth } from './guard/synth-guard.js';
import { ChatStack } from './stack.js';

// The entry point: the only place that reads the process environment.
const env = process.env;
const infraDir = fileURLToPath(new URL('..', import.meta.url));

function fail(message: string): never {
  console.error(`synth: ${message}`);
  process.exit(1);
}

const chatEnv = env.CHAT_ENV || undefined;
if (chatEnv !== undefined && !ENVIRONMENT_NAMES.includes(chatEnv as EnvironmentName))
  fail(`CHAT_ENV must be one of ${ENVIRONMENT_NAMES.join(', ')} (got "${chatEnv}")`);
const selected = chatEnv ? [environments[chatEnv as EnvironmentName]] : Object.values(environments);

let inputs;
try {
  const file = readInputsFile(env.CHAT_INPUTS_FILE || join(infraDir, DEFAULT_INPUTS_FILE));
  inputs = resolveInputs({ environments: selected, file, env });
} catch (error) {
  if (error instanceof InputsError) fail(error.message);
  throw error;
}

const requireBundle = env.CHAT_REQUIRE_BUNDLE === '1';
let gatewayBundle, rotationBundle;
try {
  gatewayBundle = resolveBundle(GATEWAY_BUNDLE, {
    infraDir,
    bundleDir: env.GATEWAY_BUNDLE_DIR || undefined,
    requireBundle,
  });
  rotationBundle = resolveBundle(ROTATION_BUNDLE, {
    infraDir,
    bundleDir: env.ROTATION_BUNDLE_DIR || undefined,
    requireBundle,
  });
} catch (error) {
  fail((error as Error).message);
}
for (const bundle of [gatewayBundle, rotationBundle]) {
  if (bundle.placeholder)
    console.warn(`synth: bundle not built, using the placeholder ${bundle.dir}`);
  else console.log(`synth: bundle ${bundle.dir} hash ${bundle.hash}`);
}

const app = new App();
// Stacks synthesized by an earlier run must not linger next to this run's (a deploy reads them).
rmSync(join(app.outdir, 'stacks'), { recursive: true, force: true });
mkdirSync(join(app.outdir, 'stacks'), { recursive: true });
for (const config of selected) {
  new ChatStack(app, config.stackName, {
    config,
    inputs: inputs[config.name]!,
    gatewayBundle,
    rotationBundle,
  });
}
app.synth();
const stacks = assertSafeSynth(app.outdir);
console.log(`synth: ${stacks.join(', ')} -> ${app.outdir} (guard passed)`);
