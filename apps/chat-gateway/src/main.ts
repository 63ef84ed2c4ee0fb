import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config/app-config.js';
import { createLogger, startGateway } from './bootstrap.js';
import { runPrimary } from './workers/primary.js';

// The only file that touches process.env and signals.
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`chat-gateway: ${error.message}`);
  process.exit(1);
}
const logger = createLogger(config);
if (config.workers > 1 && cluster.isPrimary) {
  // The supervisor: forks the workers (this same file), each of which runs the branch below.
  const code = await runPrimary(config, logger).catch((error: unknown) => {
    logger.fatal(
      `failed to start: ${error instanceof Error ? error.message : String(error)}`,
      'Bootstrap',
    );
    return 1;
  });
  process.exit(code);
}
const gateway = await startGateway(config, logger).catch((error: unknown) => {
  // e.g. the port is taken or MongoDB/Redis cannot be reached: one clear line, exit 1.
  logger.fatal(
    `failed to start: ${error instanceof Error ? error.message : String(error)}`,
    'Bootstrap',
  );
  process.exit(1);
});

let signalled = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    logger.log(`${signal} received: draining`, 'Shutdown');
    gateway.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`, 'Shutdown');
        process.exit(1);
      },
    );
  });
}
