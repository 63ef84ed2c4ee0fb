/**
 * The project's MongoDB emulator: a wire-protocol server over the in-memory Engine that answers
 * every connection concurrently, shaped like the production store (Amazon DocumentDB 5.0) when
 * asked, with faults a test switches on while the gateway runs.
 *
 * In-process: `const server = new MongoWireServer(options); const port = await server.listen();`
 * As a process: `startMongoWireServer(options)` (../index.ts) runs ./main.ts and drives the same
 * controls over the wire (`{ wireServer: <control>, ... }`, allowed before authentication).
 *
 * Options (all off by default):
 * - `tls: { key, cert }` (PEM): TLS only, as DocumentDB; make a test CA with
 *   `generateTlsMaterial` and give the driver `tls=true&tlsCAFile=<ca file>`.
 * - `replicaSet: 'rs0'`: `hello` answers as the primary of a one-member replica set
 *   (`setName`, `hosts`, `me`, `electionId`), so `replicaSet=rs0` connection strings work.
 * - `users: [{ user, password }]`: authentication required (SCRAM-SHA-1 and SCRAM-SHA-256);
 *   `scramSha1Only: true` offers SCRAM-SHA-1 alone, as DocumentDB does.
 * - `documentDbRules: true`: the planner follows DocumentDB's documented limits (a sparse index
 *   serves only `$exists: true`; `$ne/$nin/$not` and `$exists` on a non-sparse index never use an
 *   index) and a collection builds one index at a time (`indexBuildMs` per new index; a
 *   concurrent createIndexes on it is refused, code 276). Switchable: `setDocumentDbRules(on)`.
 * - `replyDelayMs`: delay every reply (a remote store's round trip).
 *
 * Observation: `startExamining()` / `takeExamined()` give, per command, the documents it read
 * (explain's docsExamined) and its plans (`IXSCAN <index>`, `IDHACK`, `COLLSCAN`);
 * `startTrace()` / `takeTrace()` time every command; `stats()` counts them.
 *
 * Faults, `fault(mode, { ms?, times?, commands? })` until `ms` passes, `times` commands were hit,
 * or `clearFaults()`:
 * - `stepDown`: the primary steps down: hello answers secondary (no primary in the set) and every
 *   command answers NotWritablePrimary (10107; reads NotPrimaryNoSecondaryOk, 13435).
 * - `hang`: commands (except the handshake and monitoring) get no answer while it lasts, then run
 *   in order, as a stalled primary that resumes; one whose `maxTimeMS` ran out meanwhile is not
 *   applied and answers MaxTimeMSExpired (50). Replies to connections closed meanwhile are lost.
 * - `dropMidBatch`: a write command applies the first half of its statements (at least one),
 *   then its connection is reset without a reply.
 * - `upsertRace`: an upsert that would insert answers E11000 (the document is there): the loser
 *   of two racing upserts on a server that does not retry them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Binary, ObjectId } from 'bson';
import { Engine, MAX_WIRE_VERSION } from './engine.js';
import { CommandError } from './errors.js';
import { Faults, type FaultMode, type FaultOptions } from './faults.js';
import { encodeReply, MORE_TO_COME, parseMessage } from './protocol.js';
import { ScramUsers, type ScramConversation, type ScramMechanism } from './scram.js';
import type { Doc } from './values.js';

export type { FaultMode, FaultOptions } from './faults.js';

export interface TracedCommand {
  name: string;
  connection: number;
  /** Epoch milliseconds (sub-millisecond precision) when the request was read and its reply written. */
  receivedAt: number;
  repliedAt: number;
}

export interface ExaminedCommand {
  command: string;
  collection: string;
  /** The query's filter (find's `filter`, the first statement's `q`, findAndModify's `query`). */
  filter: Doc | undefined;
  docsExamined: number;
  plans: string[];
}

export interface WireServerStats {
  commands: Record<string, number>;
  replyDelayMs: number;
  /** Delay actually added to replies (timers are late by a fraction of a millisecond). */
  measuredDelay: { count: number; meanMs: number; maxMs: number };
  connections: number;
  faults: ReturnType<Faults['status']>;
  faultHits: Faults['hits'];
}

export interface WireServerOptions {
  port?: number;
  host?: string;
  replyDelayMs?: number;
  /** PEM key and certificate: the server speaks TLS only. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Answer as the primary of a one-member replica set of this name. */
  replicaSet?: string;
  /** Require authentication as one of these users. */
  users?: { user: string; password: string }[];
  /** Offer SCRAM-SHA-1 only (DocumentDB), not SCRAM-SHA-256. */
  scramSha1Only?: boolean;
  documentDbRules?: boolean;
  /** Under DocumentDB's rules, how long building one new index takes (default 100 ms). */
  indexBuildMs?: number;
}

