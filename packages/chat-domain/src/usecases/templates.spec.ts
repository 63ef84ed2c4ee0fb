import {
  LIMITS,
  TEMPLATE_LIMITS,
  createChat,
  createPlatform,
  type Chat,
  type ChatStore,
  type Platform,
  type Principal,
} from '../index.js';
import { FakeClock, RecordingFanOut, ScriptedHook } from '../testing/doubles.js';
import { MemoryChatStore } from '../memory/memory.store.js';
import { fillTemplate, parseConversationVariables, templateVariables } from '../templates.js';

const rita: Principal = { userId: 'rita', role: 'recruiter', companyId: 'acme' };
const rob: Principal = { userId: 'rob', role: 'recruiter', companyId: 'acme' };
const olga: Principal = { userId: 'olga', role: 'recruiter', companyId: 'globex' };
const carl: Principal = { userId: 'carl', role: 'candidate' };

describe('the template filler', () => {
  it('fills in one pass: a value is inserted literally, never expanded again', () => {
    const values = new Map([
      ['candidate.firstName', '{{job.title}} $& $1 $$'],
      ['job.title', 'Welder'],
    ]);
    expect(fillTemplate('Hi {{ candidate.firstName }}, {{job.title}}!', values)).toBe(
      'Hi {{job.title}} $& $1 $$, Welder!',
    );
  });

  it('refuses unknown variables, stray braces and names like __proto__ when written', () => {
    for (const body of [
      'Hi {{name}}',
      'Hi {{__proto__}}',
      'Hi {{candidate.__proto__}}',
      'Hi {{constructor}}',
      'Hi {{ candidate.first-name }}',
      'Hi {{#candidate}}x{{/candidate}}',
      'Hi {{{candidate.firstName}}}',
      'Hi {{candidate.firstName}',
      'Hi }} there',
    ])
      expect(() => templateVariables(body)).toThrow(/unknown variable|"\{\{" or "\}\}"/);
    expect(
      templateVariables('{{candidate.constructor}} {{job.title}} {{candidate.constructor}}'),
    ).toEqual(['candidate.constructor', 'job.title']);
  });

  it('a name like candidate.constructor or toString is a name, not a property of an object', () => {
    expect(() => fillTemplate('Hi {{candidate.constructor}}', new Map())).toThrow(
      'the conversation has no value for {{candidate.constructor}}',
    );
    expect(() => fillTemplate('Hi {{candidate.toString}}', new Map())).toThrow(/no value/);
  });
});

