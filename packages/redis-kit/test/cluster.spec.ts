import { type RedisCluster, runRedisCli, startRedisCluster } from '@jobsphere/testing';
import { type RedisConfig, createRedisClient, quitRedisClient } from '../src/index.js';
import {
  type Instance,
  type Receiver,
  connectReceiver,
  deliverOnce,
  medianLatency,
  memoryLogger,
  startInstance,
  stopInstance,
  timeUntilDelivery,
  trackUnhandledRejections,
} from './helpers.js';

const ROOM = 'room-cluster';
// The sharded adapter publishes a one-room broadcast on `<key>#<nsp>#<room>#` (dynamic mode).
const ROOM_CHANNEL = `kit-test#/#${ROOM}#`;

// One cluster for the file: 3 masters with 1 replica each; the failover test runs last.
describe('Redis Cluster with the sharded adapter', () => {
  const logger = memoryLogger();
  const unhandled = trackUnhandledRejections();
  let cluster: RedisCluster;
  let config: RedisConfig;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let receiver: Receiver;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
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
    a = await startInstance(config, logger);
    b = await startInstance(config, logger);
    receiver = await connectReceiver(b, ROOM);
    // SSUBSCRIBE for the room is sent when the socket joins; wait until it has taken effect.
    expect(await timeUntilDelivery(a, ROOM, receiver, 5_000)).toBeDefined();
  }, 40_000);

  afterAll(async () => {
    receiver?.socket.disconnect();
    await stopInstance(a);
    await stopInstance(b);
    await cluster?.dispose();
    unhandled.stop();
  });

  it('delivers a room broadcast from one instance to a client of another', async () => {
    await expect(deliverOnce(a!, ROOM, receiver)).resolves.toBe(true);
    await expect(deliverOnce(a!, 'elsewhere', receiver, 200)).resolves.toBe(false);
    const figures = await medianLatency(a!, ROOM, receiver, 200);
    console.log(
      `[figure] cluster (routed adapter, sharded channels) cross-instance broadcast latency over 200 messages: median ${figures.medianMs} ms, p95 ${figures.p95Ms} ms, lost ${figures.lost}`,
    );
    expect(figures.lost).toBe(0);
  });

  it('a plain cluster client works across slots', async () => {
    const client = createRedisClient(config, { logger });
    try {
      await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => client.set(`key-${k}`, k)));
      await expect(client.get('key-f')).resolves.toBe('f');
    } finally {
      await quitRedisClient(client);
    }
    expect(client.status).toBe('end');
  });

  it('delivers again after the master serving the room is SIGKILLed and its replica promoted', async () => {
    const slot = Number(
      (await runRedisCli(cluster.nodes[0]!, ['cluster', 'keyslot', ROOM_CHANNEL])).trim(),
    );
    const before = await cluster.masters();
    const victim = before.find((m) =>
      m.slots.some((range) => {
        const [lo, hi] = range.split('-').map(Number);
        return slot >= lo! && slot <= (hi ?? lo!);
      }),
    )!;
    expect(victim).toBeDefined();

    const killedAt = Date.now();
    await cluster.killNode(victim.port);
    const interruptionMs = await timeUntilDelivery(a!, ROOM, receiver, 20_000);
    await cluster.waitForState('ok', 10_000);
    const after = await cluster.masters();
    console.log(
      `[figure] cluster failover (node timeout 1000 ms): cross-instance delivery interrupted ${interruptionMs ?? 'more than 20000'} ms after SIGKILL of master ${victim.port} (slot ${slot}); measured ${Date.now() - killedAt} ms until cluster_state:ok confirmed`,
    );
    expect(interruptionMs).toBeDefined();
    expect(after.map((m) => m.port)).not.toContain(victim.port);
    expect(after).toHaveLength(3);
    await expect(deliverOnce(a!, ROOM, receiver)).resolves.toBe(true);
    expect(unhandled.reasons).toEqual([]);
  }, 40_000);
});
