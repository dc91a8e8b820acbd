/**
 * `kws-kit/quantize`: post-training quantization, quantization-aware training, pruning and
 * export. Not built yet: this entry point exists so that the package's export map is stable.
 *
 * @packageDocumentation
 */
export {};
