import { decode, newHistogram } from '../src/hist.js';
import type { ConversationSpec } from '../src/loadgen/protocol.js';
import { ranReply, StepBook } from '../src/loadgen/steps.js';

// The bookkeeping both load generators report from: what a reader of the bench's tables sees as
// delivered, missing, duplicated and crossing Redis, per step.
const direct: ConversationSpec = {
  idx: 0,
  id: 'd',
  kind: 'direct',
  members: ['ana', 'ravi'],
  senderDevice: 'ana#1',
  senderInstance: 'A',
};
const group: ConversationSpec = {
  idx: 1,
  id: 'g',
  kind: 'group',
  members: ['ana', 'ravi', 'mia'],
  senderDevice: 'ravi#1',
  senderInstance: 'A',
};
const devices = [
  { key: 'ana#1', userId: 'ana', seen: new Map<string, Set<number>>() },
  { key: 'ravi#1', userId: 'ravi', seen: new Map<string, Set<number>>() },
  { key: 'mia#1', userId: 'mia', seen: new Map<string, Set<number>>() },
];
const ravi = devices[1]!;
const mia = devices[2]!;
const shows = (d: (typeof devices)[number], id: string, n: number) =>
  d.seen.get(id)?.has(n) ? 'live' : undefined;

describe('StepBook', () => {
  it('times the first copy of each delivery by step and kind, counts later copies as duplicates, and finds what is missing', () => {
    const book = new StepBook();
    book.setConversations([direct, group]);
    book.received(ravi.seen, 'd', 1, '1|1000|xx', 1_040, 'A');
    book.received(ravi.seen, 'd', 1, '1|1000|xx', 1_090, 'A'); // the same message again
    book.received(mia.seen, 'g', 1, '1|2000|xx', 2_010, 'B'); // crossed Redis
    book.received(ravi.seen, 'd', 2, '2|3000|xx', 3_005, 'A'); // the next step

    const one = book.collect(1, { 0: [1], 1: [1] }, [direct, group], devices, shows, 0);
    expect(one).toMatchObject({
      phase: 1,
      expected: 3, // ravi in the direct one; ana and mia in the group (ravi sends it)
      delivered: 2,
      deliveredLive: 2,
      deliveredBySync: 0,
      missing: 1,
      duplicates: 1,
      lastDeliveryAt: 2_010,
      crossBuckets: { 1: [201] },
    });
    expect(decode(one.e2e.all).totalCount).toBe(2);
    expect(decode(one.e2e.direct).totalCount).toBe(1);
    expect(decode(one.e2e.group).totalCount).toBe(1);
    expect(decode(one.e2e.group).maxValue).toBeGreaterThanOrEqual(10_000); // 10 ms in µs
    const two = book.collect(2, { 0: [2] }, [direct, group], devices, shows, 0);
    expect(two).toMatchObject({ expected: 1, delivered: 1, missing: 0, crossBuckets: {} });
  });

  it('counts where each delivery came from as the client says', () => {
    const book = new StepBook();
    book.setConversations([direct]);
    const result = book.collect(
      1,
      { 0: [1, 2, 3] },
      [direct],
      devices,
      (_d, _id, n) => ['live', 'sync', undefined][n - 1],
      4,
    );
    expect(result).toMatchObject({
      expected: 3,
      delivered: 2,
      deliveredLive: 1,
      deliveredBySync: 1,
      missing: 1,
      shownTwice: 4,
    });
  });
});

describe('ranReply', () => {
  const base = {
    phase: 1,
    sent: 3,
    onWire: 3,
    acked: [[0, 1]] as [number, number][],
    resent: 0,
    ackErrors: 1,
    ackTimeoutMs: 500,
    unanswered: 'still in the outbox',
    ackHist: newHistogram(),
    lagHist: newHistogram(),
    outboxHist: newHistogram(),
    startedAt: 1,
    endedAt: 2,
  };

  it('names the sends left without an answer when no other error was seen', () => {
    expect(ranReply({ ...base, ackTimeouts: 2, firstError: undefined }).firstError).toBe(
      '2 still in the outbox 500 ms after the end',
    );
  });

  it('keeps the first error seen, and says nothing when there was none', () => {
    expect(ranReply({ ...base, ackTimeouts: 2, firstError: 'BANNED' }).firstError).toBe('BANNED');
    expect(ranReply({ ...base, ackTimeouts: 0, firstError: 'BANNED' }).firstError).toBe('BANNED');
    expect(ranReply({ ...base, ackTimeouts: 0, firstError: undefined })).not.toHaveProperty(
      'firstError',
    );
  });
});
