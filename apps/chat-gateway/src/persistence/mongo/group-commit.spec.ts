import { UnavailableError } from '@jobsphere/chat-domain';
import { errorsByStatement, GroupCommit } from './group-commit.js';

/** A `run` whose commands the test answers by hand, recording each batch it was given. */
function manualRun() {
  const batches: number[][] = [];
  const limits: (number | undefined)[] = [];
  const answers: ((errors: unknown[]) => void)[] = [];
  const run = (items: number[], maxTimeMS: number | undefined) => {
    batches.push(items);
    limits.push(maxTimeMS);
    return new Promise<unknown[]>((resolve) => answers.push(resolve));
  };
  return { batches, limits, answers, run };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('sends a write on a quiet system at once, and what arrives meanwhile as the next command', async () => {
    const { batches, answers, run } = manualRun();
    const commit = new GroupCommit(run, { maxBatch: 100, maxWaiting: 1_000 });
    const first = commit.submit(1);
    await flush();
    expect(batches).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => commit.submit(n));
    await flush();
    expect(batches).toEqual([[1]]); // they wait for the command in flight
    answers[0]!([]);
    await first;
    await flush();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    answers[1]!([]);
    await Promise.all(rest);
  });

  it('refuses only the items their command refused', async () => {
    const { answers, run } = manualRun();
    const commit = new GroupCommit(run, { maxBatch: 100, maxWaiting: 1_000 });
    const first = commit.submit(0);
    const [a, b, c] = [1, 2, 3].map((n) => commit.submit(n));
    await flush();
    answers[0]!([]);
    await first;
    await flush();
    const duplicate = { code: 11000 };
    answers[1]!([undefined, duplicate]);
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toBe(duplicate);
    await expect(c).resolves.toBeUndefined();
  });

  it('refuses the whole batch when its command fails or throws, and goes on with the next', async () => {
    let calls = 0;
    const commit = new GroupCommit(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('thrown');
        if (calls === 2) return Promise.reject(new Error('rejected'));
        return Promise.resolve([]);
      },
      { maxBatch: 10, maxWaiting: 100 },
    );
    await expect(commit.submit(1)).rejects.toThrow('thrown');
    await expect(commit.submit(2)).rejects.toThrow('rejected');
    await expect(commit.submit(3)).resolves.toBeUndefined();
  });

  it('caps a burst: at most maxBatch per command, and past maxWaiting UNAVAILABLE at once', async () => {
    const { batches, answers, run } = manualRun();
    const commit = new GroupCommit(run, { maxBatch: 50, maxWaiting: 120 });
    const inFlight = commit.submit(0);
    await flush();
    // 200 more arrive while the first command is in flight: 120 may wait, 80 are refused.
    const burst = Array.from({ length: 200 }, (_, i) =>
      commit.submit(i + 1).then(
        () => 'stored',
        (e: unknown) => (e instanceof UnavailableError ? 'unavailable' : 'other'),
      ),
    );
    for (let i = 0; batches.length > i; i++) {
      answers[i]!([]);
      await flush();
    }
    await inFlight;
    const outcomes = await Promise.all(burst);
    expect(outcomes.filter((o) => o === 'stored')).toHaveLength(120);
    expect(outcomes.filter((o) => o === 'unavailable')).toHaveLength(80);
    expect(outcomes.slice(120).every((o) => o === 'unavailable')).toBe(true);
    // Nothing refused was given to a command, and no command was larger than 50.
    expect(batches.flat()).toHaveLength(121);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(50);
  });
});

describe('GroupCommit deadlines', () => {
  it('never sends an item whose caller stopped waiting, and gives each command the time its callers have left', async () => {
    const { batches, limits, answers, run } = manualRun();
    let now = 10_000;
    const commit = new GroupCommit(run, {
      maxBatch: 10,
      maxWaiting: 100,
      minCommandMs: 50,
      now: () => now,
    });
    const first = commit.submit(1, now + 1_500);
    await flush();
    expect(limits).toEqual([1_450]); // the server stops a round trip before the caller does
    const late = commit.submit(2, now + 1_000);
    const onTime = commit.submit(3, now + 2_500);
    // The command in flight hangs for 950 ms: item 2 has 50 ms left, too little for a command.
    now += 950;
    answers[0]!([]);
    await first;
    await expect(late).rejects.toBeInstanceOf(UnavailableError);
    await flush();
    expect(batches).toEqual([[1], [3]]);
    expect(limits[1]).toBe(2_500 - 950 - 50);
    answers[1]!([]);
    await expect(onTime).resolves.toBeUndefined();
  });
});

describe('errorsByStatement', () => {
  it('names the statements a bulk write error names, and every one for any other error', () => {
    const dup = { index: 1, code: 11000 };
    expect(errorsByStatement({ writeErrors: [dup] }, 3)).toEqual([undefined, dup, undefined]);
    expect(errorsByStatement({ writeErrors: dup }, 2)).toEqual([undefined, dup]);
    const network = new Error('socket closed');
    expect(errorsByStatement(network, 2)).toEqual([network, network]);
    expect(errorsByStatement({ writeErrors: [] }, 1)).toEqual([{ writeErrors: [] }]);
  });
});
