// One in-memory collection with real unique and compound indexes. Query and update semantics
// are mingo's; this file only decides which documents to look at (an index range, like mongod's
// planner would) and enforces uniqueness before anything changes.
import { ObjectId } from 'bson';
import { Context } from 'mingo/core';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import { Query } from 'mingo/query';
import { update as applyUpdate } from 'mingo/updater';
import { fastUpdate } from './update.js';
import { CommandError, duplicateKey } from './errors.js';
import { cloneDoc, compareValues, isOperatorObject, keyOf, valueAt, type Doc } from './values.js';

export type Direction = 1 | -1;
export type SortSpec = [string, Direction][];

export interface IndexSpec {
  name: string;
  key: SortSpec;
  unique: boolean;
  sparse: boolean;
  /** A TTL index: kept and listed, but nothing expires here (a test run is minutes long). */
  expireAfterSeconds?: number;
}

interface IndexKey {
  lead: string;
  leadValue: unknown;
  rest: unknown[];
}

interface Entry {
  rest: unknown[];
  id: string;
}

/** First index in [0, list.length] where `pred` turns true (it must be false...true over the list). */
function firstWhere<T>(list: T[], pred: (item: T) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(list[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Buckets by the leading field's value (one per array element: multikey), each bucket sorted by
 * the remaining fields in their directions, then by _id. Equality on the leading field plus a
 * range on the next one is a binary search; a sort on the remaining fields is the bucket's order.
 */
class Index {
  readonly buckets = new Map<string, Entry[]>();
  /** The leading field's value of each bucket (a range on the leading field compares these). */
  private readonly leadValues = new Map<string, unknown>();

  constructor(readonly spec: IndexSpec) {}

  get lead(): string {
    return this.spec.key[0]![0];
  }

  get rest(): SortSpec {
    return this.spec.key.slice(1);
  }

  keysOf(doc: Doc): IndexKey[] {
    const values = this.spec.key.map(([field]) => valueAt(doc, field));
    if (this.spec.sparse && values.every((v) => v === undefined)) return [];
    const rest = values.slice(1);
    if (rest.some((v) => Array.isArray(v)))
      throw new CommandError(
        238,
        `index ${this.spec.name}: the wire server indexes arrays in the leading field only`,
      );
    const first = values[0];
    const leads = Array.isArray(first) ? (first.length > 0 ? first : [undefined]) : [first];
    const seen = new Set<string>();
    const keys: IndexKey[] = [];
    for (const value of leads) {
      const lead = keyOf(value);
      if (seen.has(lead)) continue;
      seen.add(lead);
      keys.push({ lead, leadValue: value ?? null, rest: rest.map((v) => v ?? null) });
    }
    return keys;
  }

  private compareRest(a: unknown[], b: unknown[]): number {
    const fields = this.rest;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i], b[i]) * fields[i]![1];
      if (c !== 0) return c;
    }
    return 0;
  }

  private compareEntry(a: Entry, b: Entry): number {
    return this.compareRest(a.rest, b.rest) || (a.id === b.id ? 0 : a.id < b.id ? -1 : 1);
  }

  add(id: string, keys: IndexKey[]): void {
    for (const key of keys) {
      let bucket = this.buckets.get(key.lead);
      if (!bucket) {
        this.buckets.set(key.lead, (bucket = []));
        this.leadValues.set(key.lead, key.leadValue);
      }
      const entry = { rest: key.rest, id };
      // Mostly appends: ids and sequence numbers grow.
      const last = bucket.at(-1);
      if (!last || this.compareEntry(last, entry) < 0) bucket.push(entry);
      else
        bucket.splice(
          firstWhere(bucket, (e) => this.compareEntry(e, entry) >= 0),
          0,
          entry,
        );
    }
  }

  remove(id: string, keys: IndexKey[]): void {
    for (const key of keys) {
      const bucket = this.buckets.get(key.lead);
      if (!bucket) continue;
      const probe = { rest: key.rest, id };
      const at = firstWhere(bucket, (e) => this.compareEntry(e, probe) >= 0);
      if (bucket[at]?.id === id) bucket.splice(at, 1);
      if (bucket.length === 0) {
        this.buckets.delete(key.lead);
        this.leadValues.delete(key.lead);
      }
    }
  }

  /** The key of `keys` that another document (not `id`) already holds, for a unique index. */
  conflict(keys: IndexKey[], id: string): IndexKey | undefined {
    if (!this.spec.unique) return undefined;
    for (const key of keys) {
      const bucket = this.buckets.get(key.lead);
      if (!bucket) continue;
      let at = firstWhere(bucket, (e) => this.compareRest(e.rest, key.rest) >= 0);
      for (; at < bucket.length && this.compareRest(bucket[at]!.rest, key.rest) === 0; at++) {
        if (bucket[at]!.id !== id) return key;
      }
    }
    return undefined;
  }

  /** The buckets whose leading value lies in the range (an index scan over keys, no documents). */
  leadsIn(range: { lower?: Bound; upper?: Bound }): string[] {
    const { lower, upper } = range;
    const leads: string[] = [];
    for (const [lead, value] of this.leadValues) {
      if (lower && compareValues(value, lower.value) < (lower.inclusive ? 0 : 1)) continue;
      if (upper && compareValues(value, upper.value) > (upper.inclusive ? 0 : -1)) continue;
      leads.push(lead);
    }
    return leads;
  }

  /** Entries of one bucket within the bounds `cond` puts on the first remaining field. */
  *scan(lead: string, cond: unknown, reverse: boolean): Generator<string> {
    const bucket = this.buckets.get(lead);
    if (!bucket) return;
    let start = 0;
    let end = bucket.length;
    const field = this.rest[0];
    const bounds = field && rangeOf(cond);
    if (field && bounds) {
      const dir = field[1];
      const v = (e: Entry) => e.rest[0];
      const { lower, upper } = bounds;
      // In natural order the matches lie in [lower, upper]; a descending field stores them reversed.
      const afterLower = (e: Entry) =>
        !lower || compareValues(v(e), lower.value) > (lower.inclusive ? -1 : 0);
      const beyondUpper = (e: Entry) =>
        !!upper && compareValues(v(e), upper.value) > (upper.inclusive ? 0 : -1);
      const belowUpper = (e: Entry) =>
        !upper || compareValues(v(e), upper.value) < (upper.inclusive ? 1 : 0);
      const beneathLower = (e: Entry) =>
        !!lower && compareValues(v(e), lower.value) < (lower.inclusive ? 0 : 1);
      if (dir === 1) {
        start = firstWhere(bucket, afterLower);
        end = firstWhere(bucket, beyondUpper);
      } else {
        start = firstWhere(bucket, belowUpper);
        end = firstWhere(bucket, beneathLower);
      }
    }
    // A copy of the ids: the caller may change the collection while it iterates.
    const ids = bucket.slice(start, Math.max(start, end)).map((e) => e.id);
    if (reverse) ids.reverse();
    yield* ids;
  }
}

