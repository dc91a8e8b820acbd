/**
 * Internal plotting helpers: small, dependency-free SVG charts for the demo, benchmark and report
 * scripts (line plots with event markers and bands, scatter plots with Pareto fronts, heatmaps).
 * Pure functions returning SVG text; not part of the package's public surface.
 *
 * @packageDocumentation
 */
export { type HeatmapOptions, heatmap } from './heatmap.js';
export { linePlot, type PlotSeries } from './line-plot.js';
export { paretoFront, type ScatterPlotOptions, type ScatterPoint, scatterPlot } from './scatter-plot.js';
export {
  escapeXml,
  formatNumber,
  formatTick,
  linearScale,
  logScale,
  logTicks,
  niceTicks,
  PALETTE,
  PLOT_MARGIN,
  type PlotArea,
  type PlotBand,
  type PlotMarker,
  type PlotOptions,
  plotArea,
  type Scale,
} from './svg.js';
