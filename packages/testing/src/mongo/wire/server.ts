// A MongoDB wire-protocol server for benchmarks: OP_MSG (and the legacy OP_QUERY handshake)
// over the in-memory Engine, answering every connection concurrently, with an injected reply
// delay that models the network round trip to a remote store (DocumentDB in another AZ).
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BSON } from 'bson';
import { Engine } from './engine.js';
import type { Doc } from './values.js';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const MORE_TO_COME = 1 << 1;
const CHECKSUM_PRESENT = 1 << 0;

export interface TracedCommand {
  name: string;
  connection: number;
  /** Epoch milliseconds (sub-millisecond precision) when the request was read and its reply written. */
  receivedAt: number;
  repliedAt: number;
}

export interface WireServerStats {
  commands: Record<string, number>;
  replyDelayMs: number;
  /** Delay actually added to replies (timers are late by a fraction of a millisecond). */
  measuredDelay: { count: number; meanMs: number; maxMs: number };
  connections: number;
}

export interface WireServerOptions {
  port?: number;
  host?: string;
  replyDelayMs?: number;
}

const now = () => performance.timeOrigin + performance.now();

function parseMessage(buf: Buffer): {
  requestId: number;
  opCode: number;
  flags: number;
  command: Doc;
} {
  const requestId = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = buf.readUInt32LE(16);
    const end = buf.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
    let pos = 20;
    let command: Doc | undefined;
    const sequences: [string, Doc[]][] = [];
    while (pos < end) {
      const kind = buf[pos++];
      if (kind === 0) {
        const size = buf.readInt32LE(pos);
        command = BSON.deserialize(buf.subarray(pos, pos + size));
        pos += size;
      } else if (kind === 1) {
        const size = buf.readInt32LE(pos);
        const stop = pos + size;
        const nameEnd = buf.indexOf(0, pos + 4);
        const identifier = buf.toString('utf8', pos + 4, nameEnd);
        const docs: Doc[] = [];
        for (let p = nameEnd + 1; p < stop;) {
          const docSize = buf.readInt32LE(p);
          docs.push(BSON.deserialize(buf.subarray(p, p + docSize)));
          p += docSize;
        }
        sequences.push([identifier, docs]);
        pos = stop;
      } else throw new Error(`OP_MSG section kind ${kind} is not supported`);
    }
    if (!command) throw new Error('OP_MSG without a body section');
    for (const [identifier, docs] of sequences) command[identifier] = docs;
    return { requestId, opCode, flags, command };
  }
  if (opCode === OP_QUERY) {
    // The driver's first hello on a connection: flags, "admin.$cmd", skip, return, query.
    const nameEnd = buf.indexOf(0, 20);
    const ns = buf.toString('utf8', 20, nameEnd);
    const docStart = nameEnd + 1 + 8;
    const size = buf.readInt32LE(docStart);
    const query = BSON.deserialize(buf.subarray(docStart, docStart + size));
    const command = (query['$query'] as Doc | undefined) ?? query;
    command['$db'] ??= ns.split('.')[0];
    return { requestId, opCode, flags: 0, command };
  }
  throw new Error(`opcode ${opCode} is not supported by the wire server`);
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

let replyIds = 1;

function encodeReply(opCode: number, responseTo: number, reply: Doc): Buffer {
  const body = BSON.serialize(reply);
  if (opCode === OP_QUERY) {
    const fields = Buffer.alloc(20);
    fields.writeInt32LE(0, 0); // responseFlags
    fields.writeBigInt64LE(0n, 4); // cursorID
    fields.writeInt32LE(0, 12); // startingFrom
    fields.writeInt32LE(1, 16); // numberReturned
    return Buffer.concat([
      header(36 + body.length, replyIds++, responseTo, OP_REPLY),
      fields,
      body,
    ]);
  }
  const flags = Buffer.alloc(5); // flagBits 0, section kind 0
  return Buffer.concat([header(21 + body.length, replyIds++, responseTo, OP_MSG), flags, body]);
}

export class MongoWireServer {
  readonly engine = new Engine();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private replyDelayMs: number;
  private readonly counts = new Map<string, number>();
  private delayCount = 0;
  private delaySum = 0;
  private delayMax = 0;
  private trace: TracedCommand[] | undefined;
  private connectionIds = 0;

  constructor(options: WireServerOptions = {}) {
    this.replyDelayMs = options.replyDelayMs ?? 0;
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  setReplyDelay(ms: number): void {
    this.replyDelayMs = ms;
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
    };
  }

  /** Starts recording every command (name, connection, arrival and reply times); returns what was recorded before. */
  startTrace(): void {
    this.trace = [];
  }

  takeTrace(): TracedCommand[] {
    const taken = this.trace ?? [];
    this.trace = undefined;
    return taken;
  }

  private accept(socket: Socket): void {
    const connection = ++this.connectionIds;
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
          this.handle(socket, connection, message);
        } catch (error) {
          // A frame we cannot read: like mongod, drop the connection rather than guess.
          console.error(`mongo wire server: ${String(error)}`);
          socket.destroy();
          return;
        }
      }
    });
  }

  private handle(socket: Socket, connection: number, message: Buffer): void {
    const receivedAt = now();
    const { requestId, opCode, flags, command } = parseMessage(message);
    const name = Object.keys(command)[0] ?? '';
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const reply = name === 'wireServer' ? this.control(command) : this.engine.run(command);
    if (flags & MORE_TO_COME) return; // unacknowledged: no reply expected
    // Encoded now, sent later: what the reply says is the state at execution time.
    const bytes = encodeReply(opCode, requestId, reply);
    const trace = this.trace;
    const send = () => {
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
    if (this.replyDelayMs > 0) setTimeout(send, this.replyDelayMs);
    else send();
  }

  /** `{ wireServer: 'setReplyDelay', ms }`, `'stats'`, `'startTrace'`, `'takeTrace'`: the benchmark's controls. */
  private control(command: Doc): Doc {
    switch (command['wireServer']) {
      case 'setReplyDelay':
        this.setReplyDelay(Number(command['ms'] ?? 0));
        return { ok: 1, replyDelayMs: this.replyDelayMs };
      case 'stats':
        return { ok: 1, ...this.stats() };
      case 'startTrace':
        this.startTrace();
        return { ok: 1 };
      case 'takeTrace':
        return { ok: 1, trace: this.takeTrace() };
      default:
        return { ok: 0, code: 2, codeName: 'BadValue', errmsg: 'unknown wireServer control' };
    }
  }
}