interface Bound {
  value: unknown;
  inclusive: boolean;
}

/** The range a condition on one field allows, when it is a plain equality or $eq/$gt/$gte/$lt/$lte. */
function rangeOf(cond: unknown): { lower?: Bound; upper?: Bound } | undefined {
  if (cond === undefined) return undefined;
  if (!isOperatorObject(cond)) {
    if (cond instanceof RegExp) return prefixRange(cond);
    if (Array.isArray(cond)) return undefined;
    return { lower: { value: cond, inclusive: true }, upper: { value: cond, inclusive: true } };
  }
  const range: { lower?: Bound; upper?: Bound } = {};
  for (const [op, value] of Object.entries(cond)) {
    if (op === '$exists' && value === true) continue;
    if (op === '$regex' && Object.keys(cond).every((k) => k === '$regex' || k === '$exists')) {
      const prefix = prefixRange(value);
      if (!prefix) return undefined;
      Object.assign(range, prefix);
    } else if (op === '$eq') {
      range.lower = { value, inclusive: true };
      range.upper = { value, inclusive: true };
    } else if (op === '$gt' || op === '$gte') range.lower = { value, inclusive: op === '$gte' };
    else if (op === '$lt' || op === '$lte') range.upper = { value, inclusive: op === '$lte' };
    else return undefined;
  }
  return range;
}

