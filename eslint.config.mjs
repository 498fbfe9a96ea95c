// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

/**
 * Folder boundaries: each folder README's "May import" list, enforced. A key is a folder of src/ (or dev/), its value
 * the other folders it may import from (type-only imports count too; workflow code is further limited below).
 */
const SRC_MAY_IMPORT = {
  shared: [],
  logging: [],
  // entry-point.ts only (the shared start-up of the gateway and ingest); the other helpers import nothing.
  runtime: ['config', 'crypto', 'kafka', 'logging'],
  channels: [],
  db: ['runtime'],
  recipients: ['channels', 'shared'],
  events: ['channels', 'crypto', 'shared'],
  templates: ['channels'],
  activities: ['channels', 'events', 'logging', 'recipients', 'shared', 'templates'],
  workflows: ['activities', 'shared'],
  schemas: ['channels', 'kafka', 'recipients', 'shared'],
  kafka: ['runtime', 'shared', 'tls'],
  tls: ['config'],
  temporal: ['config', 'runtime', 'shared', 'tls', 'workflows'],
  crypto: ['runtime', 'shared'],
  auth: ['crypto', 'runtime'],
  config: ['auth', 'channels', 'crypto', 'shared'],
  observability: ['config', 'ingest', 'channels'],
  // workers: only the eager-start workflow worker (INGEST_EAGER_START), imported dynamically.
  ingest: [
    'config',
    'crypto',
    'kafka',
    'logging',
    'observability',
    'runtime',
    'schemas',
    'shared',
    'temporal',
    'tls',
    'workers',
  ],
  api: [
    'auth',
    'config',
    'crypto',
    'db',
    'events',
    'kafka',
    'logging',
    'observability',
    'recipients',
    'runtime',
    'schemas',
    'shared',
    'temporal',
    'templates',
    'tls',
  ],
  workers: [
    'activities',
    'channels',
    'config',
    'crypto',
    'db',
    'events',
    'logging',
    'observability',
    'recipients',
    'runtime',
    'shared',
    'templates',
    'tls',
  ],
};
const DEV_MAY_IMPORT = {
  'process-harness': { dev: [], src: ['runtime'] },
  infra: { dev: ['process-harness'], src: ['config', 'runtime', 'shared', 'temporal'] },
  sinks: { dev: [], src: ['config', 'logging', 'runtime'] },
};
const TOOLING = ['./dev', './test', './bench', './chaos'];
const list = (names) =>
  names.length === 0 ? 'nothing from other src/ folders' : `only ${names.map((n) => `src/${n}`).join(', ')}`;
const boundaryZones = [
  // src/ is what ships: it never imports tooling.
  { target: './src', from: TOOLING, message: 'src/ is what ships: it may not import dev/, test/, bench/ or chaos/.' },
  ...Object.entries(SRC_MAY_IMPORT).map(([folder, allowed]) => ({
    target: `./src/${folder}`,
    from: './src',
    except: [`./${folder}`, ...allowed.map((a) => `./${a}`)],
    message: `src/${folder} may import ${list(allowed)} (see src/${folder}/README.md).`,
  })),
  ...Object.entries(DEV_MAY_IMPORT).flatMap(([folder, { dev, src }]) => [
    {
      target: `./dev/${folder}`,
      from: './src',
      except: src.map((a) => `./${a}`),
      message: `dev/${folder} may import ${list(src)} (see dev/${folder}/README.md).`,
    },
    {
      target: `./dev/${folder}`,
      from: './dev',
      except: [`./${folder}`, ...dev.map((a) => `./${a}`)],
      message: `dev/${folder} may import only ${dev.length === 0 ? 'its own folder' : dev.map((d) => `dev/${d}`).join(', ')} from dev/.`,
    },
  ]),
  {
    target: './dev',
    from: ['./test', './bench', './chaos'],
    message: 'dev/ tooling may not import tests, bench or chaos.',
  },
  { target: ['./bench', './chaos'], from: './test', message: 'bench/ and chaos/ may not import tests.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.notify/**', 'dist/**', 'coverage/**', 'bench-results/**', 'chaos-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    // Resolve `./x.js` specifiers to the `./x.ts` sources, so import-x rules (no-cycle, no-restricted-paths) see them.
    settings: {
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.mjs', '.js', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Re-export names explicitly (house style: no `export *`).' },
      ],
      // Only src/config reads the environment.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config (loadConfig).' },
      ],
    },
  },
  {
    // Boundaries apply to production and tooling code; tests may import across folders (and use dev/ and test/).
    files: ['src/**/*.ts', 'dev/**/*.ts', 'bench/**/*.ts', 'chaos/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: boundaryZones }] },
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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|@temporalio/common$|\\.{1,2}/|\\.\\./\\.\\./shared/|\\.\\./shared/).*',
              message:
                'Workflow code may import only @temporalio/workflow, @temporalio/common (pure), relative workflow modules and src/shared.',
            },
            { group: ['zod', 'zod/*'], message: 'Keep zod out of workflow code.' },
            {
              regex: '^\\.\\./(activities|channels|api|ingest|config|kafka|temporal|workers|dev)(/|$)',
              allowTypeImports: true,
              message: 'Workflow code may import other components as types only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
