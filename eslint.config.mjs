// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['node_modules/**', '.notify/**', 'dist/**', 'coverage/**', 'bench-results/**', 'chaos-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'Re-export names explicitly (house style: no `export *`).' }],
      // Only src/config reads the environment.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config (loadConfig).' }],
    },
  },
  {
    files: ['src/config/**', 'scripts/**', 'dev/**', 'test/**', 'bench/**', 'chaos/**', '*.mjs', '*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: only @temporalio/workflow, type-only imports of
    // activities, and pure shared modules. Keep zod and Node APIs out.
    files: ['src/workflows/**/*.ts'],
    ignores: ['src/workflows/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^(?!@temporalio/workflow$|@temporalio/common$|\\.{1,2}/|\\.\\./\\.\\./shared/|\\.\\./shared/).*', message: 'Workflow code may import only @temporalio/workflow, @temporalio/common (pure), relative workflow modules and src/shared.' },
          { group: ['zod', 'zod/*'], message: 'Keep zod out of workflow code.' },
          { regex: '^\\.\\./(activities|channels|api|ingest|config|kafka|temporal|workers|dev)(/|$)', allowTypeImports: true, message: 'Workflow code may import other components as types only.' },
        ],
      }],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
