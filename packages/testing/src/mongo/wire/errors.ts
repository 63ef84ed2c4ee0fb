import type { IndexSpec } from './collection.js';
import type { Doc } from './values.js';

export const CODE_NAMES: Record<number, string> = {
  1: 'InternalError',
  2: 'BadValue',
  9: 'FailedToParse',
  13: 'Unauthorized',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  43: 'CursorNotFound',
  50: 'MaxTimeMSExpired',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  86: 'IndexKeySpecsConflict',
  238: 'NotImplemented',
  276: 'IndexBuildAlreadyInProgress',
  334: 'MechanismUnavailable',
  10107: 'NotWritablePrimary',
  11000: 'DuplicateKey',
  13435: 'NotPrimaryNoSecondaryOk',
};

/** A command that fails the way mongod fails it: `{ ok: 0, code, codeName, errmsg, ...extra }`. */
export class CommandError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly extra: Doc = {},
  ) {
    super(message);
    this.name = this.constructor.name;
  }

  toReply(): Doc {
    return {
      ok: 0,
      errmsg: this.message,
      code: this.code,
      codeName: CODE_NAMES[this.code] ?? 'UnknownError',
      ...this.extra,
    };
  }

  /** As an entry of a write command's `writeErrors`. */
  toWriteError(index: number): Doc {
    return {
      index,
      code: this.code,
      codeName: CODE_NAMES[this.code] ?? 'UnknownError',
      errmsg: this.message,
      ...this.extra,
    };
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return `"${v}"`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v && typeof v === 'object' && 'toHexString' in v)
    return `ObjectId('${(v as { toHexString(): string }).toHexString()}')`;
  return String(v);
}

/** E11000 with mongod's message, keyPattern and keyValue. */
export function duplicateKey(
  namespace: string,
  spec: IndexSpec,
  leadValue: unknown,
  rest: unknown[],
): CommandError {
  const keyPattern = Object.fromEntries(spec.key);
  const keyValue = Object.fromEntries(
    spec.key.map(([field], i) => [field, i === 0 ? leadValue : rest[i - 1]]),
  );
  const dup = Object.entries(keyValue)
    .map(([k, v]) => `${k}: ${show(v)}`)
    .join(', ');
  return new CommandError(
    11000,
    `E11000 duplicate key error collection: ${namespace} index: ${spec.name} dup key: { ${dup} }`,
    { keyPattern, keyValue },
  );
}
