import createDebug from 'debug';

export interface RedisKitLogger {
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** Logs through the `debug` package: `DEBUG=jobsphere:redis*` shows everything. */
export function createDebugLogger(namespace = 'jobsphere:redis'): RedisKitLogger {
  const log = createDebug(namespace);
  const warn = createDebug(`${namespace}:warn`);
  const error = createDebug(`${namespace}:error`);
  return { log: (m) => log(m), warn: (m) => warn(m), error: (m) => error(m) };
}
