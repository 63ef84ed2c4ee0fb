import { decode, encode } from 'notepack.io';
import type { ClusterMessage, ClusterResponse } from 'socket.io-adapter';

/**
 * The routed adapter's wire format: MessagePack (notepack.io, the encoder the stock Socket.IO
 * Redis adapters use, so frames stay readable by them and binary needs no special case).
 * A broadcast to several rooms is encoded once: each room's frame is that encoding with the
 * room's name spliced in where a marker stood (MessagePack strings carry their own length,
 * and maps count entries, not bytes, so the splice is a valid frame).
 */

const ROOM_MARKER = '\u0000jobsphere:room\u0000';
const MARKER_BYTES = encode(ROOM_MARKER) as Buffer;

export class AdapterFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

export function encodeFrame(message: object): Buffer {
  return encode(message) as Buffer;
}

/** One frame per room of `message(room)`, encoded once (per room only if the data holds the marker). */
export function encodePerRoom(
  message: (room: string) => object,
  rooms: readonly string[],
): Buffer[] {
  const template = encodeFrame(message(ROOM_MARKER));
  const at = template.indexOf(MARKER_BYTES);
  if (at < 0 || template.indexOf(MARKER_BYTES, at + 1) >= 0)
    return rooms.map((room) => encodeFrame(message(room)));
  const head = template.subarray(0, at);
  const tail = template.subarray(at + MARKER_BYTES.length);
  return rooms.map((room) => Buffer.concat([head, encode(room) as Buffer, tail]));
}

/**
 * A frame back into a message. Also reads JSON frames (first byte `{`), which instances before
 * the MessagePack encoding published, so a rolling deploy mixes both. Throws AdapterFrameError,
 * saying why, for anything that is not an adapter message.
 */
export function decodeFrame(raw: Buffer): ClusterMessage | ClusterResponse {
  let value: unknown;
  try {
    value = raw[0] === 0x7b ? JSON.parse(raw.toString()) : decode(raw);
  } catch (error) {
    throw new AdapterFrameError(
      `undecodable frame (${raw.length} bytes): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const frame = value as Partial<Record<'uid' | 'nsp' | 'type', unknown>> | null;
  if (
    typeof frame !== 'object' ||
    frame === null ||
    typeof frame.uid !== 'string' ||
    typeof frame.nsp !== 'string' ||
    typeof frame.type !== 'number'
  )
    throw new AdapterFrameError(
      `not an adapter message (${raw.length} bytes): wants an object with uid, nsp and type`,
    );
  return frame as ClusterMessage | ClusterResponse;
}
