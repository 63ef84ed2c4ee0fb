import preset from '../../jest.preset.mjs';

// Unit specs (fake clock, fake transport) beside the code; integration tests against real
// gateway processes under test/.
export default { ...preset, roots: ['<rootDir>/src', '<rootDir>/test'] };
