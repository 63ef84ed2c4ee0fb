// Figures that survive a shared host: saturation confirmed on two consecutive steps, and the
// ladder's figures over several runs as a median with their min–max.

/** What the rules below need of a ladder step. */
export interface LadderStep {
  offeredRate: number;
  saturated: boolean;
}

/** How many consecutive saturated steps confirm saturation (one can be another job's burst). */
export const CONFIRMING_STEPS = 2;

/**
 * Whether a target's ladder may stop: its last `CONFIRMING_STEPS` steps (by offered rate, in
 * the order run) were all saturated.
 */
export function saturationConfirmed(steps: readonly LadderStep[]): boolean {
  if (steps.length < CONFIRMING_STEPS) return false;
  return steps.slice(-CONFIRMING_STEPS).every((s) => s.saturated);
}

export interface Sustained {
  /** Highest offered rate below the confirmed saturation (0 when the first steps saturated). */
  rate: number;
  /** The first rate of the confirming run of saturated steps, if the ladder reached one. */
  saturatedAt?: number;
  /** Rates that saturated alone, with an unsaturated step after them: noise, not a ceiling. */
  blips: number[];
}

/**
 * The highest sustained rate of one target's ladder (steps in the order run, rates rising):
 * saturation counts only when `CONFIRMING_STEPS` consecutive steps are saturated; the rate
 * sustained is the highest unsaturated one below where that run begins.
 */
export function sustainedRate(steps: readonly LadderStep[]): Sustained {
  let confirmedAt: number | undefined;
  for (let i = 0; i + CONFIRMING_STEPS <= steps.length; i++) {
    if (steps.slice(i, i + CONFIRMING_STEPS).every((s) => s.saturated)) {
      confirmedAt = i;
      break;
    }
  }
  const below = confirmedAt === undefined ? steps : steps.slice(0, confirmedAt);
  const best = below.filter((s) => !s.saturated).at(-1);
  return {
    rate: best?.offeredRate ?? 0,
    ...(confirmedAt !== undefined && { saturatedAt: steps[confirmedAt]!.offeredRate }),
    blips: below.filter((s) => s.saturated).map((s) => s.offeredRate),
  };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median (the mean of the middle two for an even count) and min–max; undefined for no values. */
export function spread(values: readonly number[]): Spread | undefined {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const m = Math.floor(xs.length / 2);
  const median = xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
  return { median, min: xs[0]!, max: xs.at(-1)!, n: xs.length };
}

/** `median (min–max)`, or the single value; `n/a` for none. */
export function formatSpread(s: Spread | undefined, digits = 0): string {
  if (!s) return 'n/a';
  const f = (x: number) => x.toFixed(digits);
  if (s.n === 1 || s.min === s.max) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** Relative width of a spread ((max − min) / median), the steadiness of a figure; 0 for one run. */
export function relativeRange(s: Spread | undefined): number | undefined {
  if (!s || s.median === 0) return undefined;
  return (s.max - s.min) / s.median;
}
