// `node dist/mongo/wire/main.js --port N [--reply-delay-ms D]`: the wire server as its own
// process, so its CPU is its own and not the benchmark's. Exits on SIGTERM and on stdin EOF
// (it dies with the process that started it, even one killed with SIGKILL).
import { parseArgs } from 'node:util';
import { MongoWireServer } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'reply-delay-ms': { type: 'string', default: '0' },
    'exit-on-stdin-eof': { type: 'boolean', default: false },
  },
});

const server = new MongoWireServer({ replyDelayMs: Number(values['reply-delay-ms']) });
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
