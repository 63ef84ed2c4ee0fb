import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `pnpm dev:cluster` runs `exec node dist/cli.js`. Stopped with Ctrl-C (SIGINT to the terminal's
// whole process group) or SIGTERM (what a process manager sends), it stops every service it
// started, nginx's workers included, removes its folders (the secret file is in one), and exits 0.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const STOP_BOUND_MS = 30_000;

/** Every live descendant of `root`, read from /proc (the services lead process groups of their own). */
function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

function alive(pid: number): boolean {
  try {
    // A zombie is dead for every purpose here (it holds no port and no file).
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** What the stack leaves on disk while it runs: the secret file, nginx's prefix folder (`-p`). */
function pathsOf(pids: number[], banner: string): string[] {
  const paths = new Set<string>();
  const secretFile = /JWT_SECRET="\$\(cat (\S+)\)"/.exec(banner)?.[1];
  if (secretFile) paths.add(secretFile);
  for (const pid of pids) {
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    // nginx rewrites its title ("nginx: master process /usr/sbin/nginx -p <dir> ..."); redis has --dir.
    for (const match of command.matchAll(/(?:^| )(?:-p|--dir) (\/\S+)/g)) paths.add(match[1]!);
  }
  return [...paths];
}

async function runAndStop(stop: (pid: number) => void) {
  // Its own process group, as a terminal gives a foreground job; stdin stays open (a closed stdin
  // also stops it, which is not what is tested here).
  const cli = spawn(process.execPath, [CLI], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      ...(process.env.NGINX_BIN && { NGINX_BIN: process.env.NGINX_BIN }),
    },
  });
  let output = '';
  cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    cli.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const pid = cli.pid!;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not up in 60 s:\n${output}`)), 60_000);
      const check = () => {
        if (!output.includes('Ctrl-C stops everything')) return;
        clearTimeout(timer);
        cli.stdout.off('data', check);
        resolve();
      };
      cli.stdout.on('data', check);
      void exited.then(() => reject(new Error(`exited before it was up:\n${output}`)));
    });
    const children = descendants(pid);
    const paths = pathsOf(children, output);
    const started = Date.now();
    stop(pid);
    let bound: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      exited,
      new Promise<never>((_, reject) => {
        bound = setTimeout(
          () => reject(new Error(`still running ${STOP_BOUND_MS} ms after the signal`)),
          STOP_BOUND_MS,
        );
      }),
    ]).finally(() => clearTimeout(bound));
    return { result, children, paths, stopMs: Date.now() - started, output };
  } finally {
    // Whatever the outcome, nothing of this test outlives it.
    for (const child of descendants(pid)) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
    cli.stdin.destroy();
  }
}

describe('pnpm dev:cluster stops cleanly', () => {
  it.each([
    ['Ctrl-C (SIGINT to the whole process group)', (pid: number) => process.kill(-pid, 'SIGINT')],
    ['kill -INT of the process alone', (pid: number) => process.kill(pid, 'SIGINT')],
    ['SIGTERM', (pid: number) => process.kill(pid, 'SIGTERM')],
  ])(
    'on %s: exit 0, no process and no file left',
    async (_how, stop) => {
      const { result, children, paths, stopMs, output } = await runAndStop(stop);
      // gateways (2), their watchers, nginx master and worker, redis, the MongoDB double
      expect(children.length).toBeGreaterThanOrEqual(7);
      expect(paths.length).toBeGreaterThanOrEqual(2);
      expect({ ...result, output: result.code === 0 ? '' : output }).toEqual({
        code: 0,
        signal: null,
        output: '',
      });
      expect(children.filter(alive)).toEqual([]);
      expect(paths.filter((p) => existsSync(p))).toEqual([]);
      console.log(
        `stopped ${children.length} processes and removed ${paths.length} paths (the secret file, nginx's folder) in ${stopMs} ms`,
      );
    },
    120_000,
  );
});
