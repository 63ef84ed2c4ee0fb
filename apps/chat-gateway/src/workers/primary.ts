import cluster, { type Worker } from 'node:cluster';
import { type ConsoleLogger } from '@nestjs/common';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { type AppConfig } from '../config/app-config.js';
import { startMetricsServer } from '../metrics/metrics.server.js';
import { Supervisor, type SupervisedWorker } from './supervisor.js';

/** A crash loop stops being retried after this many replacements in a minute. */
export const WORKER_RESTARTS = { max: 5, windowMs: 60_000 };
/** Beyond the drain, what a worker needs to close Socket.IO, Redis and the store. */
const CLOSE_MARGIN_MS = 10_000;

function clusterWorker(worker: Worker): SupervisedWorker {
  return {
    pid: worker.process.pid,
    onListening: (listener) => worker.once('listening', (address) => listener(address.port)),
    onExit: (listener) => worker.on('exit', listener),
    kill: (signal) => worker.process.kill(signal),
    send: (report) => {
      if (worker.isConnected()) worker.send(report);
    },
  };
}

/**
 * The primary process when GATEWAY_WORKERS > 1: it serves no chat itself. It forks the workers
 * (each a whole gateway on the shared port: Node's cluster module hands each TCP connection to one
 * of them), replaces one that dies, serves /metrics for all of them on the metrics listener, and
 * on SIGTERM or SIGINT drains them all. Resolves with the process's exit code.
 */
export async function runPrimary(config: AppConfig, logger: ConsoleLogger): Promise<number> {
  const context = 'Supervisor';
  const log = {
    log: (m: string) => logger.log(m, context),
    warn: (m: string) => logger.warn(m, context),
    error: (m: string) => logger.error(m, context),
  };
  const own = new Registry();
  const alive = new Gauge({
    name: 'chat_gateway_workers',
    help: 'Gateway workers accepting connections on this instance',
    registers: [own],
  });
  const restarts = new Counter({
    name: 'chat_gateway_worker_restarts_total',
    help: 'Workers replaced after they died',
    registers: [own],
  });
  let replaced = 0;
  const supervisor = new Supervisor({
    workers: config.workers,
    spawn: () => clusterWorker(cluster.fork()),
    restarts: WORKER_RESTARTS,
    stopTimeoutMs: config.shutdown.drainMs + CLOSE_MARGIN_MS,
    log,
    onChange: (report) => {
      alive.set(report.alive);
      restarts.inc(supervisor.restartsTotal - replaced);
      replaced = supervisor.restartsTotal;
    },
    onEmpty: () => stop('no worker left'),
  });
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const aggregator = new AggregatorRegistry();
  const metricsServer = config.metrics
    ? await startMetricsServer(
        {
          render: async () => ({
            contentType: aggregator.contentType,
            body: (await aggregator.clusterMetrics()) + (await own.metrics()),
          }),
        },
        config.metrics,
      )
    : undefined;
  const stop = (reason: string) => {
    log.log(`${reason}: draining ${config.workers} workers`);
    void supervisor.stop().then(async (code) => {
      await metricsServer?.close();
      log.log(`shutdown complete (exit ${code})`);
      finish(code);
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop(signal));
  log.log(`starting ${config.workers} gateway workers (GATEWAY_WORKERS)`);
  try {
    const port = await supervisor.start();
    if (metricsServer)
      log.log(`metrics on ${config.metrics!.host}:${metricsServer.port}/metrics (all workers)`);
    logger.log(
      `chat gateway listening on :${port} (${config.nodeEnv}) with ${config.workers} workers`,
      'Bootstrap',
    );
  } catch (error) {
    await metricsServer?.close();
    throw error;
  }
  return finished;
}
