import { waitUntil } from '@jobsphere/testing';
import { UnavailableError, type PreSendDraft, type PreSendVerdict } from '@jobsphere/chat-domain';
import { type PreSendHookConfig } from '../src/config/safety-config.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { PreSendHookClient } from '../src/safety/presend-hook.client.js';
import { PreSendVerdicts } from '../src/safety/presend-verdicts.service.js';
import { PRESEND_SECRET, PresendPlatform } from './support/presend-platform.js';

// The pre-send hook client against a real HTTP server on loopback: each fault, what the failure
// policy makes of it, and the counts an operator reads.
describe('pre-send hook client (real HTTP on loopback)', () => {
  let platform: PresendPlatform;
  let url: string;
  let metrics: MetricsService;
  let n = 0;

  beforeEach(async () => {
    platform = new PresendPlatform();
    url = await platform.start();
    metrics = new MetricsService();
  });
  afterEach(() => platform.stop());

  const client = (over: Partial<PreSendHookConfig> = {}) =>
    new PreSendHookClient(
      {
        url,
        secret: PRESEND_SECRET,
        // Far from any answer a loaded machine gives (a first fetch was once past 800 ms and
        // counted as a fault); the deadline cases set their own.
        timeoutMs: 10_000,
        concurrency: 8,
        failure: 'open',
        breakerFailures: 1_000,
        breakerResetMs: 60_000,
        verdictTtlMs: 60_000,
        ...over,
      },
      new PreSendVerdicts(),
      metrics,
    );
  const draft = (body = 'hello', over: Partial<PreSendDraft> = {}): PreSendDraft => ({
    action: 'send',
    conversationId: 'c1',
    senderId: 'alice',
    clientMessageId: `m-${++n}`,
    body,
    ...over,
  });
  const faults = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await metrics.presendHookFaults.get()).values.map((v) => [
        `${v.labels.fault}/${v.labels.applied}`,
        v.value,
      ]),
    );
  const outcomes = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await metrics.presendHook.get()).values.map((v) => [String(v.labels.outcome), v.value]),
    );

  it('posts the draft signed per Standard Webhooks and returns each kind of verdict', async () => {
    const hook = client();
    const verdicts: PreSendVerdict[] = [
      { verdict: 'allow' },
      { verdict: 'reject', reason: 'fee-request' },
      { verdict: 'replace', body: 'kinder words' },
      { verdict: 'flag', reason: 'manual-review' },
    ];
    for (const verdict of verdicts) {
      platform.answer = () => ({ kind: 'json', body: verdict });
      expect(await hook.check(draft('text'))).toEqual(verdict);
    }
    expect(platform.badSignatures).toBe(0);
    expect(platform.drafts[0]).toMatchObject({ action: 'send', senderId: 'alice', body: 'text' });
    expect(await outcomes()).toEqual({ allow: 1, reject: 1, replace: 1, flag: 1 });
  });

  it('a retry of the same send gets the same verdict without a second call; an edit is asked per text', async () => {
    const hook = client();
    platform.answer = () => ({ kind: 'json', body: { verdict: 'reject', reason: 'no' } });
    const first = draft('x');
    expect(await hook.check(first)).toEqual({ verdict: 'reject', reason: 'no' });
    platform.answer = () => ({ kind: 'json', body: { verdict: 'allow' } });
    expect(await hook.check({ ...first })).toEqual({ verdict: 'reject', reason: 'no' });
    expect(platform.calls).toBe(1);
    const edit = {
      action: 'edit' as const,
      conversationId: 'c1',
      senderId: 'alice',
      messageId: 'm9',
    };
    await hook.check({ ...edit, body: 'one' });
    await hook.check({ ...edit, body: 'one' });
    await hook.check({ ...edit, body: 'two' });
    expect(platform.calls).toBe(3);
    expect((await outcomes()).kept).toBe(2);
  });

  it('slow past the deadline: open allows, closed answers UNAVAILABLE; both counted', async () => {
    platform.answer = () => ({ kind: 'hold' });
    expect(await client({ timeoutMs: 100 }).check(draft())).toEqual({ verdict: 'allow' });
    await expect(
      client({ timeoutMs: 100, failure: 'closed' }).check(draft()),
    ).rejects.toBeInstanceOf(UnavailableError);
    expect(await faults()).toEqual({ 'timeout/open': 1, 'timeout/closed': 1 });
  });

  it('an error status or a garbage answer applies the failure policy, counted per fault', async () => {
    const open = client();
    const closed = client({ failure: 'closed' });
    const answers = [
      { kind: 'text', status: 500, body: 'oops' },
      { kind: 'text', body: 'not json' },
      { kind: 'json', body: { verdict: 'maybe' } },
      { kind: 'json', body: { verdict: 'replace', body: '\u0000' } },
      { kind: 'json', body: { verdict: 'reject', reason: 'has spaces in it' } },
    ] as const;
    for (const answer of answers) {
      platform.answer = () => answer;
      expect(await open.check(draft())).toEqual({ verdict: 'allow' });
      await expect(closed.check(draft())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    }
    expect(await faults()).toEqual({
      'error/open': 1,
      'error/closed': 1,
      'garbage/open': 4,
      'garbage/closed': 4,
    });
  });

  it('a failed-closed send asks again on retry; a failed-open one keeps its allow', async () => {
    platform.answer = () => ({ kind: 'text', status: 503, body: '' });
    const closedDraft = draft();
    await expect(client({ failure: 'closed' }).check(closedDraft)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    const openHook = client();
    const openDraft = draft();
    await openHook.check(openDraft);
    platform.answer = () => ({ kind: 'json', body: { verdict: 'reject', reason: 'late' } });
    expect(await client({ failure: 'closed' }).check(closedDraft)).toEqual({
      verdict: 'reject',
      reason: 'late',
    });
    // The send that went through open may be stored: its retry must not be refused now.
    expect(await openHook.check(openDraft)).toEqual({ verdict: 'allow' });
  });

  it('a flood while the platform is slow: at most `concurrency` calls in flight, the rest answered at once', async () => {
    platform.answer = () => ({ kind: 'hold' });
    const hook = client({ concurrency: 4, timeoutMs: 10_000 });
    let settled = 0;
    const checks = Array.from({ length: 200 }, () => hook.check(draft()).finally(() => settled++));
    // Beyond the bulkhead nothing waits: 196 answered while the platform still holds 4.
    await waitUntil(
      'the excess answered, four held',
      () => settled === 196 && platform.inFlight === 4,
      5_000,
    );
    expect(settled).toBe(196);
    expect(platform.maxInFlight).toBe(4);
    platform.release();
    const verdicts = await Promise.all(checks);
    expect(verdicts.every((v) => v.verdict === 'allow')).toBe(true);
    expect(platform.calls).toBe(4);
    expect(await faults()).toEqual({ 'saturated/open': 196 });
  });

  it('consecutive failures open the circuit: no calls until a probe after the reset succeeds', async () => {
    platform.answer = () => ({ kind: 'text', status: 500, body: '' });
    const hook = client({ breakerFailures: 3, breakerResetMs: 200, failure: 'closed' });
    for (let i = 0; i < 3; i++) await expect(hook.check(draft())).rejects.toThrow();
    for (let i = 0; i < 5; i++) await expect(hook.check(draft())).rejects.toThrow();
    expect(platform.calls).toBe(3);
    expect((await faults())['circuit-open/closed']).toBe(5);
    platform.answer = () => ({ kind: 'json', body: { verdict: 'allow' } });
    // After the reset one probe goes through; once it succeeds the circuit is closed again.
    await waitUntil(
      'the half-open probe',
      async () => (await hook.check(draft()).catch(() => undefined))?.verdict === 'allow',
      5_000,
    );
    const before = platform.calls;
    await hook.check(draft());
    expect(platform.calls).toBe(before + 1);
  });
});
