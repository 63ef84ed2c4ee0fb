// Centrifugo as a bench target: two nodes on the same redis-server as the other targets (Redis
// engine), one channel per conversation in a namespace with history and recovery on. Built from
// the Go module proxy by scripts/build-centrifugo.sh (cached outside the clone).
//
// Publishing: client-side publish (a device publishes into its conversation's channel over its
// own connection), allowed by a permissive namespace (`allow_subscribe_for_client`,
// `allow_publish_for_subscriber`). Why not the server HTTP API: with it, a send would go device ->
// an application backend -> Centrifugo's API, and that backend (a fourth process with its own
// HTTP hop and CPU) is what would be measured as much as Centrifugo; client-side publish is the
// same one-hop path the gateway's devices use (send over the socket, ack over it). What it gives
// up, it says: no server-side check of who may post where beyond channel membership by
// subscription, and no idempotency key.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, ManagedProcess } from '@jobsphere/testing';
import type { Instance, Target } from './processes.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The namespace every conversation channel is in (`chat:<conversation id>`). */
export const NAMESPACE = 'chat';

/**
 * The binary: built once from the Go module proxy into the cache (minutes the first time),
 * reused after. Resolves with its path; the script prints what it did and how long it took.
 */
export function buildCentrifugo(log: (line: string) => void): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      'bash',
      [join(packageDir, 'scripts', 'build-centrifugo.sh')],
      { timeout: 20 * 60_000, maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        for (const line of stderr.split('\n').filter(Boolean)) log(line);
        if (error) fail(new Error(`build-centrifugo.sh failed: ${stderr.slice(-2000)}`));
        else done(stdout.trim());
      },
    );
  });
}

/** Centrifugo v6 configuration: Redis engine, JWT (HS256, the same secret as the gateway's). */
export function centrifugoConfig(opts: {
  port: number;
  redisUrl: string;
  jwtSecret: string;
}): Record<string, unknown> {
  return {
    log: { level: 'info' },
    http_server: { address: '127.0.0.1', port: String(opts.port) },
    client: {
      token: { hmac_secret_key: opts.jwtSecret },
      allowed_origins: ['*'],
    },
    engine: { type: 'redis', redis: { address: [opts.redisUrl] } },
    channel: {
      namespaces: [
        {
          name: NAMESPACE,
          // Stored and recoverable: the last 1,000 publications per channel for 5 minutes.
          history_size: 1000,
          history_ttl: '300s',
          force_recovery: true,
          force_positioning: true,
          allow_subscribe_for_client: true,
          allow_publish_for_subscriber: true,
        },
      ],
    },
  };
}

async function startNode(
  bin: string,
  name: string,
  redisUrl: string,
  jwtSecret: string,
): Promise<Instance> {
  const port = await getFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-centrifugo-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(centrifugoConfig({ port, redisUrl, jwtSecret }), null, 2));
  const proc = new ManagedProcess({
    command: bin,
    args: ['--config', config],
    // Ready once it serves (it logs its HTTP endpoints when it listens).
    readyPattern: /serving (websocket|http)|"msg":"serving|endpoints on/i,
    readyTimeoutMs: 30_000,
    env: { PATH: process.env['PATH'] },
    cwd: dir,
    tempDirs: [dir],
  });
  try {
    await proc.start();
  } catch (error) {
    throw new Error(`${name} did not start: ${String(error)}\n${proc.recentOutput()}`, {
      cause: error,
    });
  }
  return { url: `ws://127.0.0.1:${port}/connection/websocket`, port, proc };
}

export async function startCentrifugo(
  bin: string,
  redisUrl: string,
  jwtSecret: string,
): Promise<Target> {
  const [A, B] = await Promise.all([
    startNode(bin, 'centrifugo A', redisUrl, jwtSecret),
    startNode(bin, 'centrifugo B', redisUrl, jwtSecret),
  ]);
  return { name: 'centrifugo', A, B };
}
