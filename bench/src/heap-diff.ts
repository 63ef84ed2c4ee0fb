// `node dist/heap-diff.js [sockets]`: where an idle socket's memory goes. Starts one gateway
// instance (production mode, the wire server as its store, a real Redis) and one relay, takes a
// V8 heap snapshot of each before and after `sockets` idle clients connect, and prints the
// growth per socket by object kind (shallow sizes: what each connection allocates itself).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startMongoWireServer,
  startNodeService,
  startRedis,
  GATEWAY_READY,
} from '@jobsphere/testing';
import { IdlePool, mintToken } from './loadgen/fleet.js';
import { gatewayMain, LOAD_GENERATOR_LIMITS, relayMain, rssBytes } from './processes.js';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * Shallow size and count per kind: "type:name" (constructor name for objects), and for closures
 * and their contexts the variables the context holds, which says which code made them.
 */
function summarize(file: string): Map<string, { size: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { meta } = snap.snapshot;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const edgeCountAt = fields.indexOf('edge_count');
  const edgeWidth = meta.edge_fields.length;
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
  const edgeToAt = meta.edge_fields.indexOf('to_node');
  const edgeTypes = meta.edge_types[0];
  // First edge of every node: edges are laid out node after node.
  const firstEdge: number[] = [];
  for (let i = 0, e = 0; i < snap.nodes.length; i += width) {
    firstEdge.push(e);
    e += snap.nodes[i + edgeCountAt]! * edgeWidth;
  }
  const edgesOf = (nodeIndex: number) => {
    const start = firstEdge[nodeIndex / width]!;
    const count = snap.nodes[nodeIndex + edgeCountAt]!;
    const list: { type: string; name: string; to: number }[] = [];
    for (let k = 0; k < count; k++) {
      const at = start + k * edgeWidth;
      const type = edgeTypes[snap.edges[at + edgeTypeAt]!]!;
      const raw = snap.edges[at + edgeNameAt]!;
      list.push({
        type,
        name: type === 'element' || type === 'hidden' ? String(raw) : snap.strings[raw]!,
        to: snap.edges[at + edgeToAt]!,
      });
    }
    return list;
  };
  const variables = (contextIndex: number) =>
    edgesOf(contextIndex)
      .filter((e) => e.type === 'context')
      .map((e) => e.name)
      .slice(0, 5)
      .join(',');
  const out = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    let name = snap.strings[snap.nodes[i + nameAt]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '';
    if (type === 'number') name = '';
    if (type === 'closure') {
      const context = edgesOf(i).find((e) => e.type === 'internal' && e.name === 'context');
      if (context) name = `${name || '(anonymous)'} {${variables(context.to)}}`;
    } else if (name === 'system / Context') name = `Context {${variables(i)}}`;
    const key = `${type}:${name.slice(0, 90)}`;
    const entry = out.get(key) ?? { size: 0, count: 0 };
    entry.size += snap.nodes[i + sizeAt]!;
    entry.count += 1;
    out.set(key, entry);
  }
  return out;
}

async function snapshotOf(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  for (;;) {
    const fresh = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (fresh) {
      // Streamed out by the process: done once the JSON document is closed.
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const text = readFileSync(join(dir, fresh), 'utf8').trimEnd();
        if (text.endsWith(']}')) return join(dir, fresh);
        if (Date.now() > deadline) throw new Error('heap snapshot never completed');
      }
    }
    if (Date.now() > deadline) throw new Error('no heap snapshot written');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const sockets = Number(process.argv[2] ?? 2000);
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-heap-'));
  process.chdir(dir); // --heapsnapshot-signal writes into the child's working directory
  const secret = randomBytes(32).toString('hex');
  const redis = await startRedis();
  const store = await startMongoWireServer({ dbName: 'heap' });
  const pool = new IdlePool(2);
  const nodeArgs = ['--heapsnapshot-signal=SIGUSR2'];
  const gateway = await startNodeService({
    script: gatewayMain(),
    nodeArgs,
    readyPattern: GATEWAY_READY,
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      JWT_SECRET: secret,
      REDIS_URL: redis.url,
      REDIS_ALLOW_PLAINTEXT: 'true',
      MONGODB_URI: store.uri,
      METRICS_PORT: '0',
      CLIENT_URL: 'http://127.0.0.1',
      ATTACHMENTS_LOCAL_IN_PRODUCTION: 'true',
      ...LOAD_GENERATOR_LIMITS,
    },
  });
  const relay = await startNodeService({
    script: relayMain(),
    nodeArgs,
    readyPattern: /baseline relay listening on :/,
    env: { PATH: process.env['PATH'], REDIS_URL: redis.url },
  });
  try {
    for (const [name, service] of [
      ['gateway', gateway],
      ['relay', relay],
    ] as const) {
      const pid = service.process.pid!;
      const users = await Promise.all(
        Array.from({ length: sockets }, async (_, i) => {
          const userId = `${name}-heap${i}`;
          return { userId, token: await mintToken(secret, userId, 'candidate') };
        }),
      );
      // Warm up: the first connections load code and fill caches that later ones reuse.
      await pool.open(service.url, users.slice(0, 50));
      await pool.close();
      const rss0 = rssBytes(pid);
      const a = summarize(await snapshotOf(pid, dir));
      const opened = await pool.open(service.url, users);
      const connected = opened.reduce((n, r) => n + r.connected, 0);
      await new Promise((r) => setTimeout(r, 2_000));
      const rss1 = rssBytes(pid);
      const b = summarize(await snapshotOf(pid, dir));
      await pool.close();
      const rows = [...b]
        .map(([key, v]) => {
          const was = a.get(key) ?? { size: 0, count: 0 };
          return {
            key,
            bytes: (v.size - was.size) / connected,
            count: (v.count - was.count) / connected,
          };
        })
        .sort((x, y) => y.bytes - x.bytes);
      const total = rows.reduce((n, r) => n + r.bytes, 0);
      console.log(
        `\n${name}: ${connected} idle sockets; JS heap +${(total / 1024).toFixed(1)} KiB per socket (shallow, all kinds); RSS +${((rss1 - rss0) / connected / 1024).toFixed(1)} KiB per socket`,
      );
      console.log('  bytes/socket  objects/socket  kind');
      for (const r of rows.slice(0, 40))
        console.log(
          `  ${r.bytes.toFixed(0).padStart(12)}  ${r.count.toFixed(2).padStart(14)}  ${r.key}`,
        );
      for (const f of readdirSync(dir)) if (f.endsWith('.heapsnapshot')) rmSync(join(dir, f));
    }
  } finally {
    await pool.shutdown();
    await Promise.all([gateway.process.dispose(), relay.process.dispose()]);
    await store.stop();
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
