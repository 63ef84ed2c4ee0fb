import { expect } from '@jest/globals';
import { type AppendResult, type ChatStore, type Conversation } from '../index.js';
import { type RegisterCase } from './contract-options.js';

/**
 * Moderation's store operations (issue 25), run inside the platform contract on its store:
 * restrictions, flags (idempotent, filtered, paged), slow mode, the audit log, and a
 * shadow-banned sender's append and edit (stored and synced, never the preview).
 */
export function registerModerationCases(
  test: RegisterCase,
  store: () => ChatStore,
  group: (ids: string[]) => Promise<Conversation>,
  send: (conversationId: string, senderId: string, key: string) => Promise<AppendResult>,
) {
  const at = (ms: number) => new Date(Date.UTC(2026, 1, 1) + ms);

  test('moderation: a restriction is set, replaced and lifted; each call answers the one before', async () => {
    const m = store().moderation;
    expect(await m.restriction('mod-u1')).toBeNull();
    const ban = { userId: 'mod-u1', kind: 'banned' as const, reason: 'fees', by: 'adm', at: at(1) };
    expect(await m.restrict('mod-u1', ban)).toBeNull();
    expect(await m.restriction('mod-u1')).toEqual(ban);
    const shadow = { ...ban, kind: 'shadow-banned' as const, at: at(2) };
    expect(await m.restrict('mod-u1', shadow)).toEqual(ban);
    expect(await m.restriction('mod-u1')).toEqual(shadow);
    expect(await m.restrict('mod-u1', null)).toEqual(shadow);
    expect(await m.restriction('mod-u1')).toBeNull();
    expect(await m.restriction('mod-u2')).toBeNull();
  });

  test('moderation: flags are kept once per id, listed newest first, filtered by source, state, user and conversation, and paged', async () => {
    const m = store().moderation;
    const flag = (
      id: string,
      source: 'report' | 'policy' | 'hook',
      ms: number,
      userId = 'fl-a',
    ) => ({
      id,
      source,
      reason: `${source}.reason`,
      at: at(ms),
      userId,
      conversationId: userId === 'fl-a' ? 'c-fl-1' : 'c-fl-2',
      messageId: `m-${id}`,
    });
    const first = await m.flag({ ...flag('policy:f1', 'policy', 10), detail: 'phone number' });
    expect(first).toMatchObject({ id: 'policy:f1', state: 'open', detail: 'phone number' });
    // Raised again (a retried step): one flag, as it was.
    expect(await m.flag({ ...flag('policy:f1', 'policy', 99), reason: 'other' })).toEqual(first);
    await m.flag(flag('hook:f2', 'hook', 20));
    await m.flag(flag('report:f3', 'report', 30, 'fl-b'));
    await m.flag(flag('hook:f4', 'hook', 40, 'fl-b'));
    const ids = async (q: Parameters<typeof m.listFlags>[0]) =>
      (await m.listFlags(q)).flags.map((f) => f.id);
    expect(await ids({ limit: 10, userId: 'fl-a' })).toEqual(['hook:f2', 'policy:f1']);
    expect(await ids({ limit: 10, source: 'hook' })).toEqual(
      expect.arrayContaining(['hook:f4', 'hook:f2']),
    );
    expect((await ids({ limit: 10, source: 'hook' })).indexOf('hook:f4')).toBeLessThan(
      (await ids({ limit: 10, source: 'hook' })).indexOf('hook:f2'),
    );
    expect(await ids({ limit: 10, conversationId: 'c-fl-2' })).toEqual(['hook:f4', 'report:f3']);
    // Paged: every flag once, in order, the cursor moving on.
    const one = await m.listFlags({ limit: 1, conversationId: 'c-fl-2' });
    expect(one.flags.map((f) => f.id)).toEqual(['hook:f4']);
    expect(one.nextCursor).toBeDefined();
    const two = await m.listFlags({ limit: 1, conversationId: 'c-fl-2', cursor: one.nextCursor! });
    expect(two.flags.map((f) => f.id)).toEqual(['report:f3']);
    expect(two.nextCursor).toBeUndefined();
    // open -> dismissed -> actioned; actioned is final; an unknown flag is null.
    expect(await m.resolveFlag('hook:f2', 'dismissed')).toMatchObject({ state: 'dismissed' });
    expect(await ids({ limit: 10, userId: 'fl-a', state: 'open' })).toEqual(['policy:f1']);
    expect(await m.resolveFlag('hook:f2', 'actioned')).toMatchObject({ state: 'actioned' });
    expect(await m.resolveFlag('hook:f2', 'dismissed')).toBeNull();
    expect(await m.resolveFlag('nope:1', 'dismissed')).toBeNull();
    expect(await ids({ limit: 10, userId: 'fl-a', state: 'actioned' })).toEqual(['hook:f2']);
  });

  test('moderation: slow mode per conversation is set, changed and turned off', async () => {
    const m = store().moderation;
    expect(await m.slowMode('c-slow')).toBe(0);
    await m.setSlowMode('c-slow', 30);
    expect(await m.slowMode('c-slow')).toBe(30);
    await m.setSlowMode('c-slow', 5);
    expect(await m.slowMode('c-slow')).toBe(5);
    expect(await m.slowMode('c-other')).toBe(0);
    await m.setSlowMode('c-slow', 0);
    expect(await m.slowMode('c-slow')).toBe(0);
  });

  test('moderation: the audit log keeps every entry, newest first, by subject or actor, paged', async () => {
    const m = store().moderation;
    const a = await m.audit({
      actor: 'adm-1',
      action: 'user.banned',
      at: at(100),
      subjectUserId: 'au-x',
      reason: 'fees',
    });
    expect(a.id).toEqual(expect.any(String));
    await m.audit({ actor: 'adm-2', action: 'user.unbanned', at: at(200), subjectUserId: 'au-x' });
    await m.audit({
      actor: 'service:jobs',
      action: 'conversation.slow-mode',
      at: at(300),
      conversationId: 'c-au',
      slowModeSeconds: 10,
    });
    const about = await m.auditLog({ subjectUserId: 'au-x', limit: 10 });
    expect(about.entries.map((e) => e.action)).toEqual(['user.unbanned', 'user.banned']);
    expect(about.entries[1]).toEqual(a);
    const byService = await m.auditLog({ actor: 'service:jobs', limit: 10 });
    expect(byService.entries).toEqual([
      expect.objectContaining({ conversationId: 'c-au', slowModeSeconds: 10 }),
    ]);
    const first = await m.auditLog({ subjectUserId: 'au-x', limit: 1 });
    const rest = await m.auditLog({ subjectUserId: 'au-x', limit: 1, cursor: first.nextCursor! });
    expect([...first.entries, ...rest.entries].map((e) => e.action)).toEqual([
      'user.unbanned',
      'user.banned',
    ]);
    expect(rest.nextCursor).toBeUndefined();
  });

  test("moderation: a shadow-banned sender's message takes a seq and a version and syncs, but the preview and activity stay; a shadow edit leaves the preview too", async () => {
    const s = store();
    const c = await group(['sh-a', 'sh-b']);
    const visible = await send(c.id, 'sh-b', 'sh-1');
    const shadow = await s.messages.append({
      conversationId: c.id,
      senderId: 'sh-a',
      clientMessageId: 'sh-2',
      body: 'pay the fee on telegram',
      createdAt: new Date(visible.message.createdAt.getTime() + 1000),
      shadow: true,
    });
    expect(shadow.message).toMatchObject({ shadow: true, seq: visible.message.seq + 1 });
    expect(shadow.message.version).toBeGreaterThan(visible.message.version);
    const after = (await s.conversations.get(c.id))!;
    expect(after.lastMessage).toMatchObject({ id: visible.message.id });
    expect(after.lastActivityAt).toEqual(visible.message.createdAt);
    // The sender has read their own message; the sync of the conversation carries it.
    expect(after.members.find((m) => m.userId === 'sh-a')?.lastReadSeq).toBe(shadow.message.seq);
    const changes = await s.messages.changesSince(c.id, visible.message.version, 10);
    expect(changes.messages).toEqual([
      expect.objectContaining({ id: shadow.message.id, shadow: true }),
    ]);
    // A retry is the same message, still shadow.
    const again = await s.messages.append({
      conversationId: c.id,
      senderId: 'sh-a',
      clientMessageId: 'sh-2',
      body: 'pay the fee on telegram',
      createdAt: new Date(),
      shadow: true,
    });
    expect(again).toMatchObject({
      duplicate: true,
      message: { id: shadow.message.id, shadow: true },
    });
    // The newest visible message, edited while its sender is shadow-banned, keeps its preview.
    const own = await send(c.id, 'sh-a', 'sh-3');
    const edited = await s.messages.revise(
      c.id,
      own.message.id,
      { kind: 'edit', body: 'now on whatsapp', at: new Date(), shadow: true },
      { senderId: 'sh-a' },
    );
    expect(edited).toMatchObject({ shadow: true, body: 'now on whatsapp' });
    const previewed = (await s.conversations.get(c.id))!.lastMessage;
    expect(previewed).toMatchObject({ id: own.message.id, body: own.message.body });
  });
}