/** The strings an anchored regular expression with a literal prefix (`/^direct:a:b:/`) can match. */
function prefixRange(pattern: unknown): { lower: Bound; upper: Bound } | undefined {
  const source =
    pattern instanceof RegExp ? (pattern.flags === '' ? pattern.source : undefined) : pattern;
  // An alternation anywhere may leave the anchor (`^a|c`): no prefix then.
  if (typeof source !== 'string' || !source.startsWith('^') || source.includes('|'))
    return undefined;
  let prefix = '';
  for (let i = 1; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length && /[^A-Za-z0-9]/.test(source[i + 1]!)) {
      prefix += source[++i];
    } else if (/[.*+?^${}()|[\]\\]/.test(c)) break;
    else prefix += c;
  }
  if (prefix === '') return undefined;
  return {
    lower: { value: prefix, inclusive: true },
    upper: { value: `${prefix}\uffff`, inclusive: false },
  };
}

/** The values an equality condition names ({a: v}, {a: {$eq: v}}, {a: {$in: [...]}}), if it is one. */
function equalityValues(cond: unknown): unknown[] | undefined {
  if (cond === undefined || cond instanceof RegExp || Array.isArray(cond)) return undefined;
  if (!isOperatorObject(cond)) return [cond];
  if ('$eq' in cond && !Array.isArray(cond['$eq'])) return [cond['$eq']];
  const list: unknown = cond['$in'];
  if (Array.isArray(list) && list.every((v) => !(v instanceof RegExp) && !Array.isArray(v)))
    return list as unknown[];
  return undefined;
}

/** How the planner chooses; shared by every collection of an engine, switchable at run time. */
export interface PlannerRules {
  /**
   * Amazon DocumentDB's documented limits: a sparse index serves only a query with
   * `$exists: true` on its field; `$ne`, `$nin`, `$not`, `$exists` (on a non-sparse index) never
   * use an index. (`$nor` and `$or` are never planned from here either way.)
   */
  documentDb: boolean;
}

/** What the queries of one command cost: documents read (explain's docsExamined) and plans. */
export interface Examination {
  docsExamined: number;
  plans: string[];
}

const NEGATIONS = ['$ne', '$nin', '$not'];

/** Whether DocumentDB would use `spec` for the condition the filter puts on its leading field. */
function documentDbUses(spec: IndexSpec, filter: Doc): boolean {
  const cond = filter[spec.key[0]![0]];
  if (!isOperatorObject(cond)) return !spec.sparse;
  if (NEGATIONS.some((op) => op in cond)) return false;
  if ('$exists' in cond) return spec.sparse && cond['$exists'] === true;
  return !spec.sparse;
}

export interface FindOptions {
  sort?: SortSpec;
  skip?: number;
  limit?: number;
}

/**
 * Only the query and projection operators: every Query copies its context's operator tables, and
 * mingo's default context (every aggregation expression too) made that the server's main cost.
 */
export const MINGO_CONTEXT = Context.init({
  query: queryOperators,
  projection: projectionOperators,
});

function compileQuery(filter: Doc): Query {
  try {
    return new Query(filter, { context: MINGO_CONTEXT });
  } catch (error) {
    throw new CommandError(2, `bad query: ${(error as Error).message}`);
  }
}

export function compareBySort(sort: SortSpec): (a: Doc, b: Doc) => number {
  return (a, b) => {
    for (const [field, dir] of sort) {
      const c = compareValues(valueAt(a, field), valueAt(b, field)) * dir;
      if (c !== 0) return c;
    }
    return 0;
  };
}

