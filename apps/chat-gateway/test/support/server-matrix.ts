import type { MongoServerKind } from '@jobsphere/testing';

/**
 * What FerretDB v1 (SQLite backend) cannot do that a contract case needs: the case's title, and
 * the missing feature. Each gap is also shown directly, without the store, by
 * packages/testing/test/ferretdb.spec.ts, so this list goes stale loudly when FerretDB changes.
 */
const ATOMIC_UPDATES =
  'atomic single-document updates under concurrent writers (FerretDB v1 reads the document, ' +
  'applies the update in its own process, then rewrites it by _id outside any transaction, so ' +
  'concurrent updates of one document overwrite each other; FerretDB issue #3040)';
export const FERRETDB_GAPS: Readonly<Record<string, string>> = {
  'gives concurrent appends distinct, gap-free positions and keeps the newest as the preview': `${ATOMIC_UPDATES}: concurrent sends take the same seq from $inc`,
  'moves read positions forward only, for members only, also concurrently': `${ATOMIC_UPDATES}: two concurrent $max of read positions, the lower one lands last`,
  'a request: the recipient sees it apart, the opener sends up to the allowance, nothing more is stored': `${ATOMIC_UPDATES}: the reply's preview update rewrites the conversation over its acceptance of the request`,
  'moves a report open → dismissed → actioned with every step kept, and nothing out of actioned; racing moves each apply to the state the other left': `${ATOMIC_UPDATES}: a dismissal and an action racing on one report both apply, and the action's write drops the dismissal's history step (the report still ends actioned)`,
};

/** The listed exceptions of one server kind. */
export function exceptionsOf(server: MongoServerKind): Readonly<Record<string, string>> {
  return server.kind === 'ferretdb' ? FERRETDB_GAPS : {};
}

type TestFn = () => Promise<unknown>;

/**
 * Registers a contract suite (`register` calls describe/it) with the listed exceptions of one
 * server: every case still runs; a listed one is titled with the missing feature, and its
 * outcome is printed rather than failing the run (the gap makes it fail, often but not always:
 * it is a race). A listed title the suite does not have fails the run: the list is stale.
 */
export function describeWithExceptions(
  server: string,
  exceptions: Readonly<Record<string, string>>,
  register: () => void,
): void {
  const listed = Object.keys(exceptions);
  if (listed.length === 0) return register();
  console.log(
    `${server}: ${listed.length} listed exception(s), each run and reported:\n` +
      listed.map((title) => `  - "${title}": ${exceptions[title]}`).join('\n'),
  );
  const seen = new Set<string>();
  const original = globalThis.it;
  const wrapped = (title: string, fn: TestFn, timeout?: number) => {
    const missing = exceptions[title];
    if (missing === undefined) return original(title, fn, timeout);
    seen.add(title);
    return original(
      `${title} [exception on ${server}: ${missing.split(' (')[0]}]`,
      async () => {
        try {
          await fn();
          console.log(`${server} exception: "${title}" passed this run (the race did not show)`);
        } catch (error) {
          const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
          console.log(
            `${server} exception: "${title}" failed as listed, for want of ${missing}: ${first}`,
          );
        }
      },
      timeout,
    );
  };
  globalThis.it = Object.assign(wrapped, original);
  try {
    register();
  } finally {
    globalThis.it = original;
  }
  const stale = listed.filter((title) => !seen.has(title));
  if (stale.length > 0)
    throw new Error(`listed exceptions with no such case on ${server}: ${stale.join('; ')}`);
}
