import { startMongo, type MongoHandle } from '@jobsphere/testing';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';
import { describeStoreContract } from './store.contract.js';

// A real MongoDB when MONGODB_URI is set or mongod is on PATH, otherwise the wire double.
let mongo: MongoHandle;

describeStoreContract(
  'MongoDB',
  async () => {
    mongo = await startMongo();
    console.log(`store contract backend: ${mongo.description}`);
    return MongoChatStore.connect({ uri: mongo.uri });
  },
  async (store) => {
    await store.close();
    await mongo.stop();
  },
);
