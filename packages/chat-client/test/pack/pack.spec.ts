import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { signTestToken, startNodeService, type ManagedProcess } from '@jobsphere/testing';
import { readmeQuickStart } from '../support/readme.js';

// What a front-end developer does: `npm install` the SDK. The three packages are packed as
// they would be published (pnpm pack rewrites workspace: ranges), installed with npm into a
// project outside the workspace (third-party dependencies from the registry, through a cache
// kept between runs), then a TypeScript file is type-checked against them, the installed client
// and hooks are bundled for the browser, and the README's quick start runs against a real gateway.

const exec = promisify(execFile);
const WORKSPACE = fileURLToPath(new URL('../../../../', import.meta.url));
const PACKAGES = ['chat-domain', 'chat-client', 'chat-react'] as const;
const GATEWAY_MAIN = join(WORKSPACE, 'apps/chat-gateway/dist/main.js');
const TSC = join(WORKSPACE, 'node_modules/typescript/bin/tsc');
const JWT_SECRET = 'pack-test-secret-pack-test-secret-0123456789';
const NPM_CACHE = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'jobsphere/npm');
// Third-party versions as the workspace uses them.
const SOCKET_IO_CLIENT = '4.8.4';
const REACT = '^19.3.1';
const TYPES_REACT = '^19.3.3';

interface Packed {
  name: string;
  file: string;
  bytes: number;
  entries: string[];
  manifest: Record<string, unknown>;
}

let project: string;
const packed = new Map<string, Packed>();

async function pack(name: string, into: string): Promise<Packed> {
  const { stdout } = await exec('pnpm', ['pack', '--pack-destination', into], {
    cwd: join(WORKSPACE, 'packages', name),
  });
  const file = stdout.trim().split('\n').at(-1)!.trim();
  const { stdout: list } = await exec('tar', ['-tzf', file]);
  const { stdout: manifest } = await exec('tar', ['-xzOf', file, 'package/package.json']);
  return {
    name,
    file,
    bytes: statSync(file).size,
    entries: list.trim().split('\n'),
    manifest: JSON.parse(manifest) as Record<string, unknown>,
  };
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'jobsphere-sdk-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  for (const name of PACKAGES) packed.set(name, await pack(name, tarballs));
  console.log(
    `packed: ${[...packed.values()].map((p) => `${basename(p.file)} ${p.bytes} bytes`).join(', ')}`,
  );
  const dependency = (name: string) => `file:./tarballs/${basename(packed.get(name)!.file)}`;
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'sdk-consumer',
      private: true,
      type: 'module',
      dependencies: {
        '@jobsphere/chat-domain': dependency('chat-domain'),
        '@jobsphere/chat-client': dependency('chat-client'),
        '@jobsphere/chat-react': dependency('chat-react'),
        'socket.io-client': SOCKET_IO_CLIENT,
        react: REACT,
      },
      devDependencies: { '@types/react': TYPES_REACT },
    }),
  );
  const started = Date.now();
  const install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--cache', NPM_CACHE],
    { cwd: project },
  );
  console.log(
    `npm install into ${project} (cache ${NPM_CACHE}): exit ${install.code} in ${Date.now() - started} ms`,
  );
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.stderr}`);
}, 300_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the packed SDK', () => {
  it.each(PACKAGES)(
    '%s: public, Apache-2.0, with its build, types, license and readme only',
    (name) => {
      const p = packed.get(name)!;
      expect(p.manifest).toMatchObject({ name: `@jobsphere/${name}`, license: 'Apache-2.0' });
      expect(p.manifest['private']).toBeUndefined();
      expect(JSON.stringify(p.manifest)).not.toContain('workspace:');
      expect(p.entries).toEqual(
        expect.arrayContaining([
          'package/package.json',
          'package/LICENSE',
          'package/README.md',
          'package/CHANGELOG.md',
          'package/dist/index.js',
          'package/dist/index.d.ts',
        ]),
      );
      expect(
        p.entries.filter((e) => /\.spec\.|\/test\/|\/testing\/|tsconfig|jest\.config/.test(e)),
      ).toEqual([]);
      expect(readFileSync(join(WORKSPACE, 'LICENSE'), 'utf8')).toBe(
        readFileSync(join(WORKSPACE, 'packages', name, 'LICENSE'), 'utf8'),
      );
    },
  );

  it.each(PACKAGES)('%s: its build imports only what its manifest declares', async (name) => {
    const p = packed.get(name)!;
    const into = join(project, 'unpacked', name);
    mkdirSync(into, { recursive: true });
    await exec('tar', ['-xzf', p.file, '-C', into]);
    const declared = new Set(
      ['dependencies', 'peerDependencies'].flatMap((field) =>
        Object.keys((p.manifest[field] as Record<string, string> | undefined) ?? {}),
      ),
    );
    const imported = new Set<string>();
    for (const entry of p.entries.filter((e) => /^package\/dist\/.*\.js$/.test(e))) {
      const code = readFileSync(join(into, entry), 'utf8');
      // tsc's output: `from '…'`, `import '…'` and `import('…')`, single-quoted.
      const specifiers = code.matchAll(/(?:\bfrom |^import |\bimport\()'([^'.\s][^'\s]*)'/gm);
      for (const [, specifier] of specifiers) {
        const parts = specifier!.split('/');
        imported.add(specifier!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(0); // each imports a package (zod, the client, react)
    expect([...imported].filter((pkg) => !declared.has(pkg))).toEqual([]);
  });

  it('the packages depend on each other by version, in one release', () => {
    const version = packed.get('chat-client')!.manifest['version'];
    expect(packed.get('chat-client')!.manifest['dependencies']).toMatchObject({
      '@jobsphere/chat-domain': `^${String(version)}`,
    });
    expect(packed.get('chat-react')!.manifest['peerDependencies']).toMatchObject({
      '@jobsphere/chat-client': `^${String(version)}`,
    });
  });

  it('a TypeScript app type-checks against the installed packages, declarations included (and wrong use does not)', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['ES2023', 'DOM'],
          jsx: 'react-jsx',
          types: [],
          noEmit: true,
          skipLibCheck: false,
        },
        include: ['app.tsx', 'wrong.ts'],
      }),
    );
    writeFileSync(
      join(project, 'app.tsx'),
      `import { createChatClient, ChatConnectError, type ConversationView, type UploadProgress } from '@jobsphere/chat-client';
