import fc from 'fast-check';
import { CONTENT_POLICY_DEFAULTS, judgeContent, scanContent } from './content-policy.js';
import { LIMITS } from './rules.js';

// Property-based: any text a send may carry (up to the body limit, any Unicode, the characters
// evasions use) is scanned without a crash, its findings lie inside it, and masking only
// replaces what was found.
const pieces = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '@',
    ' at ',
    '(dot)',
    '[.]',
    ' dot ',
    '+',
    '\u200B',
    'ｏ',
    'о',
    'six',
    'uno',
    'http://',
    'www.',
    '.com',
    'bit.ly/',
    '0',
    '7',
    ' - ',
    '.',
  ),
  fc.stringMatching(/^[0-9 ()+.-]{1,20}$/),
);
const bodies = fc
  .array(pieces, { maxLength: 60 })
  .map((p) => p.join('').slice(0, LIMITS.maxBodyLength));

describe('content policy (fast-check)', () => {
  it('never throws, and finds only ranges inside the text', () => {
    fc.assert(
      fc.property(bodies, (body) => {
        const scan = scanContent(body, ['jobsphere.com']);
        for (const f of scan.findings) {
          expect(f.start).toBeGreaterThanOrEqual(0);
          expect(f.end).toBeLessThanOrEqual(body.length);
          expect(f.start).toBeLessThan(f.end);
        }
        for (const state of ['request', 'accepted'] as const) {
          const verdict = judgeContent(body, state, CONTENT_POLICY_DEFAULTS, scan);
          if (!verdict.masked) continue;
          // What is left around the masks is the original text, in order.
          let rest = verdict.masked.body;
          for (const marker of ['[contact details hidden]', '[link hidden]'])
            rest = rest.split(marker).join('\u0000');
          const kept = rest.split('\u0000');
          let at = 0;
          for (const part of kept) {
            const found = body.indexOf(part, at);
            expect(found).toBeGreaterThanOrEqual(0);
            at = found + part.length;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
