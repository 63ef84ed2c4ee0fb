import cluster from 'node:cluster';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { isWorkersReport, type WorkersReport } from './workers.protocol.js';

/**
 * In a worker: the supervisor's latest word on the instance's workers, for /health. Outside a
 * supervisor (GATEWAY_WORKERS=1) there is nothing to report.
 */
@Injectable()
export class WorkersState implements OnApplicationShutdown {
  private latest: WorkersReport | undefined;
  private readonly listener = (message: unknown) => {
    if (isWorkersReport(message)) this.latest = message;
  };

  constructor() {
    if (cluster.isWorker) process.on('message', this.listener);
  }

  /** Undefined when this process is not a supervised worker. */
  get report(): WorkersReport | undefined {
    return cluster.isWorker ? this.latest : undefined;
  }

  onApplicationShutdown(): void {
    process.off('message', this.listener);
  }
}
