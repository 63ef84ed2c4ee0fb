import { encode } from 'notepack.io';
import { MessageType } from 'socket.io-adapter';
import { AdapterFrameError, decodeFrame, encodeFrame, encodePerRoom } from './adapter-frame.js';

const broadcast = (packet: unknown) => (room: string) => ({
  uid: 'a1b2c3',
  nsp: '/',
  type: MessageType.BROADCAST,
  data: { packet, opts: { rooms: [room], except: ['sid-1'] } },
});
const packet = { type: 2, nsp: '/', data: ['message:new', { id: 'm1', body: 'Hi, Sam' }] };

describe('adapter frames', () => {
  it('gives each room the frame it would get if encoded alone, whatever the room name', () => {
    // Room names around MessagePack's string header sizes (fixstr < 32 bytes, str8 < 256, str16).
    const rooms = [
      'user:a',
      'user:' + 'x'.repeat(26),
      'user:' + 'y'.repeat(27),
      'r'.repeat(255),
      'r'.repeat(256),
      'user:Zoë 漢字 🎉',
    ];
    const message = broadcast(packet);
    const frames = encodePerRoom(message, rooms);
    expect(frames).toHaveLength(rooms.length);
    rooms.forEach((room, i) => {
      expect(frames[i]).toEqual(encodeFrame(message(room)));
      expect(decodeFrame(frames[i]!)).toEqual(message(room));
    });
  });

  it('still encodes per room when the packet itself holds the marker text', () => {
    const tricky = broadcast({
      ...packet,
      data: ['message:new', { body: '\u0000jobsphere:room\u0000' }],
    });
    const frames = encodePerRoom(tricky, ['user:a', 'user:b']);
    expect(decodeFrame(frames[1]!)).toEqual(tricky('user:b'));
  });

  it('carries binary as binary', () => {
    const bytes = Buffer.from([0, 1, 2, 250]);
    const [frame] = encodePerRoom(broadcast({ ...packet, data: ['file', bytes] }), ['user:a']);
    const decoded = decodeFrame(frame!) as { data: { packet: { data: unknown[] } } };
    expect(Buffer.from(decoded.data.packet.data[1] as Uint8Array)).toEqual(bytes);
  });

  it('reads the JSON frames that instances published before (a rolling deploy mixes both)', () => {
    const message = broadcast(packet)('user:a');
    expect(decodeFrame(Buffer.from(JSON.stringify(message)))).toEqual(message);
  });

  it('rejects what is not an adapter message, saying why', () => {
    const frame = encodeFrame(broadcast(packet)('user:a'));
    const cases: [Buffer, RegExp][] = [
      [frame.subarray(0, frame.length - 3), /^undecodable frame \(\d+ bytes\): /],
      [Buffer.from([0xc1]), /^undecodable frame \(1 bytes\): /], // a byte MessagePack never uses
      [Buffer.from('{"uid":'), /^undecodable frame \(7 bytes\): /],
      [
        encode(42) as Buffer,
        /^not an adapter message \(1 bytes\): wants an object with uid, nsp and type$/,
      ],
      [encode({ uid: 'x', nsp: '/' }) as Buffer, /^not an adapter message/],
      [encode(null) as Buffer, /^not an adapter message/],
      [Buffer.from('{"uid":1,"nsp":"/","type":2}'), /^not an adapter message/],
    ];
    for (const [raw, reason] of cases) {
      let thrown: unknown;
      try {
        decodeFrame(raw);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AdapterFrameError);
      expect((thrown as Error).message).toMatch(reason);
    }
  });
});
