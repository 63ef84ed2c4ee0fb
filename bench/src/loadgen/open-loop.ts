import { nowMs } from './clock.js';

/**
 * Open loop: message i is due at start + i / rate, whatever the replies do. Calls `fire(i,
 * dueAt)` for each of `total` messages as it falls due; resolves when the last one is fired.
 */
export async function openLoop(
  ratePerSec: number,
  total: number,
  fire: (i: number, dueAt: number) => void,
): Promise<{ startedAt: number; endedAt: number }> {
  const startedAt = nowMs();
  let fired = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      const due = Math.min(total, Math.floor(((now - startedAt) * ratePerSec) / 1000) + 1);
      while (fired < due) {
        const i = fired++;
        fire(i, startedAt + (i * 1000) / ratePerSec);
      }
      if (fired >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  return { startedAt, endedAt: nowMs() };
}
