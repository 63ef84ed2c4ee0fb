// The MongoDB wire protocol as far as the wire server needs it: OP_MSG (with document
// sequences) and the legacy OP_QUERY handshake in, OP_MSG / OP_REPLY out.
import { BSON } from 'bson';
import type { Doc } from './values.js';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
export const MORE_TO_COME = 1 << 1;
const CHECKSUM_PRESENT = 1 << 0;

export function parseMessage(buf: Buffer): {
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

export function encodeReply(opCode: number, responseTo: number, reply: Doc): Buffer {
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
