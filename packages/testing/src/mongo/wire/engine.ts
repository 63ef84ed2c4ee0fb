// The commands the gateway's Mongo store (Mongoose + the Node driver) sends, over in-memory
// collections. Anything else is refused with mongod's "no such command" or NotImplemented,
// never half-done.
import { Long } from 'bson';
import { Query } from 'mingo/query';
import {
  Collection,
  MINGO_CONTEXT,
  type Examination,
  type IndexSpec,
  type PlannerRules,
  type SortSpec,
} from './collection.js';
import { CommandError, duplicateKey } from './errors.js';
import { valueAt, type Doc } from './values.js';

export const MAX_WIRE_VERSION = 17; // MongoDB 6.0
const DEFAULT_FIRST_BATCH = 101; // like mongod without a batchSize

interface OpenCursor {
  ns: string;
  docs: Doc[];
}

function sortSpec(sort: unknown): SortSpec | undefined {
  if (!sort || typeof sort !== 'object') return undefined;
  const spec: SortSpec = [];
  for (const [field, dir] of Object.entries(sort as Doc)) {
    if (typeof dir !== 'number')
      throw new CommandError(238, `sort by ${JSON.stringify(dir)} is not supported`);
    spec.push([field, dir < 0 ? -1 : 1]);
  }
  return spec;
}

function project(docs: Doc[], projection: unknown): Doc[] {
  if (!projection || typeof projection !== 'object' || Object.keys(projection).length === 0)
    return docs;
  try {
    return new Query({}, { context: MINGO_CONTEXT }).find<Doc>(docs, projection).all();
  } catch (error) {
    throw new CommandError(2, `bad projection: ${(error as Error).message}`);
  }
}

function refuseUnsupported(spec: Doc): void {
  for (const option of ['collation', 'arrayFilters', 'hint'])
    if (spec[option] !== undefined)
      throw new CommandError(238, `${option} is not supported by the wire server`);
  if (Array.isArray(spec['u']) || Array.isArray(spec['update']))
    throw new CommandError(238, 'pipeline-style updates are not supported by the wire server');
}

function asInt(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (v instanceof Long) return v.toNumber();
  return 0;
}

/** An index spec from a createIndexes entry (the name defaults like mongod's). */
function indexSpec(raw: Doc): IndexSpec {
  // A TTL index is listed as one, but documents never expire here (a test or benchmark run is
  // minutes long; expiry is the server's housekeeping, not what the gateway is timed on).
  if (raw['partialFilterExpression'] !== undefined)
    throw new CommandError(238, 'partial indexes are not supported by the wire server');
  const key = sortSpec(raw['key']);
  if (!key || key.length === 0) throw new CommandError(2, 'index key is missing');
  return {
    name:
      typeof raw['name'] === 'string' ? raw['name'] : key.map(([f, d]) => `${f}_${d}`).join('_'),
    key,
    unique: raw['unique'] === true,
    sparse: raw['sparse'] === true,
    ...(typeof raw['expireAfterSeconds'] === 'number' && {
      expireAfterSeconds: raw['expireAfterSeconds'],
    }),
  };
}

/** `{_id: <constant>, <field>: {$sum: 1}}` (what countDocuments groups by), or undefined. */
function countingGroup(value: unknown): { id: unknown; field: string } | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const entries = Object.entries(value as Doc);
  const id = (value as Doc)['_id'];
  const accumulators = entries.filter(([k]) => k !== '_id');
  if (!('_id' in (value as Doc)) || accumulators.length !== 1) return undefined;
  // A constant: a field path ('$x') or an expression object would group by something.
  if ((typeof id === 'string' && id.startsWith('$')) || (id !== null && typeof id === 'object'))
    return undefined;
  const [field, acc] = accumulators[0]!;
  const sum = acc && typeof acc === 'object' ? (acc as Doc)['$sum'] : undefined;
  if (Object.keys((acc as Doc | undefined) ?? {}).length !== 1 || asInt(sum) !== 1)
    return undefined;
  return { id, field };
}

