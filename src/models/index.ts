/**
 * `kws-kit/models`: BC-ResNet and CRNN factories, profiler, save/load, training and pretrained
 * models. Not built yet: this entry point exists so that the package's export map is stable;
 * its contents arrive with the models-and-training work.
 *
 * @packageDocumentation
 */
export {};
