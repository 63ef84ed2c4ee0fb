import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from '../ports.js';
import { ManagedProcess } from '../process.js';
import { redisServerBin } from './binaries.js';
import { generateTlsMaterial } from './tls.js';

export const REDIS_READY = /Ready to accept connections/;

export interface StartRedisOptions {
  /** Sets `--requirepass`. */
  password?: string;
  /** Serves TLS only (no plain port), with a CA and certificate generated for this run. */
  tls?: boolean;
}

export interface RedisServer {
  host: string;
  port: number;
  /** `redis://` or `rediss://`, with the password when there is one. */
  url: string;
  password?: string;
  /** PEM strings; `caFile` is handy for `redis-cli --cacert`. */
  tls?: { ca: string; cert: string; key: string; caFile: string };
  /** The server process now (a new one after `restart()`), for CPU and memory probes. */
  readonly pid: number | undefined;
  /** Graceful shutdown (SIGTERM). */
  stop(): Promise<void>;
  /** Abrupt death (SIGKILL). */
  kill(): Promise<void>;
  /** Starts again on the same port with the same settings (the data is gone: nothing is saved). */
  restart(): Promise<void>;
  /** SIGSTOP: stops answering with its connections left open (a stall). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Stops the server and removes its temp folder. */
  dispose(): Promise<void>;
}

/** A throwaway standalone redis-server on a free loopback port. */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-redis-'));
  const host = '127.0.0.1';
  const port = await getFreePort();
  const args = ['--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir];
  let tls: RedisServer['tls'];
  if (opts.tls) {
    let material;
    try {
      material = await generateTlsMaterial(dir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    tls = { ca: material.ca, cert: material.cert, key: material.key, caFile: material.caFile };
    args.push('--port', '0', '--tls-port', String(port));
    args.push(
      '--tls-cert-file',
      material.certFile,
      '--tls-key-file',
      material.keyFile,
      '--tls-ca-cert-file',
      material.caFile,
    );
    args.push('--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  if (opts.password !== undefined) args.push('--requirepass', opts.password);

  const proc = new ManagedProcess({
    command: redisServerBin(),
    args,
    readyPattern: REDIS_READY,
    tempDirs: [dir],
  });
  try {
    await proc.start();
  } catch (error) {
    await proc.dispose();
    throw error;
  }
  const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    host,
    port,
    url: `${opts.tls ? 'rediss' : 'redis'}://${auth}${host}:${port}`,
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(tls ? { tls } : {}),
    get pid() {
      return proc.pid;
    },
    stop: () => proc.stop(),
    kill: () => proc.kill(),
    restart: () => proc.restart(),
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    dispose: () => proc.dispose(),
  };
}