export class Engine {
  /** The planner's rules, shared by every collection (`documentDb` switches DocumentDB's on). */
  readonly rules: PlannerRules = { documentDb: false };
  /** What the last command read: reset by every `run`. */
  readonly examination: Examination = { docsExamined: 0, plans: [] };
  /**
   * Asked when an upsert inserts: true answers E11000 instead (the document stays), as the loser
   * of two racing upserts does on a server that does not retry them (DocumentDB).
   */
  loseUpsert: () => boolean = () => false;
  private readonly dbs = new Map<string, Map<string, Collection>>();
  private readonly cursors = new Map<string, OpenCursor>();
  private nextCursor = 1_000_000_007n;

  collection(db: string, name: string, create = true): Collection | undefined {
    let colls = this.dbs.get(db);
    if (!colls) {
      if (!create) return undefined;
      this.dbs.set(db, (colls = new Map<string, Collection>()));
    }
    let coll = colls.get(name);
    if (!coll && create)
      colls.set(name, (coll = new Collection(db, name, this.rules, this.examination)));
    return coll;
  }

  /**
   * The collection, or an empty one not kept: reading or deleting from a collection that does
   * not exist does not create it (as in mongod; listCollections would show it otherwise).
   */
  private existing(db: string, name: string): Collection {
    return (
      this.collection(db, name, false) ?? new Collection(db, name, this.rules, this.examination)
    );
  }

  /** Runs an update on the collection; a missing one is created only when a document landed. */
  private upserting(db: string, name: string, run: (coll: Collection) => Doc): Doc {
    const existed = this.collection(db, name, false);
    if (existed) return run(existed);
    const fresh = new Collection(db, name, this.rules, this.examination);
    const reply = run(fresh);
    if (fresh.count > 0) {
      let colls = this.dbs.get(db);
      if (!colls) this.dbs.set(db, (colls = new Map<string, Collection>()));
      colls.set(name, fresh);
    }
    return reply;
  }

  /** How many of a createIndexes command's indexes do not exist yet (what a build would build). */
  newIndexes(db: string, name: string, cmd: Doc): number {
    const existing = new Set(
      this.collection(db, name, false)
        ?.indexSpecs()
        .map((s) => s.name) ?? [],
    );
    let fresh = 0;
    for (const raw of (cmd['indexes'] as Doc[] | undefined) ?? []) {
      try {
        if (!existing.has(indexSpec(raw).name)) fresh++;
      } catch {
        fresh++; // refused when it runs
      }
    }
    return fresh;
  }

  /** Runs one command document; errors come back as mongod's `{ ok: 0 }` replies. */
  run(command: Doc): Doc {
    const name = Object.keys(command)[0];
    if (!name) return new CommandError(59, 'empty command').toReply();
    const db = typeof command['$db'] === 'string' ? command['$db'] : 'admin';
    this.examination.docsExamined = 0;
    this.examination.plans = [];
    try {
      if (command['startTransaction'] || command['autocommit'] !== undefined)
        throw new CommandError(20, 'transactions are not supported by the wire server');
      return this.dispatch(name, db, command);
    } catch (error) {
      if (error instanceof CommandError) return error.toReply();
      return new CommandError(1, `wire server internal error: ${String(error)}`).toReply();
    }
  }

  private dispatch(name: string, db: string, cmd: Doc): Doc {
    const arg = cmd[name];
    switch (name.toLowerCase()) {
      case 'ping':
      case 'endsessions':
        return { ok: 1 };
      case 'buildinfo':
        return { version: '6.0.0', versionArray: [6, 0, 0, 0], bits: 64, ok: 1 };
      case 'dropdatabase':
        this.dbs.delete(db);
        return { dropped: db, ok: 1 };
      case 'drop':
        if (!this.dbs.get(db)?.delete(String(arg))) throw new CommandError(26, 'ns not found');
        return { ok: 1 };
      case 'createindexes':
        return this.createIndexes(db, String(arg), cmd);
      case 'listindexes':
        return this.listIndexes(db, String(arg), cmd);
      case 'insert':
        return this.insert(this.collection(db, String(arg))!, cmd);
      case 'update':
        return this.upserting(db, String(arg), (coll) => this.update(coll, cmd));
      case 'delete':
        return this.delete(this.existing(db, String(arg)), cmd);
      case 'findandmodify':
        return this.upserting(db, String(arg), (coll) => this.findAndModify(coll, cmd));
      case 'find':
        return this.find(this.existing(db, String(arg)), cmd);
      case 'listcollections':
        return this.listCollections(db, cmd);
      case 'aggregate':
        return this.aggregate(db, arg, cmd);
      case 'getmore':
        return this.getMore(arg, cmd);
      case 'killcursors':
        return this.killCursors(cmd);
      default:
        throw new CommandError(
          59,
          `no such command: '${name}' (the wire server implements what the chat store sends)`,
        );
    }
  }

