import { fileURLToPath } from 'node:url';
import { App } from 'cdktf';
import { environments } from './config/environments.js';
import { resolveBundle } from './bundle.js';
import { assertSafeSynth } from './guard/synth-guard.js';
import { ChatStack } from './stack.js';

const bundle = resolveBundle({
  infraDir: fileURLToPath(new URL('..', import.meta.url)),
  bundleDir: process.env.GATEWAY_BUNDLE_DIR || undefined,
  requireBundle: process.env.CHAT_REQUIRE_BUNDLE === '1',
});
if (bundle.placeholder)
  console.warn(`synth: gateway bundle not built, using the placeholder (${bundle.dir})`);

const app = new App();
for (const config of Object.values(environments)) {
  new ChatStack(app, config.stackName, { config, bundleDir: bundle.dir });
}
app.synth();
const stacks = assertSafeSynth(app.outdir);
console.log(`synth: ${stacks.join(', ')} -> ${app.outdir} (guard passed)`);
