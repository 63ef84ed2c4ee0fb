/**
 * FerretDB for tests: an independent MongoDB-compatible server (FerretDB v1 with its SQLite
 * backend: one Go binary, no other service), written by people who never saw this project, that
 * runs every connection's commands concurrently. The store suites run on it beside the emulator
 * of this package so a rule the two of them share by accident cannot hide a bug.
 *
 * The binary is built once from the Go module proxy by scripts/build-ferretdb.sh into
 * `${XDG_CACHE_HOME:-~/.cache}/jobsphere/go` and reused (FERRETDB_BIN names another one).
 * What FerretDB v1 does not do that the store relies on is listed in FERRETDB_GAPS below.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort } from '../ports.js';
import { ManagedProcess } from '../process.js';
import { waitUntil } from '../wait.js';
import { mongoCommand, type MongoHandle, type StartMongoOptions } from './index.js';

/** The FerretDB release the tests build and run. */
export const FERRETDB_VERSION = 'v1.24.0';

export interface FerretDBHandle extends MongoHandle {
  backend: 'ferretdb';
  port: number;
  /** As FerretDB reports it (`buildInfo.ferretdbVersion`), e.g. "v1.24.0". */
  version: string;
}

/** The build script, from dist/mongo/ as from src/mongo/. */
export function ferretdbBuildScript(): string {
  return fileURLToPath(new URL('../../scripts/build-ferretdb.sh', import.meta.url));
}

let binary: Promise<string> | undefined;

/**
 * The path of the FerretDB binary, built on first use (minutes, once per machine; the script
 * prints what it did and how long it took, and serializes concurrent builds with a lock).
 */
export function ferretdbBinary(): Promise<string> {
  binary ??= new Promise<string>((resolve, reject) => {
    execFile(
      'bash',
      [ferretdbBuildScript()],
      { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // The build's own account (what it built, how long it took) belongs in the test output.
        const account = stderr
          .split('\n')
          .filter((line) => line.startsWith('build-ferretdb:'))
          .join('\n');
        if (account) console.log(account);
        if (error) reject(new Error(`building FerretDB failed: ${error.message}\n${stderr}`));
        else resolve(stdout.trim().split('\n').at(-1)!);
      },
    );
  });
  binary.catch(() => {
    binary = undefined;
  });
  return binary;
}

const READY = /Listening on TCP /;

/**
 * FerretDB on a free loopback port over a temp SQLite folder (removed on stop/kill), no auth,
 * no telemetry, no debug listener. Resolves once it answers `hello` as a writable primary.
 */
export async function startFerretDB(opts: StartMongoOptions = {}): Promise<FerretDBHandle> {
  const bin = await ferretdbBinary();
  const port = await getFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-ferretdb-'));
  const proc = new ManagedProcess({
    command: bin,
    args: [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=info',
    ],
    readyPattern: READY,
    readyTimeoutMs: 30_000,
    tempDirs: [dir],
  });
  let version: string;
  try {
    await proc.start();
    await waitUntil(
      `FerretDB answering hello on 127.0.0.1:${port}`,
      async () =>
        (await mongoCommand('127.0.0.1', port, { hello: 1, $db: 'admin' }, 2_000))[
          'isWritablePrimary'
        ] === true,
      15_000,
      25,
    );
    const info = await mongoCommand('127.0.0.1', port, { buildInfo: 1, $db: 'admin' });
    const reported = info['ferretdbVersion'];
    if (typeof reported !== 'string' || !reported.startsWith('v1.'))
      throw new Error(
        `expected FerretDB v1 on 127.0.0.1:${port}, buildInfo says ${JSON.stringify(reported)}`,
      );
    version = reported;
  } catch (error) {
    await proc.dispose();
    throw error;
  }
  return {
    uri: `mongodb://127.0.0.1:${port}/${encodeURIComponent(opts.dbName ?? 'test')}`,
    backend: 'ferretdb',
    port,
    version,
    description: `FerretDB ${version} (SQLite backend, ${bin}) on 127.0.0.1:${port}`,
    pid: proc.pid,
    stop: () => proc.dispose(),
    kill: async () => {
      await proc.kill();
      proc.disposeSync();
    },
    pause: () => proc.pause(),
    resume: () => proc.resume(),
  };
}
