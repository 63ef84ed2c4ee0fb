import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const SHELLCHECK = process.env.SHELLCHECK_BIN ?? '/usr/bin/shellcheck';

function checkShellcheck(): void {
  if (!existsSync(SHELLCHECK)) {
    throw new Error(
      `shellcheck not found at ${SHELLCHECK}: install it (apt-get install -y shellcheck) or set SHELLCHECK_BIN`,
    );
  }
}

/** shellcheck over a script's text (as bash, every severity). */
export function shellcheck(source: string): { status: number | null; output: string } {
  checkShellcheck();
  const result = spawnSync(SHELLCHECK, ['--shell=bash', '--severity=style', '-'], {
    input: source,
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

/**
 * shellcheck over a script file, following what it sources (`# shellcheck source=` paths are
 * relative to the script's folder).
 */
export function shellcheckFile(path: string): { status: number | null; output: string } {
  checkShellcheck();
  const result = spawnSync(
    SHELLCHECK,
    ['--shell=bash', '--severity=style', '--external-sources', basename(path)],
    { cwd: dirname(path), encoding: 'utf8' },
  );
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

/**
 * A stand-in for a CLI (aws, terraform) on PATH: a bash script that appends its arguments, one
 * call per line, to `<dir>/<name>.calls` and then runs `behaviour` (bash) to answer.
 */
export function fakeCommand(binDir: string, name: string, behaviour: string): string {
  mkdirSync(binDir, { recursive: true });
  const calls = join(binDir, `${name}.calls`);
  const path = join(binDir, name);
  writeFileSync(
    path,
    `#!/usr/bin/env bash\nset -euo pipefail\nprintf '%s\\n' "$*" >> '${calls}'\n${behaviour}\n`,
  );
  chmodSync(path, 0o755);
  return calls;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion with a deadline (killed, and reported, when it passes). */
export function run(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs: number },
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Its own process group, so a deadline ends the whole tree, not only the shell.
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(
        new Error(
          `${command} ${args.join(' ')} did not finish in ${options.timeoutMs} ms:\n${stdout}\n${stderr}`,
        ),
      );
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
