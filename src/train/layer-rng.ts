/**
 * The random generators inside a model's seeded layers (kws-kit's `ChannelDropout` draws its
 * masks from an advancing seeded generator), so that the training loop can seed them from the run's
 * seed and save and restore their positions in checkpoints.
 *
 * A layer takes part when it exposes `getRngState()` / `setRngState(state)` (as `ChannelDropout`
 * and `SeededDropout` do). Layers drawing from tfjs's own
 * random ops (tfjs-layers `Dropout`, `GaussianNoise`) cannot be seeded per step from outside;
 * a model using them trains, but not reproducibly.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { RngState } from '../random.js';

/** One seeded layer's generator. */
export interface LayerRng {
  /** Layer name (unique within a model). */
  name: string;
  getState(): RngState;
  setState(state: RngState): void;
}

interface StateMethods {
  getRngState(): RngState;
  setRngState(state: RngState): void;
}

function hasStateMethods(layer: object): layer is StateMethods {
  const l = layer as Partial<StateMethods>;
  return typeof l.getRngState === 'function' && typeof l.setRngState === 'function';
}

function collect(layers: readonly tfl.layers.Layer[], out: LayerRng[]): void {
  for (const layer of layers) {
    const nested = (layer as unknown as { layers?: unknown }).layers;
    if (Array.isArray(nested)) collect(nested as tfl.layers.Layer[], out);
    if (hasStateMethods(layer)) {
      out.push({
        name: layer.name,
        getState: () => layer.getRngState(),
        setState: (s) => layer.setRngState(s),
      });
    }
  }
}

/** The seeded layers of `model` (nested models included), in layer order. */
export function layerRngs(model: tfl.LayersModel): LayerRng[] {
  const out: LayerRng[] = [];
  collect(model.layers, out);
  return out;
}
