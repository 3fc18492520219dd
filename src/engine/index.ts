/**
 * The compute engine boundary: the one place that picks a TensorFlow.js backend,
 * initialises it and registers dentseg's own kernels. Everything else imports `tf`
 * from here and never names a backend, so a native backend can be added without
 * touching model, training or inference code.
 */
export { tf } from './tf.js';
export { initEngine, engineInfo, BACKEND_NAMES } from './backends.js';
export { defaultThreads } from './threads.js';
export { ADAM_UPDATE } from './kernel-names.js';
export type { BackendName, EngineInfo, EngineOptions } from './backends.js';
