import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  redis: string;
  loadAverageAtStart: number[];
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel =
      /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: keep os.cpus()
  }
  let redis = 'unknown';
  try {
    redis =
      /v=(\S+)/.exec(
        execFileSync(process.env['REDIS_SERVER_BIN'] ?? 'redis-server', ['--version'], {
          encoding: 'utf8',
        }),
      )?.[1] ?? redis;
  } catch {
    // reported as unknown
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  return {
    cores: cpus().length,
    cpuModel,
    memoryBytes: totalmem(),
    node: process.version,
    redis,
    loadAverageAtStart: load,
  };
}
