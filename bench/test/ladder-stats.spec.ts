import {
  formatSpread,
  relativeRange,
  saturationConfirmed,
  spread,
  sustainedRate,
} from '../src/ladder-stats.js';

const ladder = (...marks: [number, boolean][]) =>
  marks.map(([offeredRate, saturated]) => ({ offeredRate, saturated }));

describe('saturation confirmed on two consecutive steps', () => {
  it('does not stop a ladder on one saturated step', () => {
    expect(saturationConfirmed(ladder([100, false], [200, true]))).toBe(false);
    expect(saturationConfirmed(ladder([100, true]))).toBe(false);
  });

  it('stops it on the second saturated step in a row', () => {
    expect(saturationConfirmed(ladder([100, false], [200, true], [400, true]))).toBe(true);
  });

  it('does not stop it when a saturated step was followed by a sustained one', () => {
    expect(saturationConfirmed(ladder([100, true], [200, false], [400, true]))).toBe(false);
  });
});

describe('highest sustained rate', () => {
  it('is the last sustained rate below two saturated steps in a row', () => {
    expect(sustainedRate(ladder([100, false], [200, false], [400, true], [800, true]))).toEqual({
      rate: 200,
      saturatedAt: 400,
      blips: [],
    });
  });

  it('treats a lone saturated step with a sustained one after it as a blip', () => {
    const steps = ladder([100, false], [200, true], [400, false], [800, true], [1200, true]);
    expect(sustainedRate(steps)).toEqual({ rate: 400, saturatedAt: 800, blips: [200] });
  });

  it('reports no saturation when the ladder ended on one saturated step', () => {
    expect(sustainedRate(ladder([100, false], [200, false], [400, true]))).toEqual({
      rate: 200,
      blips: [400],
    });
  });

  it('is 0 when the first two steps already saturated', () => {
    expect(sustainedRate(ladder([50, true], [100, true]))).toEqual({
      rate: 0,
      saturatedAt: 50,
      blips: [],
    });
  });
});

describe('median and min–max over runs', () => {
  it('takes the middle value of an odd count', () => {
    expect(spread([800, 400, 1200])).toEqual({ median: 800, min: 400, max: 1200, n: 3 });
  });

  it('takes the mean of the middle two for an even count, ignoring non-finite values', () => {
    expect(spread([4, 1, NaN, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
  });

  it('has nothing to say about no values', () => {
    expect(spread([])).toBeUndefined();
    expect(formatSpread(undefined)).toBe('n/a');
    expect(relativeRange(undefined)).toBeUndefined();
  });

  it('prints the median with its range, or one value when all runs agree', () => {
    expect(formatSpread(spread([1.234, 2.5, 1.9]), 1)).toBe('1.9 (1.2–2.5)');
    expect(formatSpread(spread([800, 800, 800]))).toBe('800');
  });

  it('gives the range relative to the median', () => {
    expect(relativeRange(spread([90, 100, 120]))).toBeCloseTo(0.3);
  });
});
