import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NotFoundError, UnavailableError } from '@jobsphere/chat-domain';

/** The only files served under /try: nothing else in the package folder is reachable. */
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.js.map': 'application/json; charset=utf-8',
  'app.css.map': 'application/json; charset=utf-8',
};

/** The built try-client, found through its package so it works from any working directory. */
export function tryClientDist(): string {
  const manifest = createRequire(import.meta.url).resolve('@jobsphere/try-client/package.json');
  return join(dirname(manifest), 'dist');
}

export interface Asset {
  body: Buffer;
  contentType: string;
}

/** Read on every request: the dev command rebuilds the client without restarting the gateway. */
export async function readAsset(dist: string, file: string): Promise<Asset> {
  const contentType = TYPES[file];
  if (!contentType) throw new NotFoundError(`no such file: /try/${file}`);
  try {
    return { body: await readFile(join(dist, file)), contentType };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new UnavailableError('the try page is not built: run `pnpm turbo run build`');
  }
}