  private createIndexes(db: string, name: string, cmd: Doc): Doc {
    const existed = this.collection(db, name, false) !== undefined;
    const coll = this.collection(db, name)!;
    const before = coll.indexSpecs().length;
    for (const raw of (cmd['indexes'] as Doc[] | undefined) ?? []) coll.createIndex(indexSpec(raw));
    const after = coll.indexSpecs().length;
    return {
      createdCollectionAutomatically: !existed,
      numIndexesBefore: before,
      numIndexesAfter: after,
      ...(before === after && { note: 'all indexes already exist' }),
      ok: 1,
    };
  }

  private listIndexes(db: string, name: string, cmd: Doc): Doc {
    const coll = this.collection(db, name, false);
    if (!coll) throw new CommandError(26, `ns does not exist: ${db}.${name}`);
    const docs = coll.indexSpecs().map((s) => ({
      v: 2,
      key: Object.fromEntries(s.key),
      name: s.name,
      ...(s.unique && s.name !== '_id_' && { unique: true }),
      ...(s.sparse && { sparse: true }),
      ...(s.expireAfterSeconds !== undefined && { expireAfterSeconds: s.expireAfterSeconds }),
    }));
    return this.cursorReply(
      coll.namespace,
      docs,
      (cmd['cursor'] as Doc | undefined)?.['batchSize'],
    );
  }

  private insert(coll: Collection, cmd: Doc): Doc {
    const ordered = cmd['ordered'] !== false;
    const writeErrors: Doc[] = [];
    let n = 0;
    ((cmd['documents'] as Doc[] | undefined) ?? []).some((doc, index) => {
      try {
        coll.insert(doc);
        n++;
        return false;
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        writeErrors.push(error.toWriteError(index));
        return ordered;
      }
    });
    return { n, ...(writeErrors.length > 0 && { writeErrors }), ok: 1 };
  }

  private update(coll: Collection, cmd: Doc): Doc {
    const ordered = cmd['ordered'] !== false;
    const writeErrors: Doc[] = [];
    const upserted: Doc[] = [];
    let n = 0;
    let nModified = 0;
    ((cmd['updates'] as Doc[] | undefined) ?? []).some((spec, index) => {
      try {
        refuseUnsupported(spec);
        const result = coll.update((spec['q'] as Doc | undefined) ?? {}, spec['u'] as Doc, {
          multi: spec['multi'] === true,
          upsert: spec['upsert'] === true,
        });
        if (result.upserted !== undefined && this.loseUpsert()) {
          writeErrors.push(this.raceLoss(coll, result.after!).toWriteError(index));
          return ordered;
        }
        if (result.upserted !== undefined) {
          n++;
          upserted.push({ index, _id: result.upserted });
        } else {
          n += result.matched;
          nModified += result.modified;
        }
        return false;
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        writeErrors.push(error.toWriteError(index));
        return ordered;
      }
    });
    return {
      n,
      nModified,
      ...(upserted.length > 0 && { upserted }),
      ...(writeErrors.length > 0 && { writeErrors }),
      ok: 1,
    };
  }

  private delete(coll: Collection, cmd: Doc): Doc {
    let n = 0;
    for (const spec of (cmd['deletes'] as Doc[] | undefined) ?? []) {
      refuseUnsupported(spec);
      const matches = coll.find((spec['q'] as Doc | undefined) ?? {}, {
        limit: asInt(spec['limit']) === 1 ? 1 : 0,
      });
      for (const doc of matches) coll.delete(doc);
      n += matches.length;
    }
    return { n, ok: 1 };
  }