/** The document an upsert starts from: the filter's equality fields. */
function seedFromFilter(filter: Doc): Doc {
  const seed: Doc = {};
  for (const [path, cond] of Object.entries(filter)) {
    if (path.startsWith('$')) continue;
    const values = isOperatorObject(cond) ? ('$eq' in cond ? [cond['$eq']] : []) : [cond];
    if (values.length !== 1) continue;
    const parts = path.split('.');
    let target = seed;
    for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Doc;
    target[parts.at(-1)!] = cloneDoc(values[0]);
  }
  return seed;
}

const SUPPORTED_UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$max',
  '$min',
  '$mul',
  '$push',
  '$pull',
  '$addToSet',
  '$pop',
  '$rename',
  '$currentDate',
  '$setOnInsert',
]);

export class Collection {
  /** By canonical _id key, in insertion order (a collection scan's order). */
  private readonly docs = new Map<string, Doc>();
  private readonly indexes = new Map<string, Index>();

  constructor(
    readonly db: string,
    readonly name: string,
    private readonly rules: PlannerRules = { documentDb: false },
    private readonly examination: Examination = { docsExamined: 0, plans: [] },
  ) {}

  get namespace(): string {
    return `${this.db}.${this.name}`;
  }

  get count(): number {
    return this.docs.size;
  }

  indexSpecs(): IndexSpec[] {
    return [
      { name: '_id_', key: [['_id', 1]], unique: true, sparse: false },
      ...[...this.indexes.values()].map((i) => i.spec),
    ];
  }

  /** False when an index of that name and key already exists; throws if the name is taken otherwise. */
  createIndex(spec: IndexSpec): boolean {
    if (spec.name === '_id_') return false;
    const existing = this.indexes.get(spec.name);
    if (existing) {
      const same =
        JSON.stringify(existing.spec.key) === JSON.stringify(spec.key) &&
        existing.spec.unique === spec.unique &&
        existing.spec.sparse === spec.sparse &&
        existing.spec.expireAfterSeconds === spec.expireAfterSeconds;
      if (!same)
        throw new CommandError(
          86,
          `An existing index has the same name as the requested index: ${spec.name}`,
        );
      return false;
    }
    const index = new Index(spec);
    for (const [id, doc] of this.docs) {
      const keys = index.keysOf(doc);
      const clash = index.conflict(keys, id);
      if (clash) throw duplicateKey(this.namespace, spec, clash.leadValue, clash.rest);
      index.add(id, keys);
    }
    this.indexes.set(spec.name, index);
    return true;
  }

  insert(input: Doc): Doc {
    const doc = input['_id'] === undefined ? { _id: new ObjectId(), ...input } : input;
    const id = keyOf(doc['_id']);
    if (this.docs.has(id))
      throw duplicateKey(
        this.namespace,
        { name: '_id_', key: [['_id', 1]], unique: true, sparse: false },
        doc['_id'],
        [],
      );
    const keys = this.keysAndCheck(doc, id);
    this.docs.set(id, doc);
    for (const [index, k] of keys) index.add(id, k);
    return doc;
  }

  /** Index keys of `doc` per index, after checking no other document holds a unique one. */
  private keysAndCheck(doc: Doc, id: string): [Index, IndexKey[]][] {
    const all: [Index, IndexKey[]][] = [];
    for (const index of this.indexes.values()) {
      const keys = index.keysOf(doc);
      const clash = index.conflict(keys, id);
      if (clash) throw duplicateKey(this.namespace, index.spec, clash.leadValue, clash.rest);
      all.push([index, keys]);
    }
    return all;
  }

