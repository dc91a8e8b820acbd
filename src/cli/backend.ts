/**
 * Backend choice for the command-line tool. The library never picks a backend; the CLI is an
 * application, so it does, when asked (`--backend`), defaulting to wasm (the fast one in Node).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../errors.js';

/** Backends the CLI can select. */
export type CliBackend = 'wasm' | 'cpu';

/** Loads the backend package, makes it current and returns its name. */
export async function useBackend(name: CliBackend): Promise<string> {
  try {
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    else await import('@tensorflow/tfjs-backend-cpu');
  } catch {
    throw new KwsError(
      'NOT_FOUND',
      `the ${name} backend is not installed; run: npm install @tensorflow/tfjs-backend-${name}`,
    );
  }
  tf.enableProdMode();
  // setBackend resolves false (no throw) when the backend fails to initialise.
  if (!(await tf.setBackend(name))) {
    throw new KwsError('INVALID_ARGUMENT', `the ${name} backend failed to initialise`);
  }
  await tf.ready();
  return tf.getBackend();
}
