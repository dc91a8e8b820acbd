/**
 * `kws-kit/distill`: knowledge-distillation losses and the `distill()` loop. Not built yet:
 * this entry point exists so that the package's export map is stable.
 *
 * @packageDocumentation
 */
export {};
