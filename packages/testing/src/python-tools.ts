import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The command-line programs of the outside judges' virtual environment. */
export type PythonTool = 'checkov' | 'schemathesis';

const script = fileURLToPath(new URL('../../../scripts/python-tools.sh', import.meta.url));
let venv: string | undefined;

/**
 * Path of a program from the pinned virtual environment that scripts/python-tools.sh creates
 * outside the clone (or reuses: a second run costs a hash of two files). Its progress (what it
 * installed, how long it took) goes to this process's stderr.
 */
export function pythonTool(tool: PythonTool): string {
  venv ??= execFileSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const path = join(venv, 'bin', tool);
  if (!existsSync(path)) throw new Error(`${path} missing: rerun scripts/python-tools.sh`);
  return path;
}
