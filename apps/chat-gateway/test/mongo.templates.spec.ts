import { describeTemplatesContract } from '@jobsphere/chat-domain/testing';
import { type ChatStore } from '@jobsphere/chat-domain';
import { mongoServers, type MongoHandle } from '@jobsphere/testing';
import { MongoChatStore } from '../src/persistence/mongo/mongo.store.js';
import { describeWithExceptions, exceptionsOf } from './support/server-matrix.js';

/** FerretDB v1's documented gap, as for the scheduled sends' counter (server-matrix.ts). */
const FERRETDB_TEMPLATE_GAPS: Readonly<Record<string, string>> = {
  'the per-owner cap holds under concurrent creation, and a deletion frees a place':
    "no atomic single-document updates under concurrent writers: concurrent $inc of the owner's counter read the same count",
};

// Message templates (issue 27) of the Mongo store under their contract, on every server of the
// matrix: the server in MONGODB_URI alone when it is set, otherwise the emulator and FerretDB.
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
    exceptionsOf(server, FERRETDB_TEMPLATE_GAPS),
    (registerCase) => {
      describeTemplatesContract(`MongoDB on ${server.name}`, open, close, { it: registerCase });
    },
  );
}
