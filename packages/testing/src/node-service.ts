import { getFreePort } from './ports.js';
import { ManagedProcess } from './process.js';

/** What the gateway prints once it accepts connections. */
export const GATEWAY_READY = /chat gateway listening on :/;

export interface NodeService {
  url: string;
  port: number;
  process: ManagedProcess;
}

export interface StartNodeServiceOptions {
  /** The built script, e.g. the gateway's dist/main.js. */
  script: string;
  /** The whole environment of the child (PORT is added). */
  env: NodeJS.ProcessEnv;
  readyPattern?: RegExp;
  readyTimeoutMs?: number;
  /** Node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}

/**
 * Runs a Node HTTP service (the gateway by default) as a real process on a free loopback port,
 * ready once it says so. Tests, the try page's browser test and the benchmark all start it here.
 */
export async function startNodeService(options: StartNodeServiceOptions): Promise<NodeService> {
  const port = await getFreePort();
  const proc = new ManagedProcess({
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), options.script],
    readyPattern: options.readyPattern ?? GATEWAY_READY,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    env: { ...options.env, PORT: String(port) },
  });
  await proc.start();
  return { url: `http://127.0.0.1:${port}`, port, process: proc };
}
