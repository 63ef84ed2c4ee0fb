import { FERRETDB_VERSION, startFerretDB } from './ferretdb.js';
import {
  startMongoWireServer,
  useExistingMongo,
  type MongoHandle,
  type StartMongoOptions,
} from './index.js';

/** One server the store suites run on. */
export interface MongoServerKind {
  /** Named in test titles and output. */
  name: string;
  kind: 'real' | 'emulator' | 'ferretdb';
  start(opts?: StartMongoOptions): Promise<MongoHandle>;
}

/**
 * The servers every store suite runs on (socket.io-redis-adapter's runner style: one suite,
 * several servers). MONGODB_URI set: that server alone (a fresh database on it). Otherwise the
 * project's emulator (the Node wire server) and FerretDB, an independent implementation that
 * runs commands concurrently; a rule the store relies on and the emulator only imitates shows
 * up as a difference between the two.
 */
export function mongoServers(): MongoServerKind[] {
  const uri = process.env['MONGODB_URI'];
  if (uri) return [{ name: 'MONGODB_URI', kind: 'real', start: (o) => useExistingMongo(uri, o) }];
  return [
    // Shaped like the production store: a replica set, DocumentDB's planner and index builds.
    {
      name: 'the emulator (replica set, DocumentDB rules)',
      kind: 'emulator',
      start: (o) => startMongoWireServer({ ...o, replicaSet: 'rs0', documentDbRules: true }),
    },
    { name: `FerretDB ${FERRETDB_VERSION}`, kind: 'ferretdb', start: (o) => startFerretDB(o) },
  ];
}
