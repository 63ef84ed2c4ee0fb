import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** A deployable directory built by scripts/bundle.sh, and what synth uploads for it. */
export interface BundleSpec {
  /** What it is, in messages. */
  readonly label: string;
  /** Default directory (relative to infra/) that scripts/bundle.sh writes. */
  readonly defaultDir: string;
  /** Committed stand-in used when the bundle was not built (fresh clone, tests, CI). */
  readonly placeholderDir: string;
  /** A file every real bundle has. */
  readonly entry: string;
}

export const GATEWAY_BUNDLE: BundleSpec = {
  label: 'gateway bundle',
  defaultDir: 'build/gateway-bundle',
  placeholderDir: 'assets/placeholder-gateway',
  entry: 'dist/main.js',
};

export const ROTATION_BUNDLE: BundleSpec = {
  label: 'DocumentDB rotation function bundle',
  defaultDir: 'build/docdb-rotation-bundle',
  placeholderDir: 'assets/placeholder-rotation',
  entry: 'dist/handler.js',
};

export interface BundleSettings {
  /** infra/ package directory. */
  readonly infraDir: string;
  /** Explicit bundle directory (absolute or relative to infra/), e.g. GATEWAY_BUNDLE_DIR. */
  readonly bundleDir?: string | undefined;
  /** CHAT_REQUIRE_BUNDLE=1 (set by the deploy script): refuse the placeholder. */
  readonly requireBundle?: boolean;
}

export interface ResolvedBundle {
  readonly dir: string;
  readonly placeholder: boolean;
  /** Content hash of the directory (see {@link hashDirectory}). */
  readonly hash: string;
}

/**
 * Where a bundle comes from. Until scripts/bundle.sh has written it, synth uploads a tiny
 * placeholder that fails loudly, so offline synth always works and a deploy (which sets
 * requireBundle) can never ship the placeholder by accident.
 */
export function resolveBundle(spec: BundleSpec, settings: BundleSettings): ResolvedBundle {
  const wanted = settings.bundleDir ?? spec.defaultDir;
  const dir = isAbsolute(wanted) ? wanted : resolve(settings.infraDir, wanted);
  if (existsSync(join(dir, spec.entry)))
    return { dir, placeholder: false, hash: hashDirectory(dir) };
  if (settings.requireBundle || settings.bundleDir !== undefined) {
    throw new Error(
      `${spec.label} not found at ${dir} (expected ${spec.entry}); run \`pnpm --filter @jobsphere/infra bundle\``,
    );
  }
  const placeholder = resolve(settings.infraDir, spec.placeholderDir);
  return { dir: placeholder, placeholder: true, hash: hashDirectory(placeholder) };
}

/**
 * A content hash of a directory tree that depends only on what the instance would run: the
 * relative path, kind and executable bit of every entry and the bytes of every file, walked in
 * byte order. Not timestamps, owners or the machine's path, so the same source and lockfile give
 * the same hash on any machine (unlike cdktf's default asset hash, which ignores names).
 * Symbolic links are refused: the zip asset would not keep them.
 */
export function hashDirectory(root: string): string {
  const hash = createHash('sha256');
  const walk = (relative: string) => {
    const absolute = join(root, relative);
    const names = readdirSync(absolute).sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    );
    for (const name of names) {
      const path = relative ? `${relative}/${name}` : name;
      const stat = lstatSync(join(root, path));
      if (stat.isSymbolicLink())
        throw new Error(`bundle ${root} contains a symbolic link: ${path}`);
      if (stat.isDirectory()) {
        hash.update(`d ${path}\n`);
        walk(path);
      } else if (stat.isFile()) {
        const executable = (stat.mode & 0o111) !== 0 ? 'x' : '-';
        const content = readFileSync(join(root, path));
        hash.update(`f ${path} ${executable} ${content.length}\n`);
        hash.update(content);
      } else {
        throw new Error(`bundle ${root} contains a special file: ${path}`);
      }
    }
  };
  walk('');
  // 32 upper-case hex characters, the shape cdktf uses for asset hashes.
  return hash.digest('hex').slice(0, 32).toUpperCase();
}
