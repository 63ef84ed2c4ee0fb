import {
  describeActionContract,
  describeResponseTimesContract,
  describeScheduledContract,
  describeTemplatesContract,
} from '@jobsphere/chat-domain/testing';
import { type ChatStore } from '@jobsphere/chat-domain';
import { mongoServers, type MongoHandle } from '@jobsphere/testing';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';
import {
  FERRETDB_HIRING_GAPS,
  describeWithExceptions,
  exceptionsOf,
} from './support/server-matrix.js';

// The hiring features (issue 27) of the Mongo store under their contracts, on every server of
// the matrix: the server in MONGODB_URI alone when it is set, otherwise the emulator and FerretDB.
for (const server of mongoServers()) {
  let mongo: MongoHandle;
  const open = async () => {
    mongo = await server.start();
    return MongoChatStore.connect({ uri: mongo.uri });
  };
  const close = async (store: ChatStore) => {
    await store.close();
    await mongo.stop();
  };
  describeWithExceptions(
    server.name,
    exceptionsOf(server, FERRETDB_HIRING_GAPS),
    (registerCase) => {
      describeActionContract(`MongoDB on ${server.name}`, open, close, { it: registerCase });
      describeScheduledContract(`MongoDB on ${server.name}`, open, close, { it: registerCase });
      describeResponseTimesContract(`MongoDB on ${server.name}`, open, close, {
        it: registerCase,
      });
      describeTemplatesContract(`MongoDB on ${server.name}`, open, close, { it: registerCase });
    },
  );
}
