// One type-aware lint config for the workspace. Floating and misused promises are
// errors: an async socket handler otherwise fails silently.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/cdktf.out/**', '**/*.cjs', '**/*.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // In-memory implementations of async ports are async without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Plain ES modules (jest configs, dev scripts): the JavaScript rules, no type information.
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // One writer per invariant: only the version allocator moves a conversation's version and
    // seq or pushes its reservations (it also refuses them in what rides along at run time).
    files: ['apps/chat-gateway/src/persistence/mongo/**/*.ts'],
    ignores: ['apps/chat-gateway/src/persistence/mongo/version-allocator*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "Property:matches([key.name='$inc'], [key.value='$inc']) > ObjectExpression > Property:matches([key.name=/^(version|lastSeq)$/], [key.value=/^(version|lastSeq)$/])",
          message: 'Only version-allocator.ts moves version/lastSeq.',
        },
        {
          selector:
            'Property:matches([key.name=/^\\$(set|push|unset)$/], [key.value=/^\\$(set|push|unset)$/]) > ObjectExpression > Property:matches([key.name=/^(lastSeq|reservations)$/], [key.value=/^(lastSeq|reservations)$/])',
          message: 'Only version-allocator.ts writes lastSeq or pushes reservations.',
        },
      ],
    },
  },
);