describe('message templates (memory store)', () => {
  let store: ChatStore;
  let fanout: RecordingFanOut;
  let hook: ScriptedHook;
  let chat: Chat;
  let platform: Platform;
  let conversationId: string;
  const messages = async () =>
    (await store.messages.page(conversationId, { limit: 100 })).map((m) => [m.senderId, m.body]);

  beforeEach(async () => {
    store = new MemoryChatStore();
    fanout = new RecordingFanOut();
    hook = new ScriptedHook(() => ({ verdict: 'allow' }));
    const deps = { store, fanout, clock: new FakeClock(), presend: hook };
    chat = createChat(deps);
    platform = createPlatform(deps);
    const opened = await platform.open(
      { service: 'ats', scopes: ['conversations:write'] },
      { idempotencyKey: 'a1', kind: 'direct', memberIds: ['rita', 'carl'] },
    );
    conversationId = opened.conversation.id;
    await platform.setConversationVariables(conversationId, {
      'candidate.firstName': 'Carl',
      'job.title': 'Welder',
    });
  });

  const invite = () =>
    chat.createTemplate(rita, {
      name: 'Invite',
      body: 'Hello {{candidate.firstName}}, are you still interested in {{job.title}}?',
    });

  it('a recruiter sends their template filled server-side, as an ordinary message, once per clientMessageId', async () => {
    const t = await invite();
    expect(t).toMatchObject({ scope: 'own', variables: ['candidate.firstName', 'job.title'] });
    const sent = await chat.sendTemplate(rita, t.id, { conversationId, clientMessageId: 'k1' });
    expect(sent).toMatchObject({
      duplicate: false,
      message: { body: 'Hello Carl, are you still interested in Welder?', senderId: 'rita' },
    });
    const again = await chat.sendTemplate(rita, t.id, { conversationId, clientMessageId: 'k1' });
    expect(again).toMatchObject({ duplicate: true, message: { id: sent.message.id } });
    expect(await messages()).toEqual([['rita', 'Hello Carl, are you still interested in Welder?']]);
    expect(fanout.of('message:new')).toHaveLength(1);
    // The filled text went through the platform's pre-send hook like any send.
    expect(new Set(hook.asked.map((d) => d.body))).toEqual(
      new Set(['Hello Carl, are you still interested in Welder?']),
    );
  });

  it('a retry of a stored send answers the stored message though the template or a value went since', async () => {
    const t = await invite();
    const sent = await chat.sendTemplate(rita, t.id, { conversationId, clientMessageId: 'k1' });
    // The answer was lost; meanwhile the platform replaced the values and the recruiter
    // deleted the template. The device retries with the same clientMessageId.
    await platform.setConversationVariables(conversationId, {});
    const valuesGone = await chat.sendTemplate(rita, t.id, {
      conversationId,
      clientMessageId: 'k1',
    });
    expect(valuesGone).toMatchObject({ duplicate: true, message: { id: sent.message.id } });
    await chat.deleteTemplate(rita, t.id);
    const templateGone = await chat.sendTemplate(rita, t.id, {
      conversationId,
      clientMessageId: 'k1',
    });
    expect(templateGone).toMatchObject({
      duplicate: true,
      message: { id: sent.message.id, body: 'Hello Carl, are you still interested in Welder?' },
    });
    expect(await messages()).toHaveLength(1);
    expect(fanout.of('message:new')).toHaveLength(1);
    // A new send of the deleted template is still refused, and another person's key is theirs.
    await expect(
      chat.sendTemplate(rita, t.id, { conversationId, clientMessageId: 'k2' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      chat.sendTemplate(carl, t.id, { conversationId, clientMessageId: 'k1' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a missing variable is refused naming it, and nothing is stored', async () => {
    const t = await chat.createTemplate(rita, {
      name: 'Needs more',
      body: '{{candidate.firstName}}: {{job.location}} and {{recruiter.firstName}}',
    });
    await expect(
      chat.sendTemplate(rita, t.id, { conversationId, clientMessageId: 'k1' }),
    ).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: 'the conversation has no value for {{job.location}}, {{recruiter.firstName}}',
      issues: [
        { path: 'variables.job.location', message: 'missing' },
        { path: 'variables.recruiter.firstName', message: 'missing' },
      ],
    });
    expect(await messages()).toEqual([]);
    expect(hook.asked).toEqual([]);
  });

  it('template syntax inside a value stays text; a huge filled text is refused by the body cap', async () => {
    const t = await invite();
    await platform.setConversationVariables(conversationId, {
      'candidate.firstName': '{{job.title}}',
      'job.title': '{{candidate.firstName}}',
    });
    const sent = await chat.sendTemplate(rita, t.id, { conversationId, clientMessageId: 'k1' });
    expect(sent.message.body).toBe(
      'Hello {{job.title}}, are you still interested in {{candidate.firstName}}?',
    );
    // Twenty variables of the largest value: within every cap alone, over the body cap together.
    const names = Array.from(
      { length: TEMPLATE_LIMITS.maxVariablesPerTemplate },
      (_, i) => `job.v${i}`,
    );
    const big = await chat.createTemplate(rita, {
      name: 'Big',
      body: names.map((n) => `{{${n}}}`).join(' '),
    });
    await platform.setConversationVariables(
      conversationId,
      Object.fromEntries(names.map((n) => [n, 'x'.repeat(TEMPLATE_LIMITS.maxValueLength)])),
    );
    await expect(
      chat.sendTemplate(rita, big.id, { conversationId, clientMessageId: 'k2' }),
    ).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringContaining(`at most ${LIMITS.maxBodyLength} characters`),
    });
    expect(await messages()).toHaveLength(1);
  });

  it('the filled message goes through the ordinary send decision: a block refuses it, the hook may reject it', async () => {
    const t = await invite();
    hook.answer = () => ({ verdict: 'reject', reason: 'no-invites' });
    await expect(
      chat.sendTemplate(rita, t.id, { conversationId, clientMessageId: 'k1' }),
    ).rejects.toMatchObject({ code: 'CONTENT_REJECTED' });
    hook.answer = () => ({ verdict: 'allow' });
    await chat.block(carl, 'rita');
    await expect(
      chat.sendTemplate(rita, t.id, { conversationId, clientMessageId: 'k2' }),
    ).rejects.toMatchObject({ code: 'BLOCKED' });
    expect(await messages()).toEqual([]);
  });

  it('a recruiter uses their own and their company’s templates, never another recruiter’s or company’s', async () => {
    const own = await invite();
    const acme = await platform.createCompanyTemplate('acme', {
      name: 'Acme welcome',
      body: 'Welcome to Acme, {{candidate.firstName}}',
    });
    const globex = await platform.createCompanyTemplate('globex', {
      name: 'Globex welcome',
      body: 'Welcome to Globex, {{candidate.firstName}}',
    });
    expect((await chat.listTemplates(rita)).templates.map((t) => [t.name, t.scope])).toEqual([
      ['Acme welcome', 'company'],
      ['Invite', 'own'],
    ]);
    expect((await chat.listTemplates(rob)).templates.map((t) => t.name)).toEqual(['Acme welcome']);
    expect((await chat.listTemplates(olga)).templates.map((t) => t.name)).toEqual([
      'Globex welcome',
    ]);
    const sent = await chat.sendTemplate(rita, acme.id, { conversationId, clientMessageId: 'k1' });
    expect(sent.message.body).toBe('Welcome to Acme, Carl');
    await expect(
      chat.sendTemplate(rita, globex.id, { conversationId, clientMessageId: 'k2' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Rob is of Acme but the template is Rita's: not his (and he is not even told it exists).
    await expect(chat.previewTemplate(rob, own.id, conversationId)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // A recruiter cannot change the company's templates, nor another's.
    await expect(chat.updateTemplate(rita, acme.id, { name: 'Mine' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(chat.deleteTemplate(rob, own.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Without a company in the token, only one's own.
    const alone: Principal = { userId: 'rita', role: 'recruiter' };
    expect((await chat.listTemplates(alone)).templates.map((t) => t.name)).toEqual(['Invite']);
  });

  it('a candidate cannot keep or use templates', async () => {
    const t = await invite();
    await expect(chat.listTemplates(carl)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(chat.createTemplate(carl, { name: 'x', body: 'y' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      chat.sendTemplate(carl, t.id, { conversationId, clientMessageId: 'k1' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await messages()).toEqual([]);
  });

  it('a template is for conversations one is a member of', async () => {
    const t = await invite();
    await expect(
      chat.sendTemplate(rob, t.id, { conversationId, clientMessageId: 'k1' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const shared = await platform.createCompanyTemplate('acme', { name: 'Hi', body: 'Hi' });
    await expect(
      chat.sendTemplate(rob, shared.id, { conversationId, clientMessageId: 'k1' }),
    ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
  });

  it('duplicate names conflict, caps refuse with TEMPLATE_QUOTA_EXCEEDED, and a refusal stores nothing', async () => {
    await invite();
    await expect(chat.createTemplate(rita, { name: 'INVITE', body: 'x' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(
      chat.createTemplate(rita, { name: 'Bad', body: 'Hi {{candidate.name}} {{foo}}' }),
    ).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringContaining('{{foo}}'),
    });
    for (let i = 1; i < TEMPLATE_LIMITS.maxPerRecruiter; i++)
      await chat.createTemplate(rita, { name: `T${i}`, body: 'x' });
    await expect(chat.createTemplate(rita, { name: 'Over', body: 'x' })).rejects.toMatchObject({
      code: 'TEMPLATE_QUOTA_EXCEEDED',
    });
    // Rob's own cap is his.
    await chat.createTemplate(rob, { name: 'Invite', body: 'x' });
    expect((await chat.listTemplates(rita)).templates).toHaveLength(
      TEMPLATE_LIMITS.maxPerRecruiter,
    );
  });

  it('schedules a template filled now; it goes through the ordinary send later', async () => {
    const t = await invite();
    const clock = new FakeClock();
    const deps = { store, fanout, clock };
    const timed = createChat(deps);
    const s = await timed.scheduleTemplate(rita, t.id, {
      conversationId,
      sendAt: new Date(clock.ms + 60_000).toISOString(),
      followUp: false,
    });
    expect(s).toMatchObject({
      state: 'pending',
      body: 'Hello Carl, are you still interested in Welder?',
    });
    clock.advance(60_000);
    expect(await timed.runDueScheduled('w', 30_000)).toBe(true);
    expect(await messages()).toEqual([['rita', 'Hello Carl, are you still interested in Welder?']]);
  });

  it('erasing a recruiter deletes their templates, not their company’s', async () => {
    await invite();
    await platform.createCompanyTemplate('acme', { name: 'Acme', body: 'Hi' });
    const erased = await platform.eraseUser({ service: 'ats', scopes: ['users:erase'] }, 'rita');
    expect(erased.complete).toBe(true);
    expect((await chat.listTemplates(rita)).templates.map((t) => t.name)).toEqual(['Acme']);
  });

  it('conversation values: only for an existing conversation, replaced whole', async () => {
    await expect(
      platform.setConversationVariables('nope', { 'job.title': 'x' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await platform.setConversationVariables(conversationId, { 'job.title': 'Painter' });
    expect(await platform.conversationVariables(conversationId)).toEqual({
      variables: { 'job.title': 'Painter' },
    });
  });
});

describe('the platform’s values', () => {
  it('refuses a __proto__ key by name instead of dropping it', () => {
    expect(() =>
      parseConversationVariables(JSON.parse('{"variables":{"__proto__":"x","job.title":"y"}}')),
    ).toThrow('invalid variable name "__proto__"');
    expect(() => parseConversationVariables({ variables: { constructor: 'x' } })).toThrow(
      'invalid variable name "constructor"',
    );
    const parsed = parseConversationVariables({ variables: { 'candidate.constructor': 'x' } });
    expect(Object.entries(parsed)).toEqual([['candidate.constructor', 'x']]);
  });
});
