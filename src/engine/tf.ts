/**
 * tfjs-core plus the layers API as one namespace, usable for values and types
 * (`tf.Tensor`). Kept apart from backend selection so that platform-free modules (model
 * definitions, losses) can depend on it.
 */
export * as tf from './tf-namespace.js';
