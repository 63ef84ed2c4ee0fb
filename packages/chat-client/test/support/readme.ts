import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PACKAGE_README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The README's quick start, verbatim: the first ```js block after its marker comment. */
export function readmeQuickStart(): string {
  const text = readFileSync(PACKAGE_README, 'utf8');
  const marker = text.indexOf('<!-- quick start:');
  const match = /```js\n([\s\S]*?)```/.exec(text.slice(marker));
  if (marker < 0 || !match) throw new Error('README quick start not found');
  return match[1]!;
}
