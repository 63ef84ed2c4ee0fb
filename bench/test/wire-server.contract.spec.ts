// The benchmark measures the production store path (the gateway's MongoChatStore: Mongoose and
// the Node driver) against the Node wire server of @jobsphere/testing. Its figures mean something
// only if that server keeps every rule the store relies on, so the gateway's own store contract
// suite and its round-trip test run here against it, unchanged: the gateway's tests prefer the
// server in MONGODB_URI (through startMongo), which is how a user points them at a real MongoDB.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { startMongoWireServer, type MongoWireServerHandle } from '@jobsphere/testing';

const require = createRequire(import.meta.url);
const gatewayDir = dirname(require.resolve('@jobsphere/chat-gateway/package.json'));
const jestBin = require.resolve('jest/bin/jest');

function runGatewaySpecs(uri: string, specs: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--experimental-vm-modules', jestBin, '--ci', ...specs],
      {
        cwd: gatewayDir,
        timeout: 120_000,
        env: { ...process.env, NODE_OPTIONS: '', MONGODB_URI: uri },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        done({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          output: stdout + stderr,
        }),
    );
  });
}

describe('the benchmark wire server under the gateway store contract', () => {
  let server: MongoWireServerHandle;
  let run: { code: number; output: string };

  beforeAll(async () => {
    server = await startMongoWireServer();
    run = await runGatewaySpecs(`mongodb://127.0.0.1:${server.port}/contract`, [
      'test/mongo.store.spec.ts',
      'test/mongo.roundtrips.spec.ts',
    ]);
  }, 130_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('passes every test of the contract suite and the round-trip test, on this server', async () => {
    const summary = /Tests:\s+(.*)/.exec(run.output)?.[1] ?? '';
    expect({ code: run.code, summary }).toEqual({
      code: 0,
      summary: expect.stringMatching(/^\d+ passed, \d+ total$/),
    });
    expect(run.output).toContain(
      `MongoDB from MONGODB_URI (mongodb://127.0.0.1:${server.port}/contract)`,
    );
    // The suite went through this server: every kind of command the store sends reached it.
    const { commands } = await server.stats();
    for (const name of ['createIndexes', 'insert', 'update', 'find', 'findAndModify'])
      expect(commands[name]).toBeGreaterThan(0);
    console.log(/\[figure\].*/.exec(run.output)?.[0] ?? 'no round-trip figure printed');
  });
});
