// BSON values as the wire server sees them: MongoDB's comparison order, and a canonical string
// key per value for hash lookups (unique indexes, _id).
import { Binary, Decimal128, EJSON, Long, ObjectId, Timestamp } from 'bson';

export type Doc = Record<string, unknown>;

/** MongoDB's sort order of BSON types (numbers compare with each other whatever their width). */
function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 2;
  if (
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    v instanceof Long ||
    v instanceof Decimal128
  )
    return 3;
  if (typeof v === 'string') return 4;
  if (Array.isArray(v)) return 6;
  if (v instanceof Binary) return 7;
  if (v instanceof ObjectId) return 8;
  if (typeof v === 'boolean') return 9;
  if (v instanceof Date) return 10;
  if (v instanceof Timestamp) return 11;
  if (v instanceof RegExp) return 12;
  return 5; // embedded document
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Decimal128) return Number(v.toString());
  return NaN;
}

/** Negative, zero or positive, as MongoDB orders the two values. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 2:
      return 0;
    case 3:
      return toNumber(a) - toNumber(b);
    case 4:
      return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
    case 8: {
      const x = (a as ObjectId).toHexString();
      const y = (b as ObjectId).toHexString();
      return x === y ? 0 : x < y ? -1 : 1;
    }
    case 9:
      return Number(a) - Number(b);
    case 10:
      return (a as Date).getTime() - (b as Date).getTime();
    case 6: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    default: {
      const x = keyOf(a);
      const y = keyOf(b);
      return x === y ? 0 : x < y ? -1 : 1;
    }
  }
}

/** One string per distinct value: equal values (1 and 1.0, two ObjectIds of one hex) share it. */
export function keyOf(v: unknown): string {
  if (v === undefined || v === null) return 'z';
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'number') return `n${v}`;
  if (v instanceof ObjectId) return `o${v.toHexString()}`;
  if (v instanceof Date) return `d${v.getTime()}`;
  if (typeof v === 'boolean') return v ? 'bt' : 'bf';
  if (typeof v === 'bigint' || v instanceof Long) return `n${toNumber(v)}`;
  return `x${EJSON.stringify(v, { relaxed: false })}`;
}

/** The value at a dotted path; arrays on the way are not traversed (callers that need it do). */
export function valueAt(doc: Doc, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Doc)[part];
  }
  return current;
}

/**
 * A deep copy that keeps BSON values (ObjectId, Date, Binary, ...) as they are: an update is
 * applied to a copy, so a refused one (a duplicate key) leaves the stored document untouched.
 */
export function cloneDoc<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x: unknown) => cloneDoc(x)) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const [k, x] of Object.entries(v as Doc)) out[k] = cloneDoc(x);
    return out as T;
  }
  return v; // immutable BSON classes and primitives
}

/** True for a plain object whose keys are all operators (`{ $gt: 1 }`). */
export function isOperatorObject(v: unknown): v is Doc {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/** An embedded document (not an array, Date or BSON value class). */
export function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
