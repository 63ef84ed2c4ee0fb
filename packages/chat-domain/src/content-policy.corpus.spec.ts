import { EVASIONS, ORDINARY } from './testing/content-corpus.js';
import { scanContent } from './content-policy.js';

// The corpus figures the issue asks for: printed, and held to the goal (≥ 95 % of evasions
// found, ≤ 1 % of ordinary messages touched by any finding or scam signal).
describe('content policy corpus', () => {
  const evasions = [...new Set(EVASIONS)];
  const ordinary = [...new Set(ORDINARY)];

  it('has the size the issue asks for', () => {
    expect(evasions.length).toBeGreaterThanOrEqual(200);
    expect(ordinary.length).toBeGreaterThanOrEqual(500);
  });

  it('finds at least 95 % of obfuscated contact details and links', () => {
    const missed = evasions.filter((text) => scanContent(text).findings.length === 0);
    const rate = 1 - missed.length / evasions.length;
    process.stdout.write(
      `content policy: ${evasions.length - missed.length}/${evasions.length} evasions detected (${(rate * 100).toFixed(1)} %)\n` +
        missed.map((m) => `  missed: ${JSON.stringify(m)}\n`).join(''),
    );
    expect(rate).toBeGreaterThanOrEqual(0.95);
  });

  it('touches at most 1 % of ordinary candidate-recruiter messages', () => {
    const touched = ordinary.filter((text) => {
      const scan = scanContent(text);
      return scan.findings.length > 0 || scan.scam.length > 0;
    });
    const rate = touched.length / ordinary.length;
    process.stdout.write(
      `content policy: ${touched.length}/${ordinary.length} ordinary messages touched (${(rate * 100).toFixed(2)} %)\n` +
        touched
          .map((m) => `  touched: ${JSON.stringify(m)} ${JSON.stringify(scanContent(m))}\n`)
          .join(''),
    );
    expect(rate).toBeLessThanOrEqual(0.01);
  });
});
