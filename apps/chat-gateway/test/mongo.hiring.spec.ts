import { describeActionContract } from '@jobsphere/chat-domain/testing';
import { mongoServers, type MongoHandle } from '@jobsphere/testing';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';

// The hiring features (issue 27) of the Mongo store under their contracts, on every server of
// the matrix: the server in MONGODB_URI alone when it is set, otherwise the emulator and FerretDB.
for (const server of mongoServers()) {
  let mongo: MongoHandle;
  describeActionContract(
    `MongoDB on ${server.name}`,
    async () => {
      mongo = await server.start();
      return MongoChatStore.connect({ uri: mongo.uri });
    },
    async (store) => {
      await store.close();
      await mongo.stop();
    },
  );
}
