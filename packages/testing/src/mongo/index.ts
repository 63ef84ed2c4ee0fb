/**
 * Throwaway MongoDB for tests. `startMongo()`: the server in MONGODB_URI (a fresh database on it)
 * when set, else the project's emulator (the Node wire server, src/mongo/wire: concurrent, with
 * DocumentDB's rules and fault modes on request). The store suites run on `mongoServers()`
 * (matrix.ts): the emulator and FerretDB (ferretdb.ts). Print `handle.description` so a run
 * says which server it used.
 */
import { waitUntil } from '../wait.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { BSON } from 'bson';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getFreePort } from '../ports.js';
import { ManagedProcess } from '../process.js';
import { generateTlsMaterial } from '../redis/tls.js';
import type {
  ExaminedCommand,
  FaultMode,
  FaultOptions,
  TracedCommand,
  WireServerStats,
} from './wire/server.js';

export {
  MongoWireServer,
  type ExaminedCommand,
  type FaultMode,
  type FaultOptions,
  type TracedCommand,
  type WireServerOptions,
  type WireServerStats,
} from './wire/server.js';
export {
  FERRETDB_VERSION,
  ferretdbBinary,
  startFerretDB,
  type FerretDBHandle,
} from './ferretdb.js';
export { mongoServers, type MongoServerKind } from './matrix.js';

export interface MongoHandle {
  /** Connection string including the database name. */
  uri: string;
  /**
   * 'real': MONGODB_URI; 'wire-server': the Node wire server of this package (the emulator);
   * 'ferretdb': FerretDB v1 over SQLite (ferretdb.ts), an independent server.
   */
  backend: 'real' | 'wire-server' | 'ferretdb';
  /** Human-readable: which server this is (print it in test output). */
  description: string;
  /** Pid of the server process started for this handle (undefined for MONGODB_URI). */
  pid?: number;
  /** Graceful end: stops the process and removes its temp folder, or drops the database on MONGODB_URI. */
  stop(): Promise<void>;
  /** Abrupt death (SIGKILL) plus cleanup. Rejects on MONGODB_URI: that server is not ours to kill. */
  kill(): Promise<void>;
  /**
   * SIGSTOP / SIGCONT: the server stops answering with its connections left open (a stall),
   * then goes on. Throws on MONGODB_URI: that server is not ours to stop.
   */
  pause(): void;
  resume(): void;
}

export interface StartMongoOptions {
  /** Database name in `uri` (default "test"). On MONGODB_URI it gets a unique suffix. */
  dbName?: string;
}

const DEFAULT_DB = 'test';

/** A MongoDB for tests: MONGODB_URI (a fresh uniquely named database, dropped on stop), else the emulator. */
export async function startMongo(opts: StartMongoOptions = {}): Promise<MongoHandle> {
  const uri = process.env['MONGODB_URI'];
  if (uri) return useExistingMongo(uri, opts);
  return startMongoWireServer(opts);
}

// ---------------------------------------------------------------------------------------------
// MONGODB_URI

/** A fresh, uniquely named database on an existing server; `stop()` drops it. */
export async function useExistingMongo(
  baseUri: string,
  opts: StartMongoOptions = {},
): Promise<MongoHandle> {
  const prefix = (opts.dbName ?? DEFAULT_DB).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 20);
  const dbName = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const uri = withDatabase(baseUri, dbName);
  // Fail now, not at stop(), if the driver needed to drop the database cannot be found.
  const MongoClient = await loadMongoClient();
  let dropped: Promise<void> | undefined;
  return {
    uri,
    backend: 'real',
    description: `MongoDB from MONGODB_URI (${redact(baseUri)}), database ${dbName}`,
    stop: () => {
      dropped ??= (async () => {
        const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
        try {
          await client.connect();
          await client.db(dbName).dropDatabase();
        } finally {
          await client.close();
        }
      })();
      return dropped;
    },
    kill: () =>
      Promise.reject(new Error('kill() is not possible on a MONGODB_URI server; call stop()')),
    pause: () => {
      throw new Error('pause() is not possible on a MONGODB_URI server');
    },
    resume: () => {
      throw new Error('resume() is not possible on a MONGODB_URI server');
    },
  };
}

/** Replaces the database in a mongodb:// or mongodb+srv:// URI, keeping the auth database. */
export function withDatabase(uri: string, dbName: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/.exec(uri);
  if (!match) throw new Error(`not a MongoDB connection string: ${redact(uri)}`);
  const [, scheme, hosts = '', oldDb = '', query = ''] = match;
  const params = new URLSearchParams(query);
  // With credentials, the database in the path is also the default auth database.
  if (hosts.includes('@') && oldDb && !params.has('authSource'))
    params.set('authSource', decodeURIComponent(oldDb));
  const rest = params.toString();
  return `${scheme}${hosts}/${encodeURIComponent(dbName)}${rest ? `?${rest}` : ''}`;
}

