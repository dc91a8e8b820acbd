/**
 * `kws-kit/streaming`: `StreamingKWS`, keyword events from audio pushed in chunks of any size.
 * Not built yet: this entry point exists so that the package's export map is stable. The
 * streaming *feature* extractor it will build on is `StreamingFeatureExtractor` in
 * `kws-kit/features`.
 *
 * @packageDocumentation
 */
export {};
