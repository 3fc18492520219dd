// Lint rules: strict typing at the boundaries, and a platform-free core that never
// reaches for Node, the DOM or a concrete tfjs backend (see ../shared/STYLE.md habit 2).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'web-dist/',
      'runs/',
      'out/',
      'models/',
      'coverage/',
      'native/build/',
      '.tmp/',
      'test-artifacts/',
      'bench/results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        fetch: 'readonly',
        document: 'readonly',
        window: 'readonly',
        navigator: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Pure stages: no Node built-ins, no DOM-only modules, no concrete tfjs backend.
    files: [
      'src/augment/**/*.ts',
      'src/evaluate/metrics*.ts',
      'src/evaluate/teeth.ts',
      'src/evaluate/lesions.ts',
      'src/data/tiling.ts',
      // The data stage's index is its platform-free API; Node's is data/index.node.ts.
      'src/data/index.ts',
      'src/data/coco.ts',
      'src/data/rasterise.ts',
      'src/data/classes.ts',
      'src/model/**/*.ts',
      'src/numbering/**/*.ts',
      'src/imaging/**/*.ts',
      'src/report/**/*.ts',
      'src/rng.ts',
      // The inference core the browser shares with Node (prepare → run → post-process).
      'src/data/preprocess.ts',
      'src/data/resample.ts',
      'src/infer/pipeline.ts',
      'src/infer/check-and-run.ts',
      'src/infer/model-set.ts',
      'src/infer/attach.ts',
      'src/infer/engines.ts',
      'src/infer/ort-engine.ts',
      'src/infer/onnx-metadata.ts',
      'src/infer/onnx-io-names.ts',
      'src/infer/types.ts',
      'src/web/app/local-analysis.ts',
      // The API's schemas and the types derived from them, which the web page imports.
      'src/serve/schemas.ts',
      'src/serve/wire.ts',
    ],
    // A stage's Node I/O lives beside it in `*.node.ts` files, never behind its index.
    ignores: ['src/**/*.node.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Pure stage: keep Node I/O out (see STYLE.md).' },
            {
              // Also catches a re-export, which is how Node I/O once slipped into an index.
              group: ['**/*.node.js'],
              message: 'Pure stage: Node I/O lives in *.node.ts files, imported by Node code only.',
            },
            {
              group: ['@tensorflow/tfjs-backend-*', '@tensorflow/tfjs-node*'],
              message: 'Only src/engine picks a backend.',
            },
            {
              group: ['sharp', 'dcmjs', 'onnxruntime-node', 'onnxruntime-web'],
              message:
                'Pure code: native decoders and runtimes are Node or browser entries (*.node.ts, web/app).',
            },
          ],
        },
      ],
    },
  },
);
