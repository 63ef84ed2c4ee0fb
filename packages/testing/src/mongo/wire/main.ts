// `node dist/mongo/wire/main.js --port N [options]`: the wire server as its own process, so its
// CPU is its own and not the benchmark's (options: see WireServerOptions in server.ts). Exits on
// SIGTERM and, with --exit-on-stdin-eof, on stdin EOF (it dies with the process that started it,
// even one killed with SIGKILL).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MongoWireServer } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'reply-delay-ms': { type: 'string', default: '0' },
    'tls-cert-file': { type: 'string' },
    'tls-key-file': { type: 'string' },
    'replica-set': { type: 'string' },
    'scram-sha1-only': { type: 'boolean', default: false },
    'documentdb-rules': { type: 'boolean', default: false },
    'index-build-ms': { type: 'string' },
    'exit-on-stdin-eof': { type: 'boolean', default: false },
  },
});

const certFile = values['tls-cert-file'];
const keyFile = values['tls-key-file'];
const server = new MongoWireServer({
  replyDelayMs: Number(values['reply-delay-ms']),
  ...(certFile && keyFile && { tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } }),
  ...(values['replica-set'] && { replicaSet: values['replica-set'] }),
  // MONGO_WIRE_USERS="user:password,...": credentials by environment, not on the command line.
  users: (process.env['MONGO_WIRE_USERS'] ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf(':');
      return { user: pair.slice(0, at), password: pair.slice(at + 1) };
    }),
  scramSha1Only: values['scram-sha1-only'],
  documentDbRules: values['documentdb-rules'],
  ...(values['index-build-ms'] && { indexBuildMs: Number(values['index-build-ms']) }),
});
const port = await server.listen(Number(values.port), values.host);
console.log(`mongo wire server listening on ${values.host}:${port}`);

const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (values['exit-on-stdin-eof']) {
  process.stdin.resume();
  process.stdin.on('end', stop);
}
