/**
 * Kernels that tfjs-backend-wasm lacks for training, registered under the `wasm` backend.
 */
export function registerWasmKernels(): void {
  // Filled in by the gradient-kernel work (issue 2).
}
