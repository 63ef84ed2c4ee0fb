import type { RegisterCase } from '@jobsphere/chat-domain/testing';
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
  'moves delivered positions forward only, apart from read ones, for members only': `${ATOMIC_UPDATES}: two concurrent $max of delivered positions, the lower one lands last`,
  'moves a report open → dismissed → actioned with every step kept, and nothing out of actioned; racing moves each apply to the state the other left': `${ATOMIC_UPDATES}: a dismissal and an action racing on one report both apply, and the action's write drops the dismissal's history step (the report still ends actioned)`,
  'accepts of one request (two answers and the reply): exactly one accepts, none fails, the reply is stored': `${ATOMIC_UPDATES}: two findAndModify of one pending request both match it, and both accept it`,
  'sends of a request\u2019s opener past the allowance: exactly the allowance is stored, gap-free': `${ATOMIC_UPDATES}: concurrent sends read the same allowance and seq, and lose each other's $inc`,
  'appends and edits at once: every change at its own version; sync sees each message once, in its newest state': `${ATOMIC_UPDATES}: concurrent sends and edits take the same version from $inc`,
};

/** Cases of the replies, mentions and reactions contract (features.contract.ts). */
export const FERRETDB_FEATURE_GAPS: Readonly<Record<string, string>> = {
  'keeps every one of concurrent reactions (each decided on the others\u2019)': `${ATOMIC_UPDATES}: two reactions conditioned on the same message version both match it, and the later write drops the earlier one's reaction`,
};

/** The hiring contracts' cases (test/mongo.hiring.spec.ts). */
export const FERRETDB_HIRING_GAPS: Readonly<Record<string, string>> = {
  'racing answers from two members leave exactly one': `${ATOMIC_UPDATES}: two answers' conditional updates of one message both match the unanswered card`,
  'claims race: each due entry goes to exactly one of many workers': `${ATOMIC_UPDATES}: two workers' findAndModify of one due entry both match it and both lease it`,
  'the per-sender cap holds under concurrent creation, and a finished one frees a place': `${ATOMIC_UPDATES}: concurrent $inc of the sender's counter read the same count`,
  'racing answers to one wait: exactly one takes it': `${ATOMIC_UPDATES}: two answers' findAndModify of one waiting conversation may both match it`,
  'answers recorded at once lose no increment (the first ones racing to create the day)': `${ATOMIC_UPDATES}: concurrent $inc of one day's bucket read the same count`,
  'the per-owner cap holds under concurrent creation, and a deletion frees a place': `${ATOMIC_UPDATES}: concurrent $inc of the template owner's counter read the same count`,
};

/** End-to-end cases. */
export const FERRETDB_E2E_GAPS: Readonly<Record<string, string>> = {
  'keeps every acked message through a Redis restart and an instance SIGKILL': `${ATOMIC_UPDATES}: two senders in one conversation take the same position, and the send that lost it is answered UNAVAILABLE on every retry (its reservation names a seq another message holds), so not every send is ever acknowledged`,
};

/** The listed exceptions of one server kind (the contract's, or another list of FerretDB's). */
export function exceptionsOf(
  server: MongoServerKind,
  gaps: Readonly<Record<string, string>> = FERRETDB_GAPS,
): Readonly<Record<string, string>> {
  return server.kind === 'ferretdb' ? gaps : {};
}

/**
 * Registers a contract suite with the listed exceptions of one server: `register` gets the
 * function that registers each case and hands it to the suite (its `it` option). Every case
 * still runs; a listed one is titled with the missing feature, and its outcome is printed
 * rather than failing the run (the gap makes it fail, often but not always: it is a race). A
 * listed title the suite does not have fails the run: the list is stale.
 */
export function describeWithExceptions(
  server: string,
  exceptions: Readonly<Record<string, string>>,
  register: (registerCase: RegisterCase) => void,
): void {
  const listed = Object.keys(exceptions);
  if (listed.length > 0)
    console.log(
      `${server}: ${listed.length} listed exception(s), each run and reported:\n` +
        listed.map((title) => `  - "${title}": ${exceptions[title]}`).join('\n'),
    );
  const seen = new Set<string>();
  register((title, run, timeout) => {
    const missing = exceptions[title];
    if (missing === undefined) return it(title, run, timeout);
    seen.add(title);
    return it(
      `${title} [exception on ${server}: ${missing.split(' (')[0]}]`,
      async () => {
        try {
          await run();
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
  });
  const stale = listed.filter((title) => !seen.has(title));
  if (stale.length > 0)
    throw new Error(`listed exceptions with no such case on ${server}: ${stale.join('; ')}`);
}
