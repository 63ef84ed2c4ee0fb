import fc from 'fast-check';
import type { MessageDto } from './protocol.js';
import { Timeline, VersionCursor } from './timeline.js';

const message = (seq: number, version = seq, body = `m${seq}`): MessageDto => ({
  id: `id${seq}`,
  conversationId: 'c1',
  seq,
  version,
  senderId: seq % 2 ? 'ana' : 'ravi',
  clientMessageId: `cm${seq}`,
  kind: 'user',
  body,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
});

describe('Timeline', () => {
  it('keeps messages by seq, each id once, whatever order they come in', () => {
    const t = new Timeline(100);
    t.merge([message(3), message(1)]);
    t.merge([message(2), message(3), message(1)]);
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('replaces a message by id when a newer version of it arrives, and only then', () => {
    const t = new Timeline(100);
    t.merge([message(1), message(2)]);
    const edited = { ...message(1, 7, 'edited'), editedAt: 'x' };
    expect(t.merge([edited])).toEqual({ added: [], updated: [edited] });
    expect(t.merge([message(1, 1, 'stale copy')])).toEqual({ added: [], updated: [] });
    expect(t.messages.map((m) => m.body)).toEqual(['edited', 'm2']);
  });

  it('hands out a new array on change and the same one when nothing changed', () => {
    const t = new Timeline(100);
    t.merge([message(1)]);
    const before = t.messages;
    t.merge([message(1)]);
    expect(t.messages).toBe(before);
    t.merge([message(2)]);
    expect(t.messages).not.toBe(before);
    expect(before.map((m) => m.seq)).toEqual([1]);
  });

  it('holds at most its cap, dropping the oldest', () => {
    const t = new Timeline(3);
    t.merge(Array.from({ length: 10 }, (_, i) => message(i + 1)));
    expect(t.messages.map((m) => m.seq)).toEqual([8, 9, 10]);
    expect(t.trimmed).toBe(true);
    expect(t.get('id1')).toBeUndefined();
  });

  it('property: any interleaving of copies, duplicates and versions ends as the newest state of each id, once, in seq order', () => {
    const arb = fc
      .uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 40 })
      .chain((seqs) =>
        fc.tuple(
          fc.constant(seqs),
          // Each message may have several states (edits); any of them may travel, several times.
          fc.array(fc.tuple(fc.constantFrom(...seqs), fc.integer({ min: 0, max: 3 })), {
            minLength: seqs.length,
            maxLength: 150,
          }),
          fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 20 }),
        ),
      );
    fc.assert(
      fc.property(arb, ([seqs, copies, batchSizes]) => {
        const stateOf = (seq: number, edit: number) =>
          message(seq, seq * 10 + edit, `m${seq}v${edit}`);
        // Every message travels at least once in its first state.
        const traffic = [
          ...seqs.map((s) => stateOf(s, 0)),
          ...copies.map(([s, e]) => stateOf(s, e)),
        ];
        fc.pre(traffic.length > 0);
        const t = new Timeline(1_000);
        for (let i = 0, b = 0; i < traffic.length; b++) {
          const size = batchSizes[b % batchSizes.length]!;
          t.merge(traffic.slice(i, i + size));
          i += size;
        }
        const newest = new Map<number, number>();
        for (const m of traffic) newest.set(m.seq, Math.max(newest.get(m.seq) ?? -1, m.version));
        const expected = [...newest.keys()].sort((a, b) => a - b);
        expect(t.messages.map((m) => m.seq)).toEqual(expected);
        expect(t.messages.map((m) => m.version)).toEqual(expected.map((s) => newest.get(s)));
        expect(new Set(t.messages.map((m) => m.id)).size).toBe(t.messages.length);
      }),
    );
  });
});

describe('VersionCursor', () => {
  it('moves on contiguous changes and reports a gap for a jump', () => {
    const c = new VersionCursor(4);
    expect(c.observe(5)).toBe(false);
    expect(c.value).toBe(5);
    expect(c.observe(7)).toBe(true);
    expect(c.value).toBe(5);
    expect(c.observe(6)).toBe(false);
    expect(c.value).toBe(7);
  });

  it('old and repeated changes do not move it', () => {
    const c = new VersionCursor(4);
    expect(c.observe(3)).toBe(false);
    expect(c.observe(4)).toBe(false);
    expect(c.value).toBe(4);
  });

  it('a sync answer closes the gap, including a burned version', () => {
    const c = new VersionCursor(4);
    c.observe(6); // 5 was burned: never sent
    expect(c.hasGap).toBe(true);
    c.advanceTo(6);
    expect(c.hasGap).toBe(false);
    expect(c.value).toBe(6);
  });

  it('never moves back on an older sync answer', () => {
    const c = new VersionCursor(10);
    c.advanceTo(8);
    expect(c.value).toBe(10);
  });

  it('a flood of far-away versions is bounded and still a gap', () => {
    const c = new VersionCursor(0, 10);
    for (let v = 2; v < 100_000; v += 2) c.observe(v);
    expect(c.hasGap).toBe(true);
    c.advanceTo(200_000);
    expect(c.hasGap).toBe(false);
  });

  it('property: whatever live changes are lost or reordered, the cursor never passes a missing one, and one sync to the server version closes every gap', () => {
    const arb = fc
      .integer({ min: 1, max: 80 })
      .chain((server) =>
        fc.tuple(
          fc.constant(server),
          fc.shuffledSubarray(Array.from({ length: server }, (_, i) => i + 1)),
        ),
      );
    fc.assert(
      fc.property(arb, ([server, delivered]) => {
        const c = new VersionCursor(0);
        const seen = new Set<number>();
        for (const v of delivered) {
          c.observe(v);
          seen.add(v);
          for (let x = 1; x <= c.value; x++) expect(seen.has(x)).toBe(true);
        }
        // All of them, in any order: caught up without a sync.
        if (delivered.length === server) expect([c.value, c.hasGap]).toEqual([server, false]);
        c.advanceTo(server);
        expect([c.value, c.hasGap]).toEqual([server, false]);
      }),
    );
  });
});
