import {
  type RedisCluster,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '@jobsphere/testing';
import { type RedisConfig } from '../src/index.js';
import {
  type Instance,
  type Receiver,
  connectReceiver,
  memoryLogger,
  startInstance,
  stopInstance,
  trackUnhandledRejections,
} from './helpers.js';

// Fan-out addressed to the instances that hold the recipients, on both topologies: each routed
// room has its own channel, so an instance with nobody in a room never hears of broadcasts to it.
describe.each(['standalone', 'cluster'] as const)('routed fan-out on %s Redis', (topology) => {
  const logger = memoryLogger();
  const unhandled = trackUnhandledRejections();
  let server: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  let a: Instance, b: Instance, c: Instance;
  let alice: Receiver, bob: Receiver, bobToo: Receiver;

  beforeAll(async () => {
    let config: RedisConfig;
    if (topology === 'standalone') {
      server = await startRedis();
      config = {
        mode: 'standalone',
        host: server.host,
        port: server.port,
        db: 0,
        tls: false,
        connectTimeoutMs: 1_000,
        commandTimeoutMs: 1_000,
      };
    } else {
      cluster = await startRedisCluster({ masters: 3 });
      const first = cluster.startupNodes[0]!;
      config = {
        mode: 'cluster',
        host: first.host,
        port: first.port,
        db: 0,
        tls: false,
        connectTimeoutMs: 1_000,
        commandTimeoutMs: 1_000,
      };
    }
    [a, b, c] = (await Promise.all([1, 2, 3].map(() => startInstance(config, logger)))) as [
      Instance,
      Instance,
      Instance,
    ];
    // The join resolves once the room's channel is subscribed: no settling wait needed.
    alice = await connectReceiver(b, 'user:alice');
    bob = await connectReceiver(b, 'user:bob');
    bobToo = await connectReceiver(c, 'user:bob');
  }, 40_000);

  afterAll(async () => {
    for (const r of [alice, bob, bobToo]) r?.socket.disconnect();
    for (const i of [a, b, c]) await stopInstance(i);
    await server?.dispose();
    await cluster?.dispose();
    unhandled.stop();
  });

  const probe = async (from: Instance, rooms: string[], receivers: Receiver[], id: string) => {
    const seen = receivers.map((r) => r.next(id, 1_000));
    from.io.to(rooms).emit('probe', id);
    return Promise.all(seen);
  };

  it('reaches every device in the rooms, once, and only the instances holding them', async () => {
    const before = { a: { ...a.traffic }, b: { ...b.traffic }, c: { ...c.traffic } };
    expect(await probe(a, ['user:alice'], [alice, bob, bobToo], 'only-alice')).toEqual([
      true,
      false,
      false,
    ]);
    // One publish from A, received by B only: C holds nobody in user:alice.
    expect(a.traffic.out - before.a.out).toBe(1);
    expect(b.traffic.in - before.b.in).toBe(1);
    expect(c.traffic.in - before.c.in).toBe(0);
  });

  it('publishes a broadcast to several rooms once per room, each device getting it once', async () => {
    const counts = new Map<string, number>();
    for (const [name, r] of [
      ['alice', alice],
      ['bob', bob],
      ['bobToo', bobToo],
    ] as const) {
      r.socket.on('probe', (id: string) => {
        if (id === 'both') counts.set(name, (counts.get(name) ?? 0) + 1);
      });
    }
    const before = { a: { ...a.traffic }, b: { ...b.traffic }, c: { ...c.traffic } };
    expect(await probe(a, ['user:alice', 'user:bob'], [alice, bob, bobToo], 'both')).toEqual([
      true,
      true,
      true,
    ]);
    // Let anything duplicated arrive: a marker sent after it comes after it on each socket.
    await probe(a, ['user:alice', 'user:bob'], [alice, bob, bobToo], 'marker');
    expect(Object.fromEntries(counts)).toEqual({ alice: 1, bob: 1, bobToo: 1 });
    expect(a.traffic.out - before.a.out).toBe(4); // two rooms, two broadcasts
    expect(b.traffic.in - before.b.in).toBe(4); // B holds alice and bob
    expect(c.traffic.in - before.c.in).toBe(2); // C holds bob only
  });

  it('delivers to local sockets too, and leaves out excepted sockets', async () => {
    const local = await connectReceiver(a, 'user:carol');
    const before = { ...a.traffic };
    const seen = local.next('local', 1_000);
    a.io.to('user:carol').emit('probe', 'local');
    expect(await seen).toBe(true);
    const skipped = local.next('skip', 300);
    const other = bob.next('skip', 1_000);
    a.io.to(['user:carol', 'user:bob']).except(local.socket.id!).emit('probe', 'skip');
    expect(await skipped).toBe(false);
    expect(await other).toBe(true);
    expect(a.traffic.out - before.out).toBe(3);
    local.socket.disconnect();
  });

  it('stops receiving a room once its last local socket leaves', async () => {
    const leaving = await connectReceiver(c, 'user:dave');
    const before = { ...c.traffic };
    leaving.socket.disconnect();
    // The unsubscribe goes out when the room is deleted; a later broadcast to it no longer arrives.
    await new Promise((resolve) => setImmediate(resolve));
    await probe(a, ['user:bob'], [bob], 'sync-point'); // C is still subscribed to bob: ordered after
    const afterMarker = c.traffic.in;
    a.io.to('user:dave').emit('probe', 'to-nobody');
    await probe(a, ['user:bob'], [bobToo], 'second-marker');
    expect(c.traffic.in - afterMarker).toBe(1); // only the marker
    expect(c.traffic.in - before.in).toBe(2);
    expect(unhandled.reasons).toEqual([]);
  });

  it('drops a frame that is not an adapter message, says so, and keeps delivering', async () => {
    const channel = 'kit-test#/#user:alice#';
    const garbage = Buffer.from([0xc1, 0x00, 0x01]);
    const publisher = a.handle.publisher;
    await (topology === 'cluster'
      ? publisher.spublish(channel, garbage)
      : publisher.publish(channel, garbage));
    // Frames on one channel arrive in order: the probe after it shows it was handled.
    expect(await probe(a, ['user:alice'], [alice], 'after-garbage')).toEqual([true]);
    expect(logger.lines).toContainEqual(
      expect.stringMatching(
        /^warn redis adapter: undecodable frame \(3 bytes\): .* on kit-test#\/#user:alice#: dropped$/,
      ),
    );
    expect(unhandled.reasons).toEqual([]);
  });
});