import { ChatProvider, useConversations, useMessages, usePresence, useTyping, useUnread } from '@jobsphere/chat-react';
import { SOCKET_PROTOCOL } from '@jobsphere/chat-domain';

const client = createChatClient({ url: 'https://chat.example', token: async () => 'jwt', userId: 'ana' });
export async function start(file: File): Promise<string> {
  try {
    await client.connect();
  } catch (error) {
    if (error instanceof ChatConnectError && error.code === 'UNSUPPORTED_PROTOCOL') return 'update';
  }
  const conversation: ConversationView = await client.openDirect({ userId: 'ravi', jobId: 'j-1' });
  const id = await client.attach(conversation.id, file, { onProgress: (p: UploadProgress) => p.loaded / p.total });
  const entry = client.send(conversation.id, 'My CV', { attachmentIds: [id] });
  // @ts-expect-error: a body is a string
  client.send(conversation.id, 42);
  return \`\${entry.clientMessageId} \${SOCKET_PROTOCOL.current}\`;
}
function Inbox({ id }: { id: string }) {
  const conversations = useConversations();
  const messages = useMessages(id);
  const unread: number = useUnread();
  const online: boolean | undefined = usePresence('ravi')?.online;
  const typing: readonly string[] = useTyping(id);
  // @ts-expect-error: messages are read-only
  messages.push(messages[0]!);
  return <p>{conversations.length} {messages.map((m) => m.body).join()} {unread} {String(online)} {typing.join()}</p>;
}
export const App = () => <ChatProvider client={client}><Inbox id="c" /></ChatProvider>;
`,
    );
    // The check can fail: in the same program, an unknown export is the one error.
    writeFileSync(
      join(project, 'wrong.ts'),
      `import { createChatClient, noSuchExport } from '@jobsphere/chat-client';\nexport const x = [createChatClient, noSuchExport];\n`,
    );
    const result = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project });
    const errors = result.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors).toEqual([
      expect.stringMatching(
        /^wrong\.ts\(1,\d+\): error TS2305: .*has no exported member 'noSuchExport'/,
      ),
    ]);
    expect(result.code).not.toBe(0);
  }, 240_000);

  it('bundles for the browser from the installed packages: nothing Node-only, no schema library', async () => {
    writeFileSync(
      join(project, 'browser.ts'),
      `export { createChatClient } from '@jobsphere/chat-client';\nexport { useConversations } from '@jobsphere/chat-react';\n`,
    );
    const result = await build({
      absWorkingDir: project,
      entryPoints: ['browser.ts'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      external: ['react'],
      logLevel: 'silent',
    });
    const inputs = Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)
      .filter(([, info]) => info.bytesInOutput > 0)
      .map(([path]) => path);
    expect(inputs.some((p) => p.includes('node_modules/@jobsphere/chat-client/dist/'))).toBe(true);
    expect(inputs.filter((p) => /node_modules\/(zod|ws)\/|^node:/.test(p))).toEqual([]);
  });

  it('chat-domain, all of its entry, bundles for the browser too', async () => {
    writeFileSync(join(project, 'domain.ts'), `export * from '@jobsphere/chat-domain';\n`);
    const result = await build({
      absWorkingDir: project,
      entryPoints: ['domain.ts'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles[0]!.contents.length).toBeGreaterThan(0);
  });

  describe('the README quick start, from the installed packages', () => {
    let gateway: ManagedProcess | undefined;
    let url: string;

    beforeAll(async () => {
      const service = await startNodeService({
        script: GATEWAY_MAIN,
        env: { PATH: process.env['PATH'], NODE_ENV: 'test', JWT_SECRET, LOG_LEVEL: 'info' },
      });
      gateway = service.process;
      url = service.url;
    });

    afterAll(() => gateway?.dispose());

    it('sends a message and exits 0', async () => {
      writeFileSync(join(project, 'hello.mjs'), readmeQuickStart());
      const result = await run(process.execPath, ['hello.mjs'], {
        cwd: project,
        env: {
          PATH: process.env['PATH'],
          CHAT_URL: url,
          CHAT_TOKEN: await signTestToken({ secret: JWT_SECRET, userId: 'ana' }),
          CHAT_TO: 'ravi',
        },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^sent as #1 in conversation \S+\n$/);
      expect(result.code).toBe(0);
    });
  });
});
