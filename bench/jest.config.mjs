import preset from '../jest.preset.mjs';

export default { ...preset, roots: ['<rootDir>/test'], testTimeout: 120_000 };
