// Fan-out per instance: four gateway instances over one Redis (standalone or a three-master
// cluster), users spread over them, messages through direct and group conversations. For each
// instance: messages and bytes it received from Redis, against its users' share of the traffic;
// and Redis egress per message. Run against any gateway build (e.g. an older commit's, for the
// "before" line) with `node dist/fanout.js --gateway <dist/main.js> --topology cluster`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import {
  runRedisCli,
  signTestToken,
  startChatEnvironment,
  waitUntil,
  type ChatEnvironment,
  type GatewayProcess,
} from '@jobsphere/testing';
import {
  readFanoutResults,
  renderFanoutSection,
  withFanoutSection,
  type FanoutInstance,
  type FanoutResult,
} from './fanout-report.js';
import { gatewayMain } from './processes.js';
import { acceptAsRecipient } from './requests.js';

const SECRET = 'fanout-bench-secret-fanout-bench-secret-123';
const INSTANCES = 4;
const USERS = 80;
const DIRECT = 60;
const GROUPS = 6;
const GROUP_SIZE = 8;
const MESSAGES = 600;
// The store behind this run is the correctness double (one request at a time): keep it unsaturated.
const RATE = 40;

interface Args {
  gateway: string;
  topology: 'standalone' | 'cluster';
  label: string;
}

function args(argv: string[]): Args {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const topology = value('topology') === 'standalone' ? 'standalone' : 'cluster';
  return {
    gateway: value('gateway') ?? gatewayMain(),
    topology,
    label: value('label') ?? `${topology}`,
  };
}

const rng = (() => {
  let s = 42;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
})();

