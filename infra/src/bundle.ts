import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export interface BundleSettings {
  /** infra/ package directory. */
  readonly infraDir: string;
  /** GATEWAY_BUNDLE_DIR: explicit bundle directory (absolute or relative to infra/). */
  readonly bundleDir?: string | undefined;
  /** CHAT_REQUIRE_BUNDLE=1 (set by `pnpm deploy`): refuse the placeholder. */
  readonly requireBundle?: boolean;
}

export interface ResolvedBundle {
  readonly dir: string;
  readonly placeholder: boolean;
}

export const DEFAULT_BUNDLE_DIR = 'build/gateway-bundle';
export const PLACEHOLDER_DIR = 'assets/placeholder-gateway';

/**
 * Where the gateway bundle comes from. `pnpm bundle` writes build/gateway-bundle; until then
 * (fresh clone, tests, CI) synth uploads a tiny placeholder whose main.js exits with an error, so
 * offline synth always works and a deploy can never ship the placeholder by accident.
 */
export function resolveBundle(settings: BundleSettings): ResolvedBundle {
  const wanted = settings.bundleDir ?? DEFAULT_BUNDLE_DIR;
  const dir = isAbsolute(wanted) ? wanted : resolve(settings.infraDir, wanted);
  if (existsSync(join(dir, 'dist', 'main.js'))) return { dir, placeholder: false };
  if (settings.requireBundle || settings.bundleDir !== undefined) {
    throw new Error(
      `gateway bundle not found at ${dir} (expected dist/main.js); run \`pnpm --filter @jobsphere/infra bundle\``,
    );
  }
  return { dir: resolve(settings.infraDir, PLACEHOLDER_DIR), placeholder: true };
}