  private replace(old: Doc, next: Doc): void {
    const id = keyOf(old['_id']);
    if (keyOf(next['_id']) !== id)
      throw new CommandError(
        66,
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    const changes: [Index, IndexKey[], IndexKey[]][] = [];
    for (const index of this.indexes.values()) {
      const before = index.keysOf(old);
      const after = index.keysOf(next);
      if (sameKeys(before, after)) continue;
      const clash = index.conflict(after, id);
      if (clash) throw duplicateKey(this.namespace, index.spec, clash.leadValue, clash.rest);
      changes.push([index, before, after]);
    }
    this.docs.set(id, next);
    for (const [index, before, after] of changes) {
      index.remove(id, before);
      index.add(id, after);
    }
  }

  delete(doc: Doc): void {
    const id = keyOf(doc['_id']);
    for (const index of this.indexes.values()) index.remove(id, index.keysOf(doc));
    this.docs.delete(id);
  }

  /** Matching documents (the stored objects: copy before changing them). */
  find(filter: Doc, options: FindOptions = {}): Doc[] {
    const query = compileQuery(filter);
    const { ids, ordered, plan } = this.plan(filter, options.sort);
    this.examination.plans.push(plan);
    const skip = options.skip ?? 0;
    const limit = options.limit ?? 0;
    const out: Doc[] = [];
    for (const id of ids) {
      const doc = this.docs.get(id);
      if (!doc) continue;
      this.examination.docsExamined++;
      if (!query.test(doc)) continue;
      out.push(doc);
      if (ordered && limit > 0 && out.length >= skip + limit) break;
    }
    if (!ordered && options.sort && options.sort.length > 0) out.sort(compareBySort(options.sort));
    return out.slice(skip, limit > 0 ? skip + limit : undefined);
  }

  /** Candidate ids, a superset of the matches; `ordered` when they come in the sort's order. */
  private plan(
    filter: Doc,
    sort: SortSpec | undefined,
  ): { ids: Iterable<string>; ordered: boolean; plan: string } {
    const unsorted = !sort || sort.length === 0;
    const idValues = equalityValues(filter['_id']);
    if (idValues) {
      return {
        ids: new Set(idValues.map((v) => keyOf(v))),
        ordered: unsorted || idValues.length <= 1,
        plan: 'IDHACK',
      };
    }
    let best:
      { score: number; run: () => Iterable<string>; ordered: boolean; name: string } | undefined;
    for (const index of this.indexes.values()) {
      if (this.rules.documentDb && !documentDbUses(index.spec, filter)) continue;
      const leadCond = filter[index.lead];
      const values = equalityValues(leadCond);
      if (!values) {
        const range = rangeOf(leadCond);
        if (!range || (best && best.score >= 1)) continue;
        best = {
          score: 1,
          name: index.spec.name,
          ordered: unsorted,
          run: () =>
            new Set(
              index.leadsIn(range).flatMap((lead) => [...index.scan(lead, undefined, false)]),
            ),
        };
        continue;
      }
      const rest = index.rest;
      const restCond = rest[0] && filter[rest[0][0]];
      let reverse = false;
      let sortMatches = unsorted;
      if (!unsorted && values.length === 1 && sort.length <= rest.length) {
        const same = sort.every(([f, d], i) => rest[i]![0] === f && rest[i]![1] === d);
        const opposite = sort.every(([f, d], i) => rest[i]![0] === f && rest[i]![1] === -d);
        sortMatches = same || opposite;
        reverse = !same && opposite;
      }
      const score =
        2 + (restCond !== undefined && rangeOf(restCond) ? 2 : 0) + (sortMatches ? 1 : 0);
      if (best && best.score >= score) continue;
      const leads = [...new Set(values.map((v) => keyOf(v)))];
      best = {
        score,
        name: index.spec.name,
        ordered: sortMatches && leads.length === 1,
        run: () =>
          leads.length === 1
            ? index.scan(leads[0]!, restCond, reverse)
            : new Set(leads.flatMap((lead) => [...index.scan(lead, undefined, false)])),
      };
    }
    if (best) return { ids: best.run(), ordered: best.ordered, plan: `IXSCAN ${best.name}` };
    // `$and`: any one clause's candidates hold every match. `$or`: the union of its clauses',
    // when each clause has an index (as mongod and DocumentDB plan it), else a scan.
    const and = filter['$and'];
    if (Array.isArray(and)) {
      for (const clause of and as Doc[]) {
        const sub = this.plan(clause, sort);
        if (sub.plan !== 'COLLSCAN') return sub;
      }
    }
    const or = filter['$or'];
    if (Array.isArray(or) && or.length > 0) {
      const subs = (or as Doc[]).map((clause) => this.plan(clause, undefined));
      if (subs.every((sub) => sub.plan !== 'COLLSCAN'))
        return {
          ids: new Set(subs.flatMap((sub) => [...sub.ids])),
          ordered: unsorted,
          plan: `OR(${subs.map((sub) => sub.plan).join(', ')})`,
        };
    }
    return { ids: [...this.docs.keys()], ordered: unsorted, plan: 'COLLSCAN' };
  }

  /** Applies an update document (operators or a replacement) to a copy of `doc`. */
  static modified(doc: Doc, update: Doc, inserting: boolean): { next: Doc; changed: boolean } {
    const operators = Object.keys(update).filter((k) => k.startsWith('$'));
    if (operators.length === 0)
      return { next: { ...cloneDoc(update), _id: doc['_id'] }, changed: true };
    if (operators.length !== Object.keys(update).length)
      throw new CommandError(9, 'an update document mixes operators and fields');
    const { $setOnInsert, ...rest } = update;
    for (const op of Object.keys(rest))
      if (!SUPPORTED_UPDATE_OPERATORS.has(op))
        throw new CommandError(238, `update operator ${op} is not supported by the wire server`);
    if (inserting && $setOnInsert)
      rest['$set'] = { ...(rest['$set'] as Doc), ...($setOnInsert as Doc) };
    let changed = false;
    const copy = { ...doc };
    const fast = fastUpdate(copy, rest);
    if (fast !== undefined) return { next: copy, changed: fast };
    const next = cloneDoc(doc);
    if (Object.keys(rest).length > 0) {
      try {
        changed =
          applyUpdate(next, rest, undefined, undefined, {
            cloneMode: 'deep',
            queryOptions: { context: MINGO_CONTEXT },
          }).length > 0;
      } catch (error) {
        throw new CommandError(2, `bad update: ${(error as Error).message}`);
      }
    }
    return { next, changed };
  }

  /** Updates the first match (or all, `multi`); inserts from the filter when nothing matched and `upsert`. */
  update(
    filter: Doc,
    update: Doc,
    opts: { multi?: boolean; upsert?: boolean; sort?: SortSpec },
  ): { matched: number; modified: number; upserted?: unknown; before?: Doc; after?: Doc } {
    const matches = this.find(filter, {
      ...(opts.sort && { sort: opts.sort }),
      limit: opts.multi ? 0 : 1,
    });
    if (matches.length === 0) {
      if (!opts.upsert) return { matched: 0, modified: 0 };
      const seed = seedFromFilter(filter);
      seed['_id'] ??= new ObjectId();
      const { next: doc } = Collection.modified(seed, update, true);
      if (doc['_id'] === undefined) doc['_id'] = seed['_id'];
      this.insert(doc);
      return { matched: 0, modified: 0, upserted: doc['_id'], after: doc };
    }
    let modified = 0;
    let before: Doc | undefined;
    let after: Doc | undefined;
    for (const doc of matches) {
      const { next, changed } = Collection.modified(doc, update, false);
      before ??= doc;
      after ??= changed ? next : doc;
      if (!changed) continue;
      this.replace(doc, next);
      modified++;
    }
    return {
      matched: matches.length,
      modified,
      ...(before && { before }),
      ...(after && { after }),
    };
  }
}

function sameKeys(a: IndexKey[], b: IndexKey[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (k, i) =>
      k.lead === b[i]!.lead &&
      k.rest.length === b[i]!.rest.length &&
      k.rest.every(
        (v, j) => compareValues(v, b[i]!.rest[j]) === 0 && keyOf(v) === keyOf(b[i]!.rest[j]),
      ),
  );
}
