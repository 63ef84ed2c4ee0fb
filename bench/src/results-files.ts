// RESULTS.md and results/latency.svg from a bench result (after a full run, or again from a
// saved one: `node dist/render.js [results/latest.json]`).
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFanoutResults, renderFanoutSection, withFanoutSection } from './fanout-report.js';
import { renderMarkdown, renderSvg, type BenchResult } from './report.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function writeReports(result: BenchResult, svgDir: string): void {
  writeFileSync(join(svgDir, 'latency.svg'), renderSvg(result));
  // The fan-out runs are separate (fanout.js): their section is kept.
  const fanout = renderFanoutSection(readFanoutResults(join(packageDir, 'results')));
  writeFileSync(join(packageDir, 'RESULTS.md'), withFanoutSection(renderMarkdown(result), fanout));
}
