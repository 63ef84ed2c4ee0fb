import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

// What an application pays for the client: bundled and minified as a browser app would, with
// socket.io-client (the peer dependency) left out and then counted in. Reported, and checked
// for what must never be in it: zod and the domain's server-side code.
const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

async function bundle(external: string[]) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    external,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  const contributing = Object.entries(inputs)
    .filter(([, info]) => info.bytesInOutput > 0)
    .map(([path]) => path);
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length, contributing };
}

const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

describe('bundle size', () => {
  it('is small and carries no schema library or server code', async () => {
    const sdk = await bundle(['socket.io-client']);
    const all = await bundle([]);
    console.log(
      `@jobsphere/chat-client: ${kB(sdk.gzip)} gzipped (${kB(sdk.min)} minified); ` +
        `with socket.io-client ${kB(all.gzip)} gzipped (${kB(all.min)} minified)`,
    );
    expect(sdk.contributing.filter((p) => /zod|jose|mongoose|nestjs/.test(p))).toEqual([]);
    // From chat-domain only its limits (the mention cap among them), the protocol version, the
    // claim reader and types are used.
    expect(
      sdk.contributing
        .filter((p) => p.includes('chat-domain'))
        .map((p) => p.replace(/^.*chat-domain\/dist\//, ''))
        .sort(),
    ).toEqual(['claims.js', 'mentions.rules.js', 'protocol.js', 'rules.js']);
    expect(all.contributing.some((p) => p.includes('socket.io-client'))).toBe(true);
  });
});
