// The update operators the chat store sends ($set, $unset, $inc, $max, $min, $push with $each
// and $slice, $setOnInsert), applied directly: mingo's updater costs tens of microseconds of
// fixed overhead per call, which made the store server a noticeable share of a benchmark's CPU.
// Anything else (array indexes or positional paths, $push modifiers beyond $each/$slice, other
// operators) returns undefined and goes to mingo. A property test holds this to mingo's result.
import { CommandError } from './errors.js';
import { cloneDoc, compareValues, isPlainObject, type Doc } from './values.js';

const FAST = new Set(['$set', '$unset', '$inc', '$max', '$min', '$push']);

function eligible(path: string): boolean {
  return path
    .split('.')
    .every((part) => part !== '' && !part.startsWith('$') && !/^\d+$/.test(part));
}

/**
 * The object holding the last part of `path`, created on the way when `create`. Every embedded
 * document on the way is copied first: the caller passes a shallow copy of the stored document,
 * and the stored one (still what other readers see) must not change.
 */
function parentOf(
  doc: Doc,
  path: string,
  create: boolean,
): { holder: Doc; key: string } | undefined {
  const parts = path.split('.');
  let holder = doc;
  for (const part of parts.slice(0, -1)) {
    const next = holder[part];
    if (next === undefined && create) holder = holder[part] = {};
    else if (isPlainObject(next)) holder = holder[part] = { ...next };
    else if (next === undefined) return undefined;
    else
      throw new CommandError(28, `Cannot create field '${parts.at(-1)}' in element {${part}: ...}`);
  }
  return { holder, key: parts.at(-1)! };
}

/**
 * Applies `update` (operators only) to `doc`, a shallow copy of a stored document: only what
 * changes is copied, everything else stays shared with the stored one (stored documents are
 * never changed in place). True when something changed; undefined when the update needs mingo
 * (nothing is touched then).
 */
export function fastUpdate(doc: Doc, update: Doc): boolean | undefined {
  for (const [op, spec] of Object.entries(update)) {
    if (!FAST.has(op) || !isPlainObject(spec)) return undefined;
    for (const [path, value] of Object.entries(spec)) {
      if (!eligible(path)) return undefined;
      if (op === '$push') {
        if (!isPlainObject(value) || !('$each' in value)) continue;
        const modifiers = Object.keys(value);
        if (modifiers.some((m) => m !== '$each' && m !== '$slice')) return undefined;
        if (!Array.isArray(value['$each'])) return undefined;
        if (value['$slice'] !== undefined && typeof value['$slice'] !== 'number') return undefined;
      }
    }
  }
  let changed = false;
  for (const [op, spec] of Object.entries(update)) {
    for (const [path, value] of Object.entries(spec as Doc)) {
      const at = parentOf(doc, path, op !== '$unset');
      if (!at) continue; // $unset of a path that is not there
      const { holder, key } = at;
      const current = holder[key];
      switch (op) {
        case '$set':
          // An embedded document is replaced whole: comparing it would cost more than writing it.
          if (
            current === undefined ||
            isPlainObject(value) ||
            compareValues(current, value) !== 0 ||
            typeof current !== typeof value
          ) {
            holder[key] = cloneDoc(value);
            changed = true;
          }
          break;
        case '$unset':
          if (key in holder) {
            delete holder[key];
            changed = true;
          }
          break;
        case '$inc': {
          if (typeof value !== 'number')
            throw new CommandError(
              14,
              `Cannot increment with non-numeric argument: {${path}: ${String(value)}}`,
            );
          if (current !== undefined && typeof current !== 'number')
            throw new CommandError(
              14,
              `Cannot apply $inc to a value of non-numeric type (${path})`,
            );
          holder[key] = (current ?? 0) + value;
          changed ||= value !== 0 || current === undefined;
          break;
        }
        case '$max':
        case '$min': {
          const wins =
            current === undefined ||
            (op === '$max' ? compareValues(value, current) > 0 : compareValues(value, current) < 0);
          if (wins) {
            holder[key] = cloneDoc(value);
            changed = true;
          }
          break;
        }
        case '$push': {
          if (current !== undefined && !Array.isArray(current))
            throw new CommandError(2, `The field '${path}' must be an array`);
          const list = (current as unknown[] | undefined) ?? [];
          const each =
            isPlainObject(value) && '$each' in value ? (value['$each'] as unknown[]) : [value];
          let next = [...list, ...each.map((v) => cloneDoc(v))];
          const slice = isPlainObject(value) ? value['$slice'] : undefined;
          if (typeof slice === 'number')
            next = slice >= 0 ? next.slice(0, slice) : next.slice(Math.max(0, next.length + slice));
          holder[key] = next;
          // Kept elements are the same objects, pushed ones are new: compare references, not values.
          changed ||=
            current === undefined ||
            next.length !== list.length ||
            next.some((v, i) => v !== list[i]);
          break;
        }
      }
    }
  }
  return changed;
}