const now = () => performance.timeOrigin + performance.now();

/** What a connection may run before it authenticates: the handshake and monitoring. */
const BEFORE_AUTH = new Set([
  'hello',
  'ismaster',
  'buildinfo',
  'ping',
  'saslstart',
  'saslcontinue',
  'endsessions',
  'wireserver',
]);
/** Never hit by faults other than a stepdown's answer to hello: the handshake and monitoring. */
const HANDSHAKE = new Set([
  'hello',
  'ismaster',
  'buildinfo',
  'saslstart',
  'saslcontinue',
  'endsessions',
  'wireserver',
]);
const WRITES = new Set([
  'insert',
  'update',
  'delete',
  'findandmodify',
  'createindexes',
  'drop',
  'dropdatabase',
]);
const STATEMENTS: Record<string, string> = {
  insert: 'documents',
  update: 'updates',
  delete: 'deletes',
};

/** The filter of an aggregation's leading `$match`, if it has one. */
function matchStage(pipeline: unknown): Doc | undefined {
  const first = Array.isArray(pipeline) ? (pipeline[0] as Doc | undefined) : undefined;
  const match = first?.['$match'];
  return match && typeof match === 'object' ? (match as Doc) : undefined;
}

interface Session {
  user?: string;
  conversation?: ScramConversation | undefined;
}

interface Held {
  receivedAt: number;
  maxTimeMS: number;
  run: () => void;
  expire: () => void;
}

export class MongoWireServer {
  readonly engine = new Engine();
  readonly faults = new Faults();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private replyDelayMs: number;
  private readonly counts = new Map<string, number>();
  private delayCount = 0;
  private delaySum = 0;
  private delayMax = 0;
  private trace: TracedCommand[] | undefined;
  private examined: ExaminedCommand[] | undefined;
  private connectionIds = 0;
  private readonly replicaSet: string | undefined;
  private readonly scram: ScramUsers | undefined;
  private readonly indexBuildMs: number;
  private readonly building = new Set<string>();
  private held: Held[] = [];
  private hangTimer: NodeJS.Timeout | undefined;
  private electionId = new ObjectId();
  private address = '127.0.0.1:0';

