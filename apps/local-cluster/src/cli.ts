import { createInterface } from 'node:readline';
import { leaveSignalsToCaller } from '@jobsphere/testing';
import { runDrainProof } from './drain-proof.js';
import { startLocalCluster, type LocalCluster } from './stack.js';

// `pnpm dev:cluster` (root): the production-shaped stack until Ctrl-C; `--drain-proof` plays a
// rolling-deploy termination under traffic once, prints the counts and exits (1 if anything lost).
// The only file that reads the process environment.
const proof = process.argv.includes('--drain-proof');
const log = (line: string) => console.log(line);
const mongodbUri = process.env.MONGODB_URI || undefined;
const workers = process.env.GATEWAY_WORKERS || undefined;

let cluster: LocalCluster | undefined;
let stopping: Promise<void> | undefined;
const stop = (code: number) => {
  stopping ??= (async () => {
    await cluster?.stop();
    process.exit(code);
  })();
  return stopping;
};
// Ctrl-C and SIGTERM stop every service in order (nginx with its workers, the gateways, the
// data stores), remove the folder with the secret file, then exit 0. The services run in their own
// process groups, so a terminal's Ctrl-C reaches only this process; a second one changes nothing.
leaveSignalsToCaller();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0));

try {
  cluster = await startLocalCluster({
    ...(mongodbUri && { mongodbUri }),
    ...(workers && { workers }),
    drainMs: proof ? 3_000 : 10_000,
    // The proof sends 20 messages a second per person: above the per-user budget on purpose.
    ...(proof && { env: { RATE_LIMIT_SEND_PER_10S: '100000' } }),
    log: proof ? () => {} : log,
  });
} catch (error) {
  console.error(
    `dev:cluster: could not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}

const [first] = cluster.gateways;
console.log(`
JobSphere chat, production-shaped, on this machine:
  load balancer  ${cluster.url}   (nginx: websocket upgrade, GET /health of each instance every 0.5 s, /metrics blocked)
${cluster.gateways
  .map(
    (g) =>
      `  gateway ${g.name}      ${g.url}   (NODE_ENV=production, GATEWAY_WORKERS=${workers ?? 'auto'}, pid ${g.process.pid}, metrics ${g.metricsUrl}/metrics)`,
  )
  .join('\n')}
  Redis          rediss://${cluster.redis.host}:${cluster.redis.port}   (TLS only; AUTH token read from Secrets Manager)
  MongoDB        ${mongodbUri ? 'MONGODB_URI: ' : ''}${cluster.mongoDescription}
  Secrets Manager and instance metadata: fakes on loopback (${cluster.secretsManager.url})
Tokens: JWT_SECRET="$(cat ${cluster.jwtSecretFile})" pnpm -s run token alice --role recruiter
`);

if (proof) {
  const result = await runDrainProof(cluster, { log });
  console.log(
    `\nrolling drain: ${result.acked} messages acked, ${result.delivered}/${result.expectedDeliveries} deliveries (every acked message on every device), ${result.lost} lost; ` +
      `${result.socketsDrained} sockets drained from ${first!.name} (exit ${result.exitCode}), ${result.drainNotices} devices told server:draining; sockets before ${JSON.stringify(result.socketsBefore)}, after ${JSON.stringify(result.socketsAfter)}`,
  );
  await stop(result.lost === 0 && result.exitCode === 0 ? 0 : 1);
} else {
  console.log(
    'Type "terminate A" (or B) to play an Auto Scaling termination of that instance; Ctrl-C stops everything.',
  );
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    const match = /^\s*terminate\s+(\S+)\s*$/i.exec(line);
    if (!match) return console.log('commands: terminate <A|B>');
    const name = match[1]!.toUpperCase();
    console.log(`terminating ${name}: its metadata says Terminated; the watcher drains it`);
    cluster
      .terminate(name)
      .then(({ exitCode }) =>
        console.log(`${name} drained and stopped (exit ${exitCode}); lifecycle action completed`),
      )
      .catch((error: unknown) => console.error(String(error)));
  });
  input.on('close', () => void stop(0));
}
