/**
 * tfjs-core plus the layers API as one namespace. Kept apart from backend selection so
 * that platform-free modules (model definitions, losses) can depend on it.
 */
import * as tfCore from '@tensorflow/tfjs-core';
import * as tfLayers from '@tensorflow/tfjs-layers';

export const tf = { ...tfCore, ...tfLayers, layers: tfLayers.layers } as typeof tfCore &
  typeof tfLayers;
