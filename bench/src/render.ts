// `node dist/render.js [result.json]`: writes RESULTS.md and results/latency.svg again from a
// saved result (default results/latest.json), e.g. after the report's wording changed.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './report.js';
import { writeReports } from './results-files.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const file = resolve(process.argv[2] ?? join(packageDir, 'results', 'latest.json'));
writeReports(JSON.parse(readFileSync(file, 'utf8')) as BenchResult, dirname(file));
console.log(`wrote RESULTS.md and ${join(dirname(file), 'latency.svg')} from ${file}`);
