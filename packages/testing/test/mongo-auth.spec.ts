import mongoose from 'mongoose';
import { startMongoWithAuth, type AuthenticatedMongo } from '../src/index.js';

const { MongoClient } = mongoose.mongo;
type Client = InstanceType<typeof MongoClient>;

describe('MongoDB with authentication (SCRAM front before the local MongoDB)', () => {
  let mongo: AuthenticatedMongo;
  const clients: Client[] = [];
  const connect = async (username?: string, password?: string) => {
    const client = new MongoClient(mongo.uri, {
      serverSelectionTimeoutMS: 3_000,
      ...(username !== undefined && { auth: { username, password } }),
      maxPoolSize: 2,
    });
    clients.push(client);
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    mongo = await startMongoWithAuth({ rootUser: 'chatadmin', rootPassword: 'root-pass-1' });
    console.log(`mongo auth test: ${mongo.description}`);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => mongo.stop());

  it('lets the root user in and works as a database', async () => {
    const client = await connect('chatadmin', 'root-pass-1');
    await client.db().collection('things').insertOne({ n: 1 });
    expect(await client.db().collection('things').countDocuments()).toBe(1);
    expect(mongo.attempts.at(-1)).toMatchObject({ user: 'chatadmin', ok: true });
  });

  it('refuses a wrong password (18) and unauthenticated commands (13)', async () => {
    await expect(connect('chatadmin', 'wrong')).rejects.toMatchObject({ code: 18 });
    const anonymous = await connect();
    await expect(anonymous.db().collection('things').findOne({})).rejects.toMatchObject({
      code: 13,
    });
  });

  it('manages users for root only, with their roles', async () => {
    const root = await connect('chatadmin', 'root-pass-1');
    await root.db('admin').command({
      createUser: 'chat_app',
      pwd: 'app-pass-1',
      roles: [{ role: 'readWrite', db: 'test' }],
    });
    await expect(
      root.db('admin').command({ createUser: 'chat_app', pwd: 'x', roles: [] }),
    ).rejects.toMatchObject({ code: 51003 });
    const info = await root.db('admin').command({ usersInfo: 'chat_app' });
    expect(info.users).toEqual([
      {
        _id: 'admin.chat_app',
        user: 'chat_app',
        db: 'admin',
        roles: [{ role: 'readWrite', db: 'test' }],
      },
    ]);
    const app = await connect('chat_app', 'app-pass-1');
    expect(await app.db().collection('things').countDocuments()).toBe(1);
    await expect(
      app
        .db('admin')
        .command({ createUser: 'evil', pwd: 'x', roles: [{ role: 'root', db: 'admin' }] }),
    ).rejects.toMatchObject({ code: 13 });
  });

  it('keeps authenticated connections across a password change, until they are dropped', async () => {
    const app = await connect('chat_app', 'app-pass-1');
    await app.db().command({ ping: 1 });
    const root = await connect('chatadmin', 'root-pass-1');
    await root.db('admin').command({ updateUser: 'chat_app', pwd: 'app-pass-2' });
    // The pooled connection stays authenticated...
    expect(await app.db().collection('things').countDocuments()).toBe(1);
    // ...new logins with the old password fail, with the new one work...
    await expect(connect('chat_app', 'app-pass-1')).rejects.toMatchObject({ code: 18 });
    await connect('chat_app', 'app-pass-2');
    // ...and after a failover the old client cannot log in again.
    mongo.dropConnections();
    await expect(app.db().collection('things').countDocuments()).rejects.toThrow();
    await expect(app.db().collection('things').countDocuments()).rejects.toMatchObject({
      code: 18,
    });
  });
});
