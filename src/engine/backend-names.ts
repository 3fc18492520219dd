/**
 * The compute backends' names, what the CLI says about them and how each is installed.
 * Apart from backends.ts so the CLI can check `--backend` without loading TensorFlow.js.
 */

/** Backends in priority order: native first, portable last. */
export const BACKEND_NAMES = ['torch', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** `--backend` in `dentseg --help`. */
export const BACKEND_HELP =
  'compute backend: torch (native libtorch, the default where built), tensorflow ' +
  '(@tensorflow/tfjs-node, when installed), wasm or cpu (default: the first of these that ' +
  'starts; env DENTSEG_BACKEND)';

/** What makes each backend available, for the hint when a forced one does not start. */
export const BACKEND_INSTALL: Readonly<Record<BackendName, string>> = {
  torch:
    'the native backend is built by `npm ci` when libtorch is installed (apt-get install ' +
    'libtorch-dev, or LIBTORCH=/path npm run build:native; see src/engine/torch/README.md)',
  tensorflow:
    'install TensorFlow.js for Node where you have internet: npm install @tensorflow/tfjs-node',
  wasm: 'npm ci installs it; reinstall the dependencies',
  cpu: 'npm ci installs it; reinstall the dependencies',
};

/** Names people try for the `tensorflow` backend (the npm package's). */
const TFJS_NODE_NAMES = ['tfjs-node', '@tensorflow/tfjs-node', 'tfjs', 'tf', 'node'];

/** Why `value` is not a backend name, or undefined when it is one. */
export function backendProblem(value: string): string | undefined {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return undefined;
  const list = `The backends are ${BACKEND_NAMES.join(', ')}`;
  if (TFJS_NODE_NAMES.includes(value.toLowerCase()))
    return (
      `${list}; @tensorflow/tfjs-node is the one called "tensorflow" ` +
      `(--backend tensorflow; ${BACKEND_INSTALL.tensorflow})`
    );
  return list;
}