async function rest<T>(url: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as T;
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** The commit the gateway build's checkout is at (`+dirty` with local changes to the code). */
function commitOf(script: string): string {
  try {
    const git = (...a: string[]) =>
      execFileSync('git', ['-C', dirname(script), ...a], { encoding: 'utf8' }).trim();
    // Only what the gateway is built from: uncommitted results or docs do not change the build.
    const code = ['status', '--porcelain', '--', ':(top)apps', ':(top)packages'];
    return git('rev-parse', '--short', 'HEAD') + (git(...code) ? '+dirty' : '');
  } catch {
    return 'unknown';
  }
}

/** What each instance's adapter received, from its metrics (the routed adapter counts it). */
async function adapterIn(
  g: GatewayProcess,
): Promise<{ messages: number; bytes: number } | undefined> {
  const text = await (await fetch(`${g.url}/metrics`)).text();
  const m = /chat_redis_adapter_messages_total\{direction="in"\} (\d+)/.exec(text);
  const b = /chat_redis_adapter_bytes_total\{direction="in"\} (\d+)/.exec(text);
  return m && b ? { messages: Number(m[1]), bytes: Number(b[1]) } : undefined;
}

/** Bytes Redis has sent to clients, over every node serving slots. */
async function egress(env: ChatEnvironment): Promise<number> {
  const nodes = env.cluster
    ? (await env.cluster.masters()).map((m) => ({ host: m.host, port: m.port }))
    : [{ host: env.redis!.host, port: env.redis!.port }];
  let total = 0;
  for (const node of nodes) {
    const info = await runRedisCli(node, ['info', 'stats']);
    total += Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return total;
}

/**
 * An old build has no adapter counters: a subscriber on what every instance subscribes (the
 * classic adapter's pattern, the sharded adapter's namespace channel) receives what each one does.
 */
interface Probe {
  /** What it received, and the bytes Redis sent it (to take out of the egress figure). */
  read(): { messages: number; bytes: number; socketBytes: number };
  close(): Promise<void>;
}

async function probe(env: ChatEnvironment): Promise<Probe> {
  const counts = { messages: 0, bytes: 0 };
  const count = (message: Buffer) => {
    counts.messages++;
    counts.bytes += message.length;
  };
  let client: Redis;
  if (env.cluster) {
    const channel = 'socket.io#/#';
    const slot = Number(
      (await runRedisCli(env.cluster.nodes[0]!, ['cluster', 'keyslot', channel])).trim(),
    );
    const owner = (await env.cluster.masters()).find((m) =>
      m.slots.some((r) => {
        const [lo, hi] = r.split('-').map(Number);
        return slot >= lo! && slot <= (hi ?? lo!);
      }),
    )!;
    client = new Redis({ host: owner.host, port: owner.port });
    client.on('smessageBuffer', (_c: Buffer, m: Buffer) => count(m));
    await client.call('SSUBSCRIBE', channel);
  } else {
    client = new Redis({ host: env.redis!.host, port: env.redis!.port });
    client.on('pmessageBuffer', (_p: Buffer, _c: Buffer, m: Buffer) => count(m));
    await client.psubscribe('socket.io#*');
  }
  const socketBytes = () => (client.stream as { bytesRead?: number } | undefined)?.bytesRead ?? 0;
  return {
    read: () => ({ ...counts, socketBytes: socketBytes() }),
    close: async () => void client.disconnect(),
  };
}

/** Rewrites RESULTS.md's Fan-out section from every results/fanout-*.json. */
function report(dir: string): void {
  const resultsMd = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
  const section = renderFanoutSection(readFanoutResults(dir));
  writeFileSync(resultsMd, withFanoutSection(readFileSync(resultsMd, 'utf8'), section));
  console.log(`updated the Fan-out section of ${resultsMd}`);
}

async function main(): Promise<void> {
  const { gateway, topology, label } = args(process.argv.slice(2));
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const env = await startChatEnvironment({
    script: gateway,
    jwtSecret: SECRET,
    topology,
    gateways: INSTANCES,
    env: {
      RATE_LIMIT_SEND_PER_10S: '1000000',
      RATE_LIMIT_CONVERSATIONS_PER_HOUR: '1000000',
      RATE_LIMIT_REST_PER_MIN: '1000000',
      // Presence announcements would add traffic unrelated to messages.
      PRESENCE_MAX_FANOUT: '0',
    },
  });
  const sockets: Socket[] = [];
  try {
    const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
    const home = (u: string) => Number(u.slice(1)) % INSTANCES;
    const tokens = new Map(
      await Promise.all(
        users.map(
          async (u) =>
            [u, await signTestToken({ secret: SECRET, userId: u, role: 'recruiter' })] as const,
        ),
      ),
    );
    const byUser = new Map<string, Socket>();
    let acked = 0;
    let failed = 0;
    const acks = () => acked + failed;
    for (const u of users) {
      const socket = io(env.gateways[home(u)]!.url, {
        auth: { token: tokens.get(u) },
        transports: ['websocket'],
        reconnection: false,
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      sockets.push(socket);
      byUser.set(u, socket);
    }
    const conversations: { id: string; members: string[] }[] = [];
    for (let i = 0; i < DIRECT; i++) {
      const a = users[Math.floor(rng() * USERS)]!;
      let b = a;
      while (b === a) b = users[Math.floor(rng() * USERS)]!;
      const c = await rest<{ id: string }>(
        env.gateways[0]!.url,
        tokens.get(a)!,
        'POST',
        '/conversations',
        {
          kind: 'direct',
          userId: b,
          jobId: `job-${i}`,
        },
      );
      await acceptAsRecipient(env.gateways[0]!.url, tokens.get(b)!, c.id);
      conversations.push({ id: c.id, members: [a, b] });
    }
    for (let g = 0; g < GROUPS; g++) {
      const members = new Set<string>();
      while (members.size < GROUP_SIZE) members.add(users[Math.floor(rng() * USERS)]!);
      const [owner, ...rest_] = [...members];
      const c = await rest<{ id: string }>(
        env.gateways[0]!.url,
        tokens.get(owner!)!,
        'POST',
        '/conversations',
        {
          kind: 'group',
          title: `group ${g}`,
          memberIds: rest_,
        },
      );
      // Members who are not the owner's contacts are invited: they accept, as people do.
      for (const member of rest_)
        await acceptAsRecipient(env.gateways[0]!.url, tokens.get(member)!, c.id);
      conversations.push({ id: c.id, members: [...members] });
    }
    // Each instance's share: for every message, the members (any device) it holds.
    const share = Array.from({ length: INSTANCES }, () => 0);
    let instancesReached = 0;
    let expectedDeliveries = 0;
    let delivered = 0;
    for (const s of sockets) s.on('message:new', () => delivered++);
    const before = await Promise.all(env.gateways.map(adapterIn));
    // Only for a build without adapter counters: the probe is one more subscriber, and what
    // Redis sends it is taken out of the egress figure.
    const probeCounter = before.every(Boolean) ? undefined : await probe(env);
    const probeBefore = probeCounter?.read();
    const egressBefore = await egress(env);
    const started = Date.now();
    for (let i = 0; i < MESSAGES; i++) {
      const c = conversations[i % conversations.length]!;
      const sender = c.members[Math.floor(rng() * c.members.length)]!;
      for (const m of c.members) share[home(m)]! += 1;
      instancesReached += new Set(c.members.map(home)).size;
      expectedDeliveries += c.members.length - 1;
      byUser.get(sender)!.emit(
        'message:send',
        {
          conversationId: c.id,
          clientMessageId: `f${i}`,
          body: `fan-out message ${i} `.padEnd(100, '.'),
        },
        (ack: { ok: boolean }) => {
          if (ack.ok) acked++;
          else failed++;
        },
      );
      const due = started + ((i + 1) * 1000) / RATE;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    await waitUntil(
      'every acked message delivered',
      () => delivered >= expectedDeliveries && acks() === MESSAGES,
      60_000,
    );
    if (failed > 0) throw new Error(`${failed} sends failed`);
    const after = await Promise.all(env.gateways.map(adapterIn));
    const probeAfter = probeCounter?.read();
    const egressAfter = await egress(env);
    await probeCounter?.close();
    const probeEgress =
      probeAfter && probeBefore ? probeAfter.socketBytes - probeBefore.socketBytes : 0;
    const egressBytes = egressAfter - egressBefore - probeEgress;
    const perInstance = env.gateways.map((g, i): FanoutInstance => {
      const counted = before[i] && after[i];
      const messages = counted
        ? after[i]!.messages - before[i]!.messages
        : probeAfter!.messages - probeBefore!.messages;
      const bytes = counted
        ? after[i]!.bytes - before[i]!.bytes
        : probeAfter!.bytes - probeBefore!.bytes;
      return {
        instance: g.name,
        received: messages,
        receivedBytes: bytes,
        share: share[i]!,
        ratio: Math.round((messages / share[i]!) * 100) / 100,
        source: counted ? 'adapter counters' : 'probe subscriber',
      };
    });
    const result: FanoutResult = {
      label,
      topology,
      gateway,
      gatewayCommit: commitOf(gateway),
      at: new Date().toISOString(),
      // Other work on the machine slows delivery, not these counts; recorded to say so.
      loadAverage: { atStart: loadAtStart, atEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
      instances: INSTANCES,
      users: USERS,
      messages: MESSAGES,
      conversations: conversations.length,
      membersPerMessage: Math.round((share.reduce((a, b) => a + b, 0) / MESSAGES) * 100) / 100,
      instancesWithMembersPerMessage: Math.round((instancesReached / MESSAGES) * 100) / 100,
      deliveries: delivered,
      perInstance,
      redisEgressBytesPerMessage: Math.round(egressBytes / MESSAGES),
      probeEgressBytesExcluded: probeEgress,
      receivedTotalPerMessage:
        Math.round((perInstance.reduce((a, p) => a + p.received, 0) / MESSAGES) * 100) / 100,
    };
    const dir = fileURLToPath(new URL('../results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `fanout-${label}.json`), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    report(dir);
  } finally {
    for (const s of sockets) s.close();
    await env.dispose();
  }
}

// `--report` only renders the section again from the results already there.
if (process.argv.includes('--report'))
  report(fileURLToPath(new URL('../results/', import.meta.url)));
else await main();
