import { execFile } from 'node:child_process';

export function redisServerBin(): string {
  return process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
}

export function redisCliBin(): string {
  return process.env['REDIS_CLI_BIN'] ?? 'redis-cli';
}

export interface RedisCliTarget {
  host: string;
  port: number;
  password?: string;
  /** PEM of the CA when the target only speaks TLS. */
  tlsCaFile?: string;
}

/** Runs one `redis-cli` command against a node and returns its raw output. */
export function runRedisCli(
  target: RedisCliTarget,
  args: string[],
  timeoutMs = 10_000,
): Promise<string> {
  const base = ['-h', target.host, '-p', String(target.port)];
  if (target.tlsCaFile) base.push('--tls', '--cacert', target.tlsCaFile);
  // REDISCLI_AUTH keeps the password off the command line (and out of its warning).
  const env = target.password ? { ...process.env, REDISCLI_AUTH: target.password } : process.env;
  return new Promise((resolve, reject) => {
    execFile(
      redisCliBin(),
      [...base, ...args],
      { env, timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`redis-cli ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}
