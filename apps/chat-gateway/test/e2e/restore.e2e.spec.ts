import { waitUntil } from '@jobsphere/testing';
import { type ConversationDto, type MessageDto } from '@jobsphere/chat-domain';
import mongoose from 'mongoose';
import { Device } from '../support/device.js';
import { rest, tokenFor, acceptInvitations } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

const { MongoClient } = mongoose.mongo;

// The restore runbook (docs/deploy.md) under a connected SDK: the store is wound back to a
// snapshot while a device holds later messages, the operator rotates the epoch, and the device,
// once reconnected, shows exactly what the store holds, each message once, including what was
// written after the restore at versions the device had already passed.
describe('a store restored from a snapshot under a connected SDK', () => {
  let env: Environment;
  let client: InstanceType<typeof MongoClient> | undefined;
  const devices: Device[] = [];

  afterAll(async () => {
    for (const d of devices) await d.close();
    await client?.close();
    await env?.dispose();
  });

  it('the device starts over and shows the store, each message once', async () => {
    env = await startEnvironment({ gateways: 1 });
    console.log(`store: ${env.mongo.description}`);
    const [gateway] = env.gateways;
    const url = gateway!.url;
    const recruiter = await tokenFor('rita', 'recruiter');
    const conversation = (
      await rest<ConversationDto>(url, recruiter, 'POST', '/conversations', {
        kind: 'group',
        title: 'Restore',
        memberIds: ['sam'],
      })
    ).body;
    await acceptInvitations(url, conversation.id, [await tokenFor('sam', 'candidate')]);
    const rita = new Device('rita', 'rita', 'recruiter', [url]);
    const sam = new Device('sam', 'sam', 'candidate', [url]);
    for (const d of [rita, sam]) {
      await d.start();
      devices.push(d);
    }
    const bodies = () => sam.shown(conversation.id).map((m) => m.body);

    await rita.sendAndWait(conversation.id, 'before 1');
    await rita.sendAndWait(conversation.id, 'before 2');
    await waitUntil('sam shows the first two', () => bodies().length === 2, 10_000);

    // The snapshot: every collection as it is now (the epoch document included).
    client = new MongoClient(env.mongo.uri);
    await client.connect();
    const db = client.db();
    const snapshot = new Map<string, Record<string, unknown>[]>();
    for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray())
      snapshot.set(name, await db.collection(name).find({}).toArray());
    expect(snapshot.get('meta')).toHaveLength(1);

    for (let i = 1; i <= 3; i++) await rita.sendAndWait(conversation.id, `lost ${i}`);
    await waitUntil('sam shows all five', () => bodies().length === 5, 10_000);
    const versionHeld = Math.max(...sam.shown(conversation.id).map((m) => m.version));

    // The restore, then the runbook's rotation, while both devices stay connected.
    for (const [name, docs] of snapshot) {
      await db.collection(name).deleteMany({});
      if (docs.length > 0) await db.collection(name).insertMany(docs);
    }
    await db.collection<{ _id: string }>('meta').deleteOne({ _id: 'sync' });

    // Written after the restore, at versions sam's device has already passed.
    const after = await rita.sendAndWait(conversation.id, 'after the restore');
    expect(after.version).toBeLessThanOrEqual(versionHeld);

    const announced: MessageDto[] = [];
    const restarts: string[] = [];
    sam.client.on('message', ({ message }) => announced.push(message));
    sam.client.on('restart', ({ epoch }) => restarts.push(epoch));
    sam.client.reconnect();
    const expected = ['before 1', 'before 2', 'after the restore'];
    await waitUntil(
      'sam shows what the store holds',
      () => {
        const now = bodies();
        if (restarts.length === 0 || now.join('|') !== expected.join('|'))
          throw new Error(`restarts ${restarts.length}, shows [${now.join(', ')}]`);
        return true;
      },
      15_000,
    );
    const shown = sam.shown(conversation.id);
    expect(new Set(shown.map((m) => m.id)).size).toBe(shown.length);
    expect(shown.map((m) => m.seq)).toEqual([1, 2, 3].map((n) => shown[0]!.seq + n - 1));
    expect(restarts).toHaveLength(1);
    // Only a message the device had not shown before may be announced, and at most once.
    expect(announced.map((m) => m.body).filter((b) => b !== 'after the restore')).toEqual([]);
    expect(announced.filter((m) => m.body === 'after the restore').length).toBeLessThanOrEqual(1);

    // Live again in the new epoch: the next message arrives once.
    await rita.sendAndWait(conversation.id, 'next');
    await waitUntil('sam shows the next message', () => bodies().at(-1) === 'next', 10_000);
    expect(bodies()).toEqual([...expected, 'next']);
    console.log(
      `restore: device held version ${versionHeld} (5 messages), store wound back to 2 ` +
        `messages + 1 written after; the device shows ${bodies().length - 1} + 1 live, once each`,
    );
  }, 120_000);
});
