/**
 * The order in which tfjs-layers calls a functional model's layers in `model.apply(x)`.
 *
 * Why: seeded layers that draw from a generator on every call (kws-kit's `ChannelDropout`) must
 * draw in the compiled trainer in the order tfjs draws, or the two paths would give the same
 * layers different masks. That order is not `model.layers` (layers sorted by depth) but the
 * post-order of the depth-first walk tfjs-layers' executor makes from the output back to the
 * input (`getTopologicalSortAndRecipientCountsForOneFetch` in its `engine/executor.js`): a
 * tensor's inputs are pushed on a stack in order, so the **last** input's subgraph runs first.
 *
 * @internal
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * The layers of a single-output `model` in the order `model.apply` calls them (the input layer
 * excluded; a layer called more than once appears once per output tensor).
 */
export function layerCallOrder(model: tfl.LayersModel): tfl.layers.Layer[] {
  const visited = new Set<string>(model.inputs.map((t) => t.name));
  const sorted: tfl.SymbolicTensor[] = [];
  const stack: tfl.SymbolicTensor[] = [...model.outputs.slice(0, 1)];
  // Stack positions of tensors whose inputs were pushed: they are emitted when on top again.
  const marks: number[] = [];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as tfl.SymbolicTensor;
    if (visited.has(top.name)) {
      stack.pop();
      continue;
    }
    const marked = marks[marks.length - 1] === stack.length - 1;
    if (top.inputs.length === 0 || marked) {
      stack.pop();
      sorted.push(top);
      visited.add(top.name);
      if (marked) marks.pop();
      continue;
    }
    marks.push(stack.length - 1);
    for (const input of top.inputs) if (!visited.has(input.name)) stack.push(input);
  }
  return sorted.map((t) => t.sourceLayer).filter((layer) => layer.getClassName() !== 'InputLayer');
}
