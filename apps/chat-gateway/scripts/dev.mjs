// Watch mode: tsc recompiles into dist/, node restarts the gateway when dist/ changes.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const run = (args) => spawn(process.execPath, args, { stdio: 'inherit' });

const build = run([tsc, '-p', 'tsconfig.build.json']);
build.on('exit', (code) => {
  if (code !== 0) process.exit(code ?? 1);
  const children = [
    run([tsc, '-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput']),
    run(['--watch-path=dist', '--watch-preserve-output', 'dist/main.js']),
  ];
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (const child of children)
    child.on('exit', () => {
      stop();
      process.exitCode = 0;
    });
});
