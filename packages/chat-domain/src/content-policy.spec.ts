import {
  CONTENT_POLICY_DEFAULTS,
  judgeContent,
  scanContent,
  type ContentPolicySettings,
} from './content-policy.js';

describe('scanContent', () => {
  it('maps what it found in the normalized text back to the original characters', () => {
    const text = 'call me: s\u200Bix uno 2345678 please';
    const [phone] = scanContent(text).findings;
    expect(phone?.kind).toBe('phone');
    expect(text.slice(phone!.start, phone!.end)).toBe('s\u200Bix uno 2345678');
  });

  it('names shorteners as such and passes allow-listed domains', () => {
    expect(scanContent('see bit . ly/3xYz').findings).toEqual([
      expect.objectContaining({ kind: 'shortener', host: 'bit.ly' }),
    ]);
    expect(
      scanContent('apply on https://careers.jobsphere.com/x', ['jobsphere.com']).findings,
    ).toEqual([]);
    expect(
      scanContent('apply on https://jobsphere.com.evil.xyz/x', ['jobsphere.com']).findings,
    ).toEqual([expect.objectContaining({ kind: 'link', host: 'jobsphere.com.evil.xyz' })]);
  });

  it('reads international numbers with libphonenumber-js and leaves impossible ones', () => {
    expect(scanContent('ring +44 20 7946 0958').findings[0]?.kind).toBe('phone');
    expect(scanContent('the score was +1 2').findings).toEqual([]);
  });

  it('names each scam signal', () => {
    expect(
      scanContent(
        'Continue on Telegram. Pay the onboarding fee in Bitcoin or with Apple gift cards, and send your bank details',
      ).scam,
    ).toEqual(['off-platform', 'fee', 'gift-card', 'crypto', 'bank-details']);
    expect(scanContent('That is a strong signal that the team liked you').scam).toEqual([]);
  });
});

describe('judgeContent', () => {
  const body =
    'Hi! Mail me at anna(at)gmail(dot)com or see bit.ly/x — the onboarding fee is 50 USD';

  it('masks contact details and off-list links for the recipient of a request, and warns', () => {
    const verdict = judgeContent(body, 'request', CONTENT_POLICY_DEFAULTS);
    expect(verdict.masked).toEqual({
      body: 'Hi! Mail me at [contact details hidden] or see [link hidden] — the onboarding fee is 50 USD',
      notices: ['contact-hidden', 'link-hidden'],
    });
    expect(verdict.warning).toEqual(['fee']);
    expect(verdict.reject).toBeUndefined();
  });

  it('lets them pass once the conversation is accepted, still warning of the scam signal', () => {
    expect(judgeContent(body, 'accepted', CONTENT_POLICY_DEFAULTS)).toEqual({ warning: ['fee'] });
  });

  it('rejects when a setting says so, naming the reason', () => {
    const strict: ContentPolicySettings = {
      ...CONTENT_POLICY_DEFAULTS,
      request: { contacts: 'reject', links: 'mask', scam: 'warn' },
    };
    expect(judgeContent(body, 'request', strict)).toEqual({ reject: 'contact-details' });
    expect(judgeContent('Hello, when can we talk?', 'request', strict)).toEqual({});
  });
});