  private findAndModify(coll: Collection, cmd: Doc): Doc {
    refuseUnsupported(cmd);
    const filter = (cmd['query'] as Doc | undefined) ?? {};
    const sort = sortSpec(cmd['sort']);
    const fields = cmd['fields'];
    if (cmd['remove'] === true) {
      const [doc] = coll.find(filter, { ...(sort && { sort }), limit: 1 });
      if (!doc) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      coll.delete(doc);
      return { lastErrorObject: { n: 1 }, value: project([doc], fields)[0], ok: 1 };
    }
    const update = cmd['update'] as Doc | undefined;
    if (!update) throw new CommandError(9, 'Either an update or remove=true must be specified');
    const result = coll.update(filter, update, {
      upsert: cmd['upsert'] === true,
      ...(sort && { sort }),
    });
    if (result.upserted !== undefined && this.loseUpsert())
      throw this.raceLoss(coll, result.after!);
    const image = cmd['new'] === true ? result.after : result.before;
    const lastErrorObject =
      result.upserted !== undefined
        ? { n: 1, updatedExisting: false, upserted: result.upserted }
        : { n: result.matched, updatedExisting: result.matched > 0 };
    return { lastErrorObject, value: image ? project([image], fields)[0] : null, ok: 1 };
  }

  private find(coll: Collection, cmd: Doc): Doc {
    refuseUnsupported(cmd);
    const rawLimit = asInt(cmd['limit']);
    const sort = sortSpec(cmd['sort']);
    const docs = coll.find((cmd['filter'] as Doc | undefined) ?? {}, {
      ...(sort && { sort }),
      skip: asInt(cmd['skip']),
      limit: Math.abs(rawLimit),
    });
    const projected = project(docs, cmd['projection']);
    if (cmd['singleBatch'] === true || rawLimit < 0)
      return { cursor: { firstBatch: projected, id: Long.ZERO, ns: coll.namespace }, ok: 1 };
    return this.cursorReply(coll.namespace, projected, cmd['batchSize']);
  }

  /**
   * The pipeline the driver's `countDocuments` sends, and its prefixes: `$match`, then `$skip`
   * and `$limit`, optionally closed by a `$group` on a constant `_id` that sums 1 (a count). The
   * `$match` runs through the planner like a find (DocumentDB's rules included: its aggregation
   * uses the same indexes as find). Any other stage or `$group` shape is refused (NotImplemented)
   * naming it, never half-done; the chat store itself sends no aggregation.
   */
  private aggregate(db: string, arg: unknown, cmd: Doc): Doc {
    refuseUnsupported(cmd);
    if (typeof arg !== 'string')
      throw new CommandError(
        238,
        'aggregate without a collection is not supported by the wire server',
      );
    const coll = this.existing(db, arg);
    const pipeline = cmd['pipeline'];
    if (!Array.isArray(pipeline))
      throw new CommandError(14, "'pipeline' option must be specified as an array");
    if (!cmd['cursor'] || typeof cmd['cursor'] !== 'object')
      throw new CommandError(
        9,
        "The 'cursor' option is required, except for aggregate with the explain argument",
      );
    let filter: Doc = {};
    let skip = 0;
    let limit = 0;
    let count: { id: unknown; field: string } | undefined;
    (pipeline as unknown[]).forEach((raw, i) => {
      const stage = raw as Doc;
      const [name, ...extra] = Object.keys(stage ?? {});
      if (!name || extra.length > 0)
        throw new CommandError(
          40323,
          'A pipeline stage specification object must contain exactly one field.',
        );
      const value = stage[name];
      const refuse = (why: string) =>
        new CommandError(238, `aggregate: ${why} is not supported by the wire server`);
      if (count) throw refuse(`a stage after the counting $group (${name})`);
      if (name === '$match') {
        if (i !== 0) throw refuse('$match after another stage');
        if (!value || typeof value !== 'object')
          throw new CommandError(15959, 'the match filter must be an expression in an object');
        filter = value as Doc;
      } else if (name === '$skip' || name === '$limit') {
        const n = asInt(value);
        if (typeof value !== 'number' && !(value instanceof Long))
          throw new CommandError(15972, `invalid argument to ${name} stage`);
        if (name === '$skip') {
          if (limit > 0) throw refuse('$skip after $limit');
          if (n < 0)
            throw new CommandError(15956, 'invalid argument to $skip stage: cannot be negative');
          skip += n;
        } else {
          if (n <= 0) throw new CommandError(15958, 'the limit must be positive');
          limit = limit > 0 ? Math.min(limit, n) : n;
        }
      } else if (name === '$group') {
        count = countingGroup(value);
        if (!count) throw refuse(`this $group (only {_id: <constant>, <field>: {$sum: 1}})`);
      } else {
        throw refuse(`the ${name} stage`);
      }
    });
    const docs = coll.find(filter, { skip, limit });
    const out = count
      ? docs.length > 0
        ? [{ _id: count.id, [count.field]: docs.length }]
        : []
      : docs;
    return this.cursorReply(coll.namespace, out, (cmd['cursor'] as Doc)['batchSize']);
  }