  constructor(options: WireServerOptions = {}) {
    this.replyDelayMs = options.replyDelayMs ?? 0;
    this.replicaSet = options.replicaSet;
    this.indexBuildMs = options.indexBuildMs ?? 100;
    this.engine.rules.documentDb = options.documentDbRules === true;
    this.engine.loseUpsert = () => this.faults.take('upsertRace');
    if (options.users && options.users.length > 0) {
      const mechanisms: ScramMechanism[] = options.scramSha1Only
        ? ['SCRAM-SHA-1']
        : ['SCRAM-SHA-1', 'SCRAM-SHA-256'];
      this.scram = new ScramUsers(mechanisms);
      for (const { user, password } of options.users) this.scram.addUser(user, password);
    }
    this.server = options.tls
      ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, (socket) =>
          this.accept(socket),
        )
      : createServer((socket) => this.accept(socket));
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const bound = (this.server.address() as AddressInfo).port;
        this.address = `${host}:${bound}`;
        resolve(bound);
      });
    });
  }

  close(): Promise<void> {
    this.clearFaults();
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  setReplyDelay(ms: number): void {
    this.replyDelayMs = ms;
  }

  setDocumentDbRules(on: boolean): void {
    this.engine.rules.documentDb = on;
  }

  /** Switches a fault on (see the top of this file); a new call for a mode replaces the old one. */
  fault(mode: FaultMode, options: FaultOptions = {}): void {
    if (mode === 'stepDown' && !this.replicaSet)
      throw new Error('a stepdown needs a replica set (the replicaSet option)');
    this.faults.set(mode, options);
    if (mode === 'hang') {
      clearTimeout(this.hangTimer);
      const ends = this.faults.endsAt('hang');
      if (ends !== undefined)
        this.hangTimer = setTimeout(() => this.releaseHeld(), Math.max(0, ends - Date.now()));
    }
  }

  /** Ends every fault now; held commands run (or expire) at once. */
  clearFaults(): void {
    this.faults.clear();
    this.releaseHeld();
  }

  /** Ends every client connection at once (a failover or a network cut). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  stats(): WireServerStats {
    return {
      commands: Object.fromEntries(this.counts),
      replyDelayMs: this.replyDelayMs,
      measuredDelay: {
        count: this.delayCount,
        meanMs: this.delayCount ? this.delaySum / this.delayCount : 0,
        maxMs: this.delayMax,
      },
      connections: this.sockets.size,
      faults: this.faults.status(),
      faultHits: { ...this.faults.hits },
    };
  }

  /** Starts recording every command (name, connection, arrival and reply times). */
  startTrace(): void {
    this.trace = [];
  }

  takeTrace(): TracedCommand[] {
    const taken = this.trace ?? [];
    this.trace = undefined;
    return taken;
  }

  /** Starts recording what each query command read, until `takeExamined()`. */
  startExamining(): void {
    this.examined = [];
  }

  takeExamined(): ExaminedCommand[] {
    const taken = this.examined ?? [];
    this.examined = undefined;
    return taken;
  }

  private accept(socket: Socket): void {
    const connection = ++this.connectionIds;
    const session: Session = {};
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readInt32LE(0);
        if (pending.length < length) break;
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        try {
          this.handle(socket, connection, session, message);
        } catch (error) {
          // A frame we cannot read: like mongod, drop the connection rather than guess.
          console.error(`mongo wire server: ${String(error)}`);
          socket.destroy();
          return;
        }
      }
    });
  }

  private handle(socket: Socket, connection: number, session: Session, message: Buffer): void {
    const receivedAt = now();
    const { requestId, opCode, flags, command } = parseMessage(message);
    const name = Object.keys(command)[0] ?? '';
    const lower = name.toLowerCase();
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const respond = (reply: Doc) => {
      if (flags & MORE_TO_COME) return; // unacknowledged: no reply expected
      this.send(socket, connection, name, opCode, requestId, receivedAt, reply);
    };
    if (lower === 'wireserver') return respond(this.control(command));
    if (lower === 'hello' || lower === 'ismaster') return respond(this.hello(command));
    if (lower === 'saslstart' || lower === 'saslcontinue')
      return respond(this.authenticate(lower, command, session));
    if (this.scram && !session.user && !BEFORE_AUTH.has(lower))
      return respond(new CommandError(13, `command ${name} requires authentication`).toReply());
    if (!HANDSHAKE.has(lower) && this.faults.take('stepDown', lower))
      return respond(
        WRITES.has(lower)
          ? new CommandError(10107, 'not primary (the primary stepped down)').toReply()
          : new CommandError(13435, 'not primary and secondaryOk=false').toReply(),
      );
    const run = () => respond(this.execute(lower, command));
    if (!HANDSHAKE.has(lower) && lower !== 'ping' && this.faults.take('hang', lower)) {
      const maxTimeMS = typeof command['maxTimeMS'] === 'number' ? command['maxTimeMS'] : 0;
      this.held.push({
        receivedAt: Date.now(),
        maxTimeMS,
        run,
        expire: () => respond(new CommandError(50, 'operation exceeded time limit').toReply()),
      });
      return;
    }
    const list = STATEMENTS[lower];
    if (list && this.faults.take('dropMidBatch', lower)) {
      const statements = (command[list] as Doc[] | undefined) ?? [];
      this.execute(lower, {
        ...command,
        [list]: statements.slice(0, Math.ceil(statements.length / 2)),
      });
      reset(socket);
      return;
    }
    if (lower === 'createindexes' && this.engine.rules.documentDb)
      return this.buildIndexes(command, respond);
    run();
  }

  private execute(lower: string, command: Doc): Doc {
    const reply = this.engine.run(command);
    if (
      this.examined &&
      ['find', 'aggregate', 'update', 'delete', 'findandmodify'].includes(lower)
    ) {
      const name = Object.keys(command)[0]!;
      const firstStatement = ((command['updates'] ?? command['deletes']) as Doc[] | undefined)?.[0];
      this.examined.push({
        command: name,
        collection: String(command[name]),
        filter: (command['filter'] ??
          command['query'] ??
          firstStatement?.['q'] ??
          matchStage(command['pipeline'])) as Doc | undefined,
        docsExamined: this.engine.examination.docsExamined,
        plans: [...this.engine.examination.plans],
      });
    }
    return reply;
  }

  /** DocumentDB builds one index per collection at a time, and a build takes a while. */
  private buildIndexes(command: Doc, respond: (reply: Doc) => void): void {
    const db = typeof command['$db'] === 'string' ? command['$db'] : 'admin';
    const ns = `${db}.${String(command['createIndexes'])}`;
    if (this.building.has(ns))
      return respond(
        new CommandError(
          276,
          'Existing index build in progress on the same collection. Collection is limited to a single index build at a time.',
        ).toReply(),
      );
    const fresh = this.engine.newIndexes(db, String(command['createIndexes']), command);
    if (fresh === 0) return respond(this.engine.run(command));
    this.building.add(ns);
    setTimeout(() => {
      this.building.delete(ns);
      respond(this.engine.run(command));
    }, fresh * this.indexBuildMs);
  }

  private releaseHeld(): void {
    clearTimeout(this.hangTimer);
    this.hangTimer = undefined;
    const held = this.held;
    this.held = [];
    const at = Date.now();
    for (const h of held) {
      if (h.maxTimeMS > 0 && at - h.receivedAt > h.maxTimeMS) h.expire();
      else h.run();
    }
  }

  private send(
    socket: Socket,
    connection: number,
    name: string,
    opCode: number,
    requestId: number,
    receivedAt: number,
    reply: Doc,
  ): void {
    // Encoded now, sent later: what the reply says is the state at execution time.
    const bytes = encodeReply(opCode, requestId, reply);
    const trace = this.trace;
    const write = () => {
      const repliedAt = now();
      if (this.replyDelayMs > 0) {
        const delay = repliedAt - receivedAt;
        this.delayCount++;
        this.delaySum += delay;
        this.delayMax = Math.max(this.delayMax, delay);
      }
      if (name !== 'wireServer') trace?.push({ name, connection, receivedAt, repliedAt });
      if (!socket.destroyed) socket.write(bytes);
    };
    if (this.replyDelayMs > 0) setTimeout(write, this.replyDelayMs);
    else write();
  }

  private hello(command: Doc): Doc {
    const primary = !this.faults.active('stepDown');
    const mechsFor = command['saslSupportedMechs'];
    // No topologyVersion: with it the Node driver switches to streaming (exhaust) monitoring.
    return {
      helloOk: true,
      ismaster: primary,
      isWritablePrimary: primary,
      ...(this.replicaSet && {
        secondary: !primary,
        setName: this.replicaSet,
        setVersion: 1,
        hosts: [this.address],
        me: this.address,
        ...(primary && { primary: this.address, electionId: this.electionId }),
      }),
      ...(this.scram &&
        typeof mechsFor === 'string' && { saslSupportedMechs: this.scram.mechanisms }),
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: this.connectionIds,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      ok: 1,
    };
  }

  private authenticate(lower: string, command: Doc, session: Session): Doc {
    if (!this.scram)
      return new CommandError(334, 'authentication is not enabled on this server').toReply();
    const payload = Buffer.from((command['payload'] as Binary).buffer);
    if (lower === 'saslstart') {
      const { step, conversation } = this.scram.start(String(command['mechanism']), payload);
      session.conversation = conversation;
      if (!step.ok) return { ok: 0, code: step.code, codeName: step.codeName, errmsg: step.errmsg };
      return { conversationId: 1, done: false, payload: new Binary(step.payload), ok: 1 };
    }
    const step = this.scram.finish(session.conversation, payload);
    session.conversation = undefined;
    if (!step.ok) return { ok: 0, code: step.code, codeName: step.codeName, errmsg: step.errmsg };
    if (step.user) session.user = step.user;
    return { conversationId: 1, done: step.done, payload: new Binary(step.payload), ok: 1 };
  }

  /** `{ wireServer: <control>, ... }`: the controls of a server in another process. */
  private control(command: Doc): Doc {
    switch (command['wireServer']) {
      case 'setReplyDelay':
        this.setReplyDelay(Number(command['ms'] ?? 0));
        return { ok: 1, replyDelayMs: this.replyDelayMs };
      case 'setDocumentDbRules':
        this.setDocumentDbRules(command['on'] === true);
        return { ok: 1 };
      case 'stats':
        return { ok: 1, ...this.stats() };
      case 'startTrace':
        this.startTrace();
        return { ok: 1 };
      case 'takeTrace':
        return { ok: 1, trace: this.takeTrace() };
      case 'startExamining':
        this.startExamining();
        return { ok: 1 };
      case 'takeExamined':
        return { ok: 1, examined: this.takeExamined() };
      case 'fault': {
        const options: FaultOptions = {};
        if (typeof command['ms'] === 'number') options.ms = command['ms'];
        if (typeof command['times'] === 'number') options.times = command['times'];
        if (Array.isArray(command['commands'])) options.commands = command['commands'].map(String);
        try {
          this.fault(command['mode'] as FaultMode, options);
        } catch (error) {
          return { ok: 0, code: 2, codeName: 'BadValue', errmsg: (error as Error).message };
        }
        return { ok: 1 };
      }
      case 'clearFaults':
        this.clearFaults();
        return { ok: 1 };
      case 'dropConnections':
        this.dropConnections();
        return { ok: 1 };
      default:
        return { ok: 0, code: 2, codeName: 'BadValue', errmsg: 'unknown wireServer control' };
    }
  }
}

/** Ends a connection with a TCP reset (the client reads ECONNRESET), or plainly over TLS. */
function reset(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
