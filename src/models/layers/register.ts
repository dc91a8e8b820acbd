/**
 * Registration of kws-kit's custom layer classes with tfjs serialisation, so that models using
 * them can be rebuilt from JSON (`tfl.models.modelFromJSON`, `tfl.loadLayersModel`). Nothing is
 * registered on import (the package has no side effects); the factories and loaders call
 * {@link registerKwsLayers} themselves, and an application loading a saved model with the
 * plain tfjs API calls it once first.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { AttentionPooling } from './attention-pooling.js';
import { ChannelDropout } from './channel-dropout.js';
import { FrequencyMean } from './frequency-mean.js';
import { SeededDropout } from './seeded-dropout.js';
import { SpectralConv } from './spectral-conv.js';
import { SubSpectralNorm } from './sub-spectral-norm.js';
import { TemporalConv } from './temporal-conv.js';

let registered = false;

/** The custom layer classes, by serialised class name. */
export const KWS_LAYER_CLASSES = {
  SubSpectralNorm,
  TemporalConv,
  SpectralConv,
  FrequencyMean,
  ChannelDropout,
  SeededDropout,
  AttentionPooling,
} as const;

/**
 * Registers every kws-kit layer class with `tf.serialization.registerClass`. Idempotent: later
 * calls do nothing.
 */
export function registerKwsLayers(): void {
  if (registered) return;
  for (const cls of Object.values(KWS_LAYER_CLASSES)) tf.serialization.registerClass(cls);
  registered = true;
}
