import preset from '../../jest.preset.mjs';

const [[pattern, [swc, options]]] = Object.entries(preset.transform);

// Hooks render in jsdom (jest.environment.mjs) with JSX in the tests.
export default {
  ...preset,
  testEnvironment: '<rootDir>/jest.environment.mjs',
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'json'],
  transform: {
    [pattern]: [swc, options],
    '^.+\\.tsx$': [
      swc,
      {
        ...options,
        jsc: {
          ...options.jsc,
          parser: { syntax: 'typescript', tsx: true },
          transform: { react: { runtime: 'automatic' } },
        },
      },
    ],
  },
  roots: ['<rootDir>/src', '<rootDir>/test'],
};
