import { describePlatformContract, describeStoreContract } from '@jobsphere/chat-domain/testing';
import { startMongo, type MongoHandle } from '@jobsphere/testing';
import { Types } from 'mongoose';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';

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
  // A document already holding the next seq makes the insert fail after the position was taken,
  // as a store that stalls or fails over between the two round trips would.
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
);

let platformMongo: MongoHandle;

describePlatformContract(
  'MongoDB',
  async () => {
    platformMongo = await startMongo();
    console.log(`platform contract backend: ${platformMongo.description}`);
    return MongoChatStore.connect({ uri: platformMongo.uri });
  },
  async (store) => {
    await store.close();
    await platformMongo.stop();
  },
);
