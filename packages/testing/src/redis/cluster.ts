import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from '../ports.js';
import { ManagedProcess } from '../process.js';
import { waitUntil } from '../wait.js';
import { type RedisCliTarget, redisServerBin, runRedisCli } from './binaries.js';
import { REDIS_READY } from './server.js';

export interface StartRedisClusterOptions {
  /** Default 3. */
  masters?: number;
  /** Default 0. */
  replicasPerMaster?: number;
  password?: string;
  /** How long to wait for `cluster_state:ok` (default 20 s). */
  readyTimeoutMs?: number;
}

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface RedisClusterMaster extends RedisNodeAddress {
  id: string;
  /** Slot ranges as printed by CLUSTER NODES, e.g. `0-5460`. */
  slots: string[];
}

export interface RedisCluster {
  /** Every node started, masters and replicas, alive or not. */
  nodes: RedisNodeAddress[];
  /** What a cluster client is given to discover the rest. */
  startupNodes: RedisNodeAddress[];
  password?: string;
  /** The masters currently serving slots, as a live node sees them. */
  masters(): Promise<RedisClusterMaster[]>;
  /** SIGKILLs one node. */
  killNode(port: number): Promise<void>;
  /** Starts a killed node again on the same port; it rejoins from its nodes.conf. */
  restartNode(port: number): Promise<void>;
  /** Resolves once every running node reports `cluster_state:<state>`. */
  waitForState(state: 'ok' | 'fail', timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

// Short node timeout so that a lost master is failed over in about two seconds.
const NODE_TIMEOUT_MS = 1_000;

/** A throwaway Redis Cluster on free loopback ports (all below 55535: the bus is port + 10000). */
export async function startRedisCluster(
  opts: StartRedisClusterOptions = {},
): Promise<RedisCluster> {
  const masterCount = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 0;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  const host = '127.0.0.1';
  const ports = await distinctFreePorts(masterCount * (1 + replicas));
  const procs = new Map<number, ManagedProcess>();
  const target = (port: number): RedisCliTarget => ({
    host,
    port,
    ...(opts.password ? { password: opts.password } : {}),
  });

  const dispose = async () => {
    await Promise.all([...procs.values()].map((p) => p.dispose()));
  };

  try {
    for (const port of ports) {
      const dir = mkdtempSync(join(tmpdir(), `jobsphere-redis-cluster-${port}-`));
      const args = [
        '--port',
        String(port),
        '--bind',
        host,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        String(NODE_TIMEOUT_MS),
        // Fresh test replicas may always take over, however long their link was down.
        '--cluster-replica-validity-factor',
        '0',
      ];
      if (opts.password) args.push('--requirepass', opts.password, '--masterauth', opts.password);
      const proc = new ManagedProcess({
        command: redisServerBin(),
        args,
        readyPattern: REDIS_READY,
        tempDirs: [dir],
      });
      procs.set(port, proc);
    }
    await Promise.all([...procs.values()].map((p) => p.start()));

    const createArgs = ['--cluster', 'create', ...ports.map((p) => `${host}:${p}`)];
    createArgs.push('--cluster-replicas', String(replicas), '--cluster-yes');
    await runRedisCli(target(ports[0]!), createArgs, 30_000);
    await waitForState('ok', readyTimeoutMs);
    if (replicas > 0) {
      // A replica that has not finished its first sync cannot be promoted.
      await waitUntil(
        'replicas in sync',
        async () => {
          const infos = await Promise.all(
            ports.map((p) => runRedisCli(target(p), ['info', 'replication'])),
          );
          const replicaInfos = infos.filter((i) => i.includes('role:slave'));
          return (
            replicaInfos.length === masterCount * replicas &&
            replicaInfos.every((i) => i.includes('master_link_status:up'))
          );
        },
        readyTimeoutMs,
      );
    }
  } catch (error) {
    await dispose();
    throw error;
  }

  async function waitForState(state: 'ok' | 'fail', timeoutMs = readyTimeoutMs): Promise<void> {
    await waitUntil(
      `cluster_state:${state} on every running node`,
      async () => {
        const running = ports.filter((p) => procs.get(p)?.running);
        const infos = await Promise.all(
          running.map((p) => runRedisCli(target(p), ['cluster', 'info'], 2_000)),
        );
        return infos.every((i) => i.includes(`cluster_state:${state}`));
      },
      timeoutMs,
    );
  }

  const nodeProc = (port: number): ManagedProcess => {
    const proc = procs.get(port);
    if (!proc) throw new Error(`no cluster node on port ${port}`);
    return proc;
  };

  const nodes = ports.map((port) => ({ host, port }));
  return {
    nodes,
    startupNodes: nodes.slice(0, masterCount),
    ...(opts.password ? { password: opts.password } : {}),
    async masters() {
      const alive = ports.find((p) => procs.get(p)?.running);
      if (alive === undefined) throw new Error('no cluster node is running');
      return parseMasters(await runRedisCli(target(alive), ['cluster', 'nodes']));
    },
    killNode: (port) => nodeProc(port).kill(),
    restartNode: (port) => nodeProc(port).start(),
    waitForState,
    dispose,
  };
}

/** `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot> ...` */
function parseMasters(clusterNodes: string): RedisClusterMaster[] {
  const masters: RedisClusterMaster[] = [];
  for (const line of clusterNodes.split('\n')) {
    const [id, address, flags, , , , , link, ...slots] = line.trim().split(' ');
    if (!id || !address || !flags) continue;
    const flagList = flags.split(',');
    if (
      !flagList.includes('master') ||
      flagList.includes('fail') ||
      link !== 'connected' ||
      slots.length === 0
    )
      continue;
    const [hostPort] = address.split('@');
    const sep = hostPort!.lastIndexOf(':');
    masters.push({
      id,
      host: hostPort!.slice(0, sep),
      port: Number(hostPort!.slice(sep + 1)),
      slots,
    });
  }
  return masters.sort((a, b) => a.port - b.port);
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await getFreePort(55_000));
  return [...ports];
}