  /** The collections of a database (what a driver's `listCollections()` asks), with a filter. */
  private listCollections(db: string, cmd: Doc): Doc {
    const all: Doc[] = [...(this.dbs.get(db)?.keys() ?? [])].sort().map((name) => ({
      name,
      type: 'collection',
      options: {},
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    }));
    const filter = cmd['filter'];
    let listed = all;
    if (filter && typeof filter === 'object' && Object.keys(filter).length > 0) {
      try {
        listed = new Query(filter, { context: MINGO_CONTEXT }).find<Doc>(all).all();
      } catch (error) {
        throw new CommandError(2, `bad filter: ${(error as Error).message}`);
      }
    }
    if (cmd['nameOnly'] === true)
      listed = listed.map((c) => ({ name: c['name'], type: c['type'] }));
    return this.cursorReply(
      `${db}.$cmd.listCollections`,
      listed,
      (cmd['cursor'] as Doc | undefined)?.['batchSize'],
    );
  }

  /** The E11000 the loser of an upsert race gets: on the first unique index, for `doc`'s key. */
  private raceLoss(coll: Collection, doc: Doc): CommandError {
    const spec =
      coll.indexSpecs().find((s) => s.unique && s.name !== '_id_') ?? coll.indexSpecs()[0]!;
    const values = spec.key.map(([field]) => valueAt(doc, field) ?? null);
    return duplicateKey(coll.namespace, spec, values[0], values.slice(1));
  }

  private cursorReply(ns: string, docs: Doc[], batchSize: unknown): Doc {
    const size = batchSize === undefined ? DEFAULT_FIRST_BATCH : asInt(batchSize);
    const first = size > 0 ? docs.slice(0, size) : docs;
    let id = Long.ZERO;
    if (first.length < docs.length) {
      const n = this.nextCursor++;
      id = Long.fromBigInt(n);
      this.cursors.set(n.toString(), { ns, docs: docs.slice(first.length) });
    }
    return { cursor: { firstBatch: first, id, ns }, ok: 1 };
  }

  private getMore(arg: unknown, cmd: Doc): Doc {
    const key = arg instanceof Long ? arg.toString() : String(arg);
    const open = this.cursors.get(key);
    if (!open) throw new CommandError(43, `cursor id ${key} not found`);
    const size = asInt(cmd['batchSize']);
    const batch = size > 0 ? open.docs.splice(0, size) : open.docs.splice(0);
    const done = open.docs.length === 0;
    if (done) this.cursors.delete(key);
    return {
      cursor: { nextBatch: batch, id: done ? Long.ZERO : Long.fromString(key), ns: open.ns },
      ok: 1,
    };
  }

  private killCursors(cmd: Doc): Doc {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of (cmd['cursors'] as unknown[] | undefined) ?? []) {
      const key = raw instanceof Long ? raw.toString() : String(raw);
      (this.cursors.delete(key) ? killed : notFound).push(Long.fromString(key));
    }
    return {
      cursorsKilled: killed,
      cursorsNotFound: notFound,
      cursorsAlive: [],
      cursorsUnknown: [],
      ok: 1,
    };
  }
}
