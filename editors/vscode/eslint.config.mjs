// ESLint 9 flat config: the recommended JavaScript and typescript-eslint
// rules, over the sources and the scripts (not the compiled out/).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['out/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // scripts/*.mjs and this file run in Node.
    files: ['**/*.mjs'],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly' },
    },
  },
);
