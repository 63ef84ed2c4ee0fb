// Watch mode: `tsc --watch` compiles into dist/; once its first build is done, node runs the
// gateway and restarts it whenever dist/ changes. (Starting node before that first build would
// restart it right away.)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const children = [];
const stop = () => {
  for (const child of children) child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const compiler = spawn(
  process.execPath,
  [tsc, '-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
children.push(compiler);
let started = false;
compiler.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (started || !/Found \d+ errors?/.test(chunk.toString())) return;
  started = true;
  const gateway = spawn(
    process.execPath,
    ['--watch-path=dist', '--watch-preserve-output', 'dist/main.js'],
    // The try page and /dev/token exist only when NODE_ENV says development (or test) explicitly.
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV || 'development' } },
  );
  children.push(gateway);
  gateway.on('exit', stop);
});
compiler.on('exit', stop);
