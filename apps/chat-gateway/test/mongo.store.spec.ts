import {
  describeFeaturesContract,
  describePlatformContract,
  describeStoreContract,
} from '@jobsphere/chat-domain/testing';
import { mongoServers, type MongoHandle } from '@jobsphere/testing';
import { Types } from 'mongoose';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';
import {
  describeWithExceptions,
  exceptionsOf,
  FERRETDB_FEATURE_GAPS,
} from './support/server-matrix.js';

// The Mongo store under the store and platform contracts, on every server of the matrix: the
// server in MONGODB_URI alone when it is set, otherwise the emulator and FerretDB.
for (const server of mongoServers()) {
  let mongo: MongoHandle;
  let started = 0;
  const name = `MongoDB on ${server.name}`;

  describeWithExceptions(server.name, exceptionsOf(server), (registerCase) =>
    describeStoreContract(
      name,
      async () => {
        started = Date.now();
        mongo = await server.start();
        console.log(
          `store contract server: ${mongo.description} (up in ${Date.now() - started} ms)`,
        );
        return MongoChatStore.connect({ uri: mongo.uri });
      },
      async (store) => {
        await store.close();
        await mongo.stop();
        console.log(`store contract on ${server.name}: ${Date.now() - started} ms in all`);
      },
      // A document already holding the next seq makes the insert fail after the position was
      // taken, as a store that stalls or fails over between the two round trips would.
      async (store, conversationId) => {
        const messages = (store as MongoChatStore).connection.collection('messages');
        const current = await (store as MongoChatStore).conversations.get(conversationId);
        const blocker = {
          _id: new Types.ObjectId(),
          conversationId,
          seq: (current?.lastMessage?.seq ?? 0) + 1,
          version: -1,
          senderId: 'blocker',
          clientMessageId: 'blocker',
          body: 'x',
          createdAt: new Date(),
        };
        await messages.insertOne(blocker);
        return async () => {
          await messages.deleteOne({ _id: blocker._id });
        };
      },
      { it: registerCase },
    ),
  );

  let platformMongo: MongoHandle;
  let platformStarted = 0;

  describePlatformContract(
    name,
    async () => {
      platformStarted = Date.now();
      platformMongo = await server.start();
      console.log(`platform contract server: ${platformMongo.description}`);
      return MongoChatStore.connect({ uri: platformMongo.uri });
    },
    async (store) => {
      await store.close();
      await platformMongo.stop();
      console.log(`platform contract on ${server.name}: ${Date.now() - platformStarted} ms in all`);
    },
  );

  let featuresMongo: MongoHandle;

  describeWithExceptions(server.name, exceptionsOf(server, FERRETDB_FEATURE_GAPS), (registerCase) =>
    describeFeaturesContract(
      name,
      async () => {
        featuresMongo = await server.start();
        return MongoChatStore.connect({ uri: featuresMongo.uri });
      },
      async (store) => {
        await store.close();
        await featuresMongo.stop();
      },
      { it: registerCase },
    ),
  );
}
