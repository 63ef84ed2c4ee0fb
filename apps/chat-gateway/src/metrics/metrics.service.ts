import { readdir } from 'node:fs/promises';
import { Injectable, Logger } from '@nestjs/common';
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

/**
 * Default collectors that walk every handle or file descriptor of the process on the event loop
 * at each scrape: at 15,000 sockets that is 15,000 objects built (twice over for the handles).
 * chat_connected_sockets says what they would; the open descriptors are read asynchronously.
 */
const PER_SCRAPE_WALKS = [
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
  'process_open_fds',
];

/** Prometheus metrics of one instance; scraped at GET /metrics (on the metrics port in production). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly connectedSockets = new Gauge({
    name: 'chat_connected_sockets',
    help: 'Sockets connected to this instance',
    registers: [this.registry],
  });
  readonly messagesStored = new Counter({
    name: 'chat_messages_stored_total',
    help: 'Messages stored (acked as sent); duplicates of a clientMessageId are not counted',
    registers: [this.registry],
  });
  readonly messagesDelivered = new Counter({
    name: 'chat_messages_delivered_total',
    help: 'message:new fan-out: member users addressed (every device of each, on any instance), excluding duplicates',
    registers: [this.registry],
  });
  readonly ackLatency = new Histogram({
    name: 'chat_ack_latency_seconds',
    help: 'Time from receiving a socket event to acknowledging it',
    labelNames: ['event', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'chat_rate_limited_total',
    help: 'Requests refused by a rate limit',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly socketsCutOff = new Counter({
    name: 'chat_sockets_cut_off_total',
    help: 'Sockets closed by the server: a packet flood, or a client that stopped reading (slow)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'chat_connections_refused_total',
    help: 'Handshakes refused, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: 'chat_webhook_outcomes_total',
    help: 'Outbox work by outcome: delivered, retry, dead (dead-lettered), notified (offline check that held)',
    labelNames: ['outcome', 'type'] as const,
    registers: [this.registry],
  });
  readonly presendHook = new Counter({
    name: 'chat_presend_hook_total',
    help: "Pre-send hook verdicts: allow, reject, replace, flag, or kept (a retry answered from the first attempt's)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly presendHookFaults = new Counter({
    name: 'chat_presend_hook_faults_total',
    help: 'Pre-send hook calls without a usable verdict, by fault (timeout, error, garbage, saturated, circuit-open) and the failure policy applied (open, closed)',
    labelNames: ['fault', 'applied'] as const,
    registers: [this.registry],
  });
  readonly adapterMessages = new Counter({
    name: 'chat_redis_adapter_messages_total',
    help: 'Messages this instance published to (out) and received from (in) the Redis adapter channels',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly adapterBytes = new Counter({
    name: 'chat_redis_adapter_bytes_total',
    help: 'Bytes of those messages',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly adapterDropped = new Counter({
    name: 'chat_redis_adapter_dropped_total',
    help: 'Publishes dropped because Redis was unreachable or too slow (their rooms are told to sync)',
    registers: [this.registry],
  });
  readonly responseTimesLost = new Counter({
    name: 'chat_response_time_writes_lost_total',
    help: 'Response-time figure writes that failed after their message was stored (the send was answered; the figure is lost)',
    registers: [this.registry],
  });
  readonly dependencyErrors = new Counter({
    name: 'chat_dependency_errors_total',
    help: 'Errors reported by Redis clients or the store',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly openFileDescriptors = new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors (read off the event loop)',
    registers: [], // registered in place of prom-client's own, below
    async collect() {
      // prom-client's own reads /proc/self/fd synchronously: 15,000 sockets are 15,000 entries.
      this.set((await readdir('/proc/self/fd').catch(() => [])).length);
    },
  });

  constructor() {
    // Includes nodejs_eventloop_lag_seconds and process memory.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    for (const name of PER_SCRAPE_WALKS) this.registry.removeSingleMetric(name);
    this.registry.registerMetric(this.openFileDescriptors);
  }

  /** In a cluster worker: answer the supervisor's scrapes with this registry (prom-client's IPC). */
  answerSupervisor(): void {
    AggregatorRegistry.setRegistries(this.registry);
    new AggregatorRegistry(); // its constructor installs the worker's IPC listener
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** A Nest logger for a dependency's client that also counts the errors it reports. */
export function countingLogger(dependency: string, metrics: MetricsService) {
  const logger = new Logger(dependency);
  return {
    log: (message: string) => logger.log(message),
    warn: (message: string) => logger.warn(message),
    error: (message: string) => {
      metrics.dependencyErrors.inc({ dependency: dependency.toLowerCase() });
      logger.error(message);
    },
  };
}
