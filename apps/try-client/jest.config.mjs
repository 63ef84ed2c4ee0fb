import preset from '../../jest.preset.mjs';

// One real browser against one real gateway process: slower than a unit test.
export default { ...preset, roots: ['<rootDir>/test'], testTimeout: 60_000 };
