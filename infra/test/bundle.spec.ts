import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashDirectory } from '../src/bundle.js';
import { run } from './support/shell.js';
import { infraDir, repoDir } from './support/synth.js';

/** Every file below `root`, relative, in byte order. */
function files(root: string, relative = ''): string[] {
  return readdirSync(join(root, relative))
    .sort()
    .flatMap((name) => {
      const path = relative ? `${relative}/${name}` : name;
      return lstatSync(join(root, path)).isDirectory() ? files(root, path) : [path];
    });
}

/** name@version of every package installed in a bundle's node_modules. */
function installedPackages(root: string): string[] {
  return files(root)
    .filter((f) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$/.test(f))
    .filter((f) => !/\/node_modules\/.*\/(dist|lib|esm|cjs)\//.test(f))
    .map(
      (f) => JSON.parse(readFileSync(join(root, f), 'utf8')) as { name?: string; version?: string },
    )
    .filter((p): p is { name: string; version: string } => !!p.name && !!p.version)
    .map((p) => `${p.name}@${p.version}`);
}

const APPS = [
  {
    what: 'gateway',
    dir: 'apps/chat-gateway',
    workspace: ['@jobsphere/chat-domain', '@jobsphere/redis-kit'],
  },
  { what: 'rotation', dir: 'apps/docdb-rotation', workspace: [] as string[] },
] as const;

// Builds every bundle twice from the same checkout, as two deploys would, into throwaway
// directories (never infra/build/, so it holds whether or not someone built a bundle there).
describe('deploy bundles', () => {
  let dir: string;
  const bundle = (what: string, n: number) => join(dir, `${what}-${n}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobsphere-bundles-'));
    for (const n of [1, 2]) {
      const result = await run('bash', [join(infraDir, 'scripts', 'bundle.sh'), 'all'], {
        env: {
          ...process.env,
          GATEWAY_BUNDLE_DIR: bundle('gateway', n),
          ROTATION_BUNDLE_DIR: bundle('rotation', n),
        },
        timeoutMs: 240_000,
      });
      if (result.status !== 0)
        throw new Error(`bundle.sh failed:\n${result.stdout}\n${result.stderr}`);
    }
  }, 480_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe.each(APPS)('$what', ({ what, dir: appDir, workspace }) => {
    const app = JSON.parse(readFileSync(join(repoDir, appDir, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      main: string;
      devDependencies?: Record<string, string>;
    };

    it('is the same, byte for byte, when built again from the same source', () => {
      expect(files(bundle(what, 2))).toEqual(files(bundle(what, 1)));
      expect(hashDirectory(bundle(what, 2))).toBe(hashDirectory(bundle(what, 1)));
      const size = execFileSync('du', ['-sk', bundle(what, 1)], { encoding: 'utf8' }).split(
        '\t',
      )[0];
      console.log(
        `bundle ${what}: ${files(bundle(what, 1)).length} files, ${(Number(size) / 1024).toFixed(1)} MiB, hash ${hashDirectory(bundle(what, 1))} (stable across two builds)`,
      );
    });

    it('holds only dist/, production node_modules and a minimal package.json', () => {
      const root = bundle(what, 1);
      expect(readdirSync(root).sort()).toEqual(['dist', 'node_modules', 'package.json']);
      expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).toEqual({
        name: app.name,
        version: app.version,
        private: true,
        type: 'module',
        main: app.main,
      });
      const all = files(root);
      // No sources, tests, environment files or pnpm bookkeeping, anywhere.
      expect(all.filter((f) => /(^|\/)\.env$/.test(f))).toEqual([]);
      expect(all.filter((f) => /^(src|test)\//.test(f))).toEqual([]);
      expect(
        all.filter((f) => /(^|\/)(\.modules\.yaml|pnpm-lock\.yaml|\.pnpm-workspace-state)/.test(f)),
      ).toEqual([]);
      expect(all.filter((f) => /\.node$/.test(f))).toEqual([]); // portable: x86_64 and Graviton
    });

    it('carries its workspace packages as compiled copies, and nothing dev-only', () => {
      const root = bundle(what, 1);
      const ours = installedPackages(root)
        .filter((p) => p.startsWith('@jobsphere/'))
        .map((p) => p.replace(/@[^@]+$/, ''));
      expect(ours.sort()).toEqual([...workspace].sort());
      for (const name of workspace) {
        expect(readdirSync(join(root, 'node_modules', name)).sort()).toEqual([
          'dist',
          'package.json',
        ]);
      }
      const installed = new Set(installedPackages(root).map((p) => p.replace(/@[^@]+$/, '')));
      for (const dev of [
        '@jobsphere/testing',
        '@jobsphere/try-client',
        'jest',
        'typescript',
        'eslint',
      ])
        expect(installed.has(dev)).toBe(false);
      for (const dev of Object.keys(app.devDependencies ?? {}).filter(
        (d) => !d.startsWith('@types/'),
      ))
        expect([dev, installed.has(dev)]).toEqual([dev, false]);
    });

    it('installs exactly the versions of the lockfile', () => {
      const lockfile = readFileSync(join(repoDir, 'pnpm-lock.yaml'), 'utf8');
      const locked = new Set(
        [...lockfile.matchAll(/^ {2}'?((?:@[^/\s]+\/)?[^@\s']+@[^(\s:']+)/gm)].map((m) => m[1]!),
      );
      const missing = installedPackages(bundle(what, 1)).filter(
        (p) => !p.startsWith('@jobsphere/') && !locked.has(p),
      );
      expect(missing).toEqual([]);
    });

    it('runs on its own, outside the workspace', async () => {
      const root = bundle(what, 1);
      if (what === 'gateway') {
        // Production with nothing configured: it loads every module, then refuses to start.
        const result = await run(process.execPath, ['dist/main.js'], {
          cwd: root,
          env: { PATH: process.env.PATH, NODE_ENV: 'production' },
          timeoutMs: 20_000,
        });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain('chat-gateway: invalid configuration: MONGODB_URI');
      } else {
        const result = await run(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            "const m = await import('./dist/handler.js'); console.log(typeof m.handler)",
          ],
          { cwd: root, env: { PATH: process.env.PATH }, timeoutMs: 20_000 },
        );
        expect(result.stdout.trim()).toBe('function');
      }
    });
  });
});