function redact(uri: string): string {
  return uri.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

interface MinimalMongoClient {
  connect(): Promise<unknown>;
  db(name: string): { dropDatabase(): Promise<unknown> };
  close(): Promise<void>;
}
type MongoClientConstructor = new (
  uri: string,
  options?: Record<string, unknown>,
) => MinimalMongoClient;

/** The `mongodb` driver of the consuming project (directly, or the one mongoose uses). */
async function loadMongoClient(): Promise<MongoClientConstructor> {
  const bases = [import.meta.url, pathToFileURL(join(process.cwd(), 'package.json')).href];
  const candidates: (() => string)[] = [];
  for (const base of bases) {
    const require = createRequire(base);
    candidates.push(() => require.resolve('mongodb'));
    candidates.push(() => createRequire(require.resolve('mongoose')).resolve('mongodb'));
  }
  for (const resolve of candidates) {
    let path: string;
    try {
      path = resolve();
    } catch {
      continue;
    }
    const mod = (await import(pathToFileURL(path).href)) as {
      MongoClient?: MongoClientConstructor;
      default?: { MongoClient?: MongoClientConstructor };
    };
    const ctor = mod.MongoClient ?? mod.default?.MongoClient;
    if (ctor) return ctor;
  }
  throw new Error(
    'MONGODB_URI is set but neither `mongodb` nor `mongoose` can be resolved to drop the test database',
  );
}

// ---------------------------------------------------------------------------------------------
// wire server (Node): the project's emulator (options and faults: wire/server.ts)

export interface MongoWireServerHandle extends MongoHandle {
  backend: 'wire-server';
  port: number;
  /** The test CA's certificate file, when the server speaks TLS (already in `uri`). */
  caFile?: string;
  /** Delay added to every reply from now on: the store round trip a remote server would have. */
  setReplyDelay(ms: number): Promise<void>;
  stats(): Promise<WireServerStats>;
  /** Records every command from now on, until `takeTrace()`. */
  startTrace(): Promise<void>;
  takeTrace(): Promise<TracedCommand[]>;
  /** Records what each query read (docsExamined, plans), until `takeExamined()`. */
  startExamining(): Promise<void>;
  takeExamined(): Promise<ExaminedCommand[]>;
  setDocumentDbRules(on: boolean): Promise<void>;
  fault(mode: FaultMode, options?: FaultOptions): Promise<void>;
  clearFaults(): Promise<void>;
  dropConnections(): Promise<void>;
}

export interface StartMongoWireServerOptions extends StartMongoOptions {
  replyDelayMs?: number;
  /** Node flags for the server process, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** TLS only, with a throwaway CA (its file is in `uri` as tlsCAFile, and in `caFile`). */
  tls?: boolean;
  /** Answer as the primary of a one-member replica set of this name (in `uri` as replicaSet). */
  replicaSet?: string;
  /** Require authentication as this user (the credentials are in `uri`). */
  user?: { user: string; password: string };
  /** Offer SCRAM-SHA-1 only, as DocumentDB does. */
  scramSha1Only?: boolean;
  /** DocumentDB's planner and index-build rules (wire/server.ts says which). */
  documentDbRules?: boolean;
  indexBuildMs?: number;
}

const WIRE_SERVER_READY = /mongo wire server listening on/;

/** The built entry of the wire server (from src/ as from dist/: tests and the bench run it built). */
export function mongoWireServerScript(): string {
  return fileURLToPath(new URL('../../dist/mongo/wire/main.js', import.meta.url));
}

/**
 * The Node MongoDB wire server (src/mongo/wire) as its own process on a free loopback port:
 * what the chat store sends, over in-memory collections with real unique and compound indexes,
 * every connection answered concurrently; optionally shaped like DocumentDB (TLS, a replica
 * set, SCRAM-SHA-1, its planner rules), with faults switched on and off through the handle.
 */
export async function startMongoWireServer(
  opts: StartMongoWireServerOptions = {},
): Promise<MongoWireServerHandle> {
  const script = mongoWireServerScript();
  if (!existsSync(script))
    throw new Error(`wire server not built: ${script} (run the build first)`);
  const port = await getFreePort();
  const tempDir = opts.tls ? mkdtempSync(join(tmpdir(), 'jobsphere-wire-tls-')) : undefined;
  const tls = tempDir ? await generateTlsMaterial(tempDir) : undefined;
  const proc = new ManagedProcess({
    command: process.execPath,
    args: [
      ...(opts.nodeArgs ?? []),
      script,
      '--port',
      String(port),
      '--reply-delay-ms',
      String(opts.replyDelayMs ?? 0),
      ...(tls ? ['--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile] : []),
      ...(opts.replicaSet ? ['--replica-set', opts.replicaSet] : []),
      ...(opts.scramSha1Only ? ['--scram-sha1-only'] : []),
      ...(opts.documentDbRules ? ['--documentdb-rules'] : []),
      ...(opts.indexBuildMs !== undefined ? ['--index-build-ms', String(opts.indexBuildMs)] : []),
      '--exit-on-stdin-eof',
    ],
    // Credentials by environment, not on a command line others can read.
    env: {
      ...process.env,
      ...(opts.user && { MONGO_WIRE_USERS: `${opts.user.user}:${opts.user.password}` }),
    },
    readyPattern: WIRE_SERVER_READY,
    keepStdinOpen: true,
    ...(tempDir && { tempDirs: [tempDir] }),
  });
  const control = async (op: string, args: Record<string, unknown> = {}) => {
    const reply = await mongoCommand(
      '127.0.0.1',
      port,
      { wireServer: op, ...args, $db: 'admin' },
      5_000,
      tls?.ca,
    );
    if (reply['ok'] !== 1) throw new Error(`wire server: ${String(reply['errmsg'])}`);
    return reply;
  };
  try {
    await proc.start();
    await waitUntil(
      `the wire server on 127.0.0.1:${port}`,
      () => control('stats').then(() => true),
      15_000,
      25,
    );
  } catch (error) {
    await proc.dispose();
    throw error;
  }
  const params = new URLSearchParams();
  if (tls) params.set('tls', 'true');
  if (tls) params.set('tlsCAFile', tls.caFile);
  if (opts.replicaSet) params.set('replicaSet', opts.replicaSet);
  const credentials = opts.user
    ? `${encodeURIComponent(opts.user.user)}:${encodeURIComponent(opts.user.password)}@`
    : '';
  const query = params.toString();
  const shape = [
    tls && 'TLS',
    opts.replicaSet && `replica set ${opts.replicaSet}`,
    opts.user && (opts.scramSha1Only ? 'SCRAM-SHA-1 only' : 'SCRAM'),
    opts.documentDbRules && "DocumentDB's planner rules",
  ].filter(Boolean);
  return {
    uri: `mongodb://${credentials}127.0.0.1:${port}/${encodeURIComponent(opts.dbName ?? DEFAULT_DB)}${query ? `?${query}` : ''}`,
    backend: 'wire-server',
    description: `MongoDB wire server (Node, in-memory${shape.length ? `; ${shape.join(', ')}` : ''}) on 127.0.0.1:${port}`,
    pid: proc.pid,
    port,
    ...(tls && { caFile: tls.caFile }),
    stop: () => proc.dispose(),
    kill: async () => {
      await proc.kill();
      proc.disposeSync();
    },
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    setReplyDelay: async (ms) => {
      await control('setReplyDelay', { ms });
    },
    stats: async () => (await control('stats')) as unknown as WireServerStats,
    startTrace: async () => {
      await control('startTrace');
    },
    takeTrace: async () => (await control('takeTrace'))['trace'] as TracedCommand[],
    startExamining: async () => {
      await control('startExamining');
    },
    takeExamined: async () => (await control('takeExamined'))['examined'] as ExaminedCommand[],
    setDocumentDbRules: async (on) => {
      await control('setDocumentDbRules', { on });
    },
    fault: async (mode, options = {}) => {
      await control('fault', { mode, ...options });
    },
    clearFaults: async () => {
      await control('clearFaults');
    },
    dropConnections: async () => {
      await control('dropConnections');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// tiny wire-protocol client: readiness without a driver

/** Resolves once `{ping: 1}` over OP_MSG gets `ok: 1` back; rejects after `timeoutMs`. */
export async function waitUntilAnswers(
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<void> {
  await waitUntil(
    `a MongoDB answer on ${host}:${port}`,
    () => pingMongo(host, port, 2_000),
    timeoutMs,
    25,
  );
}

/** One `{ping: 1}` round trip: true on `ok: 1`; rejects when nothing answers. */
export async function pingMongo(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  const reply = await mongoCommand(host, port, { ping: 1, $db: 'admin' }, timeoutMs);
  return reply['ok'] === 1;
}

const OP_MSG = 2013;

/** One command over OP_MSG on a fresh connection, without a driver; resolves with the reply document. */
export function mongoCommand(
  host: string,
  port: number,
  command: Record<string, unknown>,
  timeoutMs = 5_000,
  /** PEM of the CA that signed the server's certificate: connect over TLS. */
  tlsCa?: string,
): Promise<Record<string, unknown>> {
  const requestId = Math.floor(Math.random() * 0x7fffffff);
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const send = () => {
      const body = BSON.serialize(command);
      const head = Buffer.alloc(21);
      head.writeInt32LE(21 + body.length, 0);
      head.writeInt32LE(requestId, 4);
      head.writeInt32LE(OP_MSG, 12);
      socket.write(Buffer.concat([head, body]));
    };
    const socket = tlsCa
      ? connectTls({ host, port, ca: tlsCa }, send)
      : createConnection({ host, port }, send);
    const done = (error: Error | undefined, reply?: Record<string, unknown>) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply!);
    };
    const timer = setTimeout(
      () => done(new Error(`${Object.keys(command)[0]} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', (error: Error) => done(error));
    socket.once('close', () => done(new Error('connection closed before a reply')));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < received.readInt32LE(0)) return;
      if (received.readInt32LE(8) !== requestId || received.readInt32LE(12) !== OP_MSG)
        return done(new Error('unexpected reply'));
      // header (16) + flagBits (4) + section kind 0 (1) + BSON document
      done(undefined, BSON.deserialize(received.subarray(21)));
    });
  });
}
