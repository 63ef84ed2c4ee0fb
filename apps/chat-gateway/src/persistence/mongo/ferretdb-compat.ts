import type { Logger } from '@nestjs/common';
import type { Connection, Model } from 'mongoose';

/**
 * FerretDB v1 (a MongoDB-compatible server; the store suites run on it) answers NotImplemented
 * to two options the store sends, so on FerretDB, and only there, the store's collections leave
 * them out:
 * - a projection on findAndModify (the driver's `fields`): the whole document comes back, and
 *   the mappers read only what they need (more bytes per reply, nothing else);
 * - TTL indexes (`expireAfterSeconds`): the index is built without it, so expired outbox
 *   entries stay until something deletes them (said at boot, loudly).
 * MongoDB and DocumentDB get every command exactly as before. What FerretDB v1 cannot do at
 * all (concurrent updates of one document are not atomic there) is listed in the test README.
 */
export async function adaptToFerretDB(connection: Connection, logger: Logger): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('not connected');
  const info = await db.admin().command({ buildInfo: 1 });
  const version: unknown = info['ferretdbVersion'];
  if (typeof version !== 'string') return;
  logger.warn(
    `FerretDB ${version}: findAndModify replies carry whole documents (no projection there), ` +
      'and TTL indexes are built without expiry (expired outbox entries and upload records are ' +
      'not removed by the server)',
  );
  onFerretDB.add(connection);
  for (const model of Object.values(connection.models)) adaptModel(model);
}

const onFerretDB = new WeakSet<Connection>();
const adapted = new WeakSet<object>();

/** A model registered on the connection after `adaptToFerretDB` (e.g. the upload records). */
export function adaptModel(model: Pick<Model<never>, 'db' | 'collection'>): void {
  if (!onFerretDB.has(model.db) || adapted.has(model.collection)) return;
  adapted.add(model.collection);
  const collection = model.collection as unknown as {
    findOneAndUpdate: (filter: unknown, update: unknown, options?: object) => unknown;
    createIndex: (fields: unknown, options?: object) => unknown;
  };
  const findOneAndUpdate = collection.findOneAndUpdate.bind(collection);
  const createIndex = collection.createIndex.bind(collection);
  collection.findOneAndUpdate = (filter, update, options = {}) => {
    const {
      projection: _projection,
      fields: _fields,
      ...rest
    } = options as {
      projection?: unknown;
      fields?: unknown;
    };
    return findOneAndUpdate(filter, update, rest);
  };
  collection.createIndex = (fields, options = {}) => {
    const { expireAfterSeconds: _ttl, ...rest } = options as { expireAfterSeconds?: unknown };
    return createIndex(fields, rest);
  };
}
