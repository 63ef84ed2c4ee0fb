import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTlsMaterial, MongoWireServer, useExistingMongo } from '@jobsphere/testing';
import { Device } from '../support/device.js';
import { openAccepted, rest, tokenFor } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// The gateways reach the store with the production connection string's shape (Amazon
// DocumentDB: TLS with its own CA file, a replica set, primary reads, no retryable writes,
// SCRAM-SHA-1) and its planner rules; two instances boot at once and a conversation works.
describe('the store over the production connection string', () => {
  let dir: string;
  let server: MongoWireServer;
  let env: Environment;
  const devices: Device[] = [];

  afterAll(async () => {
    for (const d of devices) await d.close();
    await env?.dispose();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('boots two gateways on TLS + replicaSet + SCRAM-SHA-1 and carries a conversation', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-tls-'));
    const tls = await generateTlsMaterial(dir);
    server = new MongoWireServer({
      tls: { key: tls.key, cert: tls.cert },
      replicaSet: 'rs0',
      users: [{ user: 'chat', password: 'store-password' }],
      scramSha1Only: true,
      documentDbRules: true,
      indexBuildMs: 20,
    });
    const port = await server.listen();
    const params = new URLSearchParams({
      tls: 'true',
      tlsCAFile: tls.caFile,
      replicaSet: 'rs0',
      readPreference: 'primary',
      retryWrites: 'false',
    });
    env = await startEnvironment({
      mongo: () =>
        useExistingMongo(
          `mongodb://chat:store-password@127.0.0.1:${port}/chat?${params.toString()}`,
        ),
    });
    console.log(
      `store: wire server on 127.0.0.1:${port} (TLS with a test CA, replica set rs0, SCRAM-SHA-1 only, DocumentDB rules)`,
    );
    const [A, B] = env.gateways;
    for (const g of [A!, B!]) {
      expect((await rest(g.url, undefined, 'GET', '/health/ready')).status).toBe(200);
    }

    const rita = await tokenFor('rita', 'recruiter');
    const sam = await tokenFor('sam', 'candidate');
    const conversation = await openAccepted(A!.url, rita, sam, { userId: 'sam' });
    const ritaDevice = new Device('rita', 'rita', 'recruiter', [A!.url]);
    const samDevice = new Device('sam', 'sam', 'candidate', [B!.url]);
    for (const d of [ritaDevice, samDevice]) {
      await d.start();
      devices.push(d);
    }
    const sent = await ritaDevice.sendAndWait(conversation.id, 'over TLS');
    const reply = await samDevice.sendAndWait(conversation.id, 'received');
    const history = await rest<{ messages: { id: string }[] }>(
      B!.url,
      sam,
      'GET',
      `/conversations/${conversation.id}/messages?limit=10`,
    );
    expect(history.body.messages.map((m) => m.id)).toEqual([sent.id, reply.id]);
    expect(samDevice.pushed.map((m) => m.id)).toContain(sent.id);
  }, 90_000);
});
