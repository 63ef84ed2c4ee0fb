// The content policy's cost per message (issue 25): every corpus message scanned and judged as
// the send path does, many rounds, timed one message at a time. A measurement, not a test:
// `pnpm --filter @jobsphere/bench content-policy` after `pnpm build`.
import { performance } from 'node:perf_hooks';
import { CONTENT_POLICY_DEFAULTS, judgeContent, scanContent } from '@jobsphere/chat-domain';
import { EVASIONS, ORDINARY } from '@jobsphere/chat-domain/corpus';

const ROUNDS = Number(process.env['ROUNDS'] ?? 20);
const LONGEST = 'Hello, '.repeat(571).slice(0, 3_990) + ' 0612345678';

function measure(name: string, messages: readonly string[]): void {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const body of messages) {
      const started = performance.now();
      const scan = scanContent(body, ['jobsphere.com']);
      if (scan.findings.length > 0 || scan.scam.length > 0)
        judgeContent(body, 'request', CONTENT_POLICY_DEFAULTS, scan);
      times.push(performance.now() - started);
    }
  }
  // The first round warms the JIT up and is not counted.
  const counted = times.slice(messages.length).sort((a, b) => a - b);
  const at = (q: number) => counted[Math.min(counted.length - 1, Math.floor(q * counted.length))]!;
  const mean = counted.reduce((s, t) => s + t, 0) / counted.length;
  const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  process.stdout.write(
    `${name.padEnd(28)} ${String(messages.length).padStart(4)} msgs x ${ROUNDS - 1} rounds: ` +
      `mean ${us(mean)}, p50 ${us(at(0.5))}, p99 ${us(at(0.99))}, max ${us(counted.at(-1)!)}\n`,
  );
}

measure('ordinary messages', [...new Set(ORDINARY)]);
measure('obfuscated contacts/links', [...new Set(EVASIONS)]);
measure('4000-character message', [LONGEST]);
