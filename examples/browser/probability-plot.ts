/**
 * A scrolling plot of the keyword probabilities on a canvas: one line per keyword over the last
 * `spanMs` of stream time, the detection threshold as a dashed line, detections as labelled ticks.
 * Points arrive with each model run; drawing happens once per animation frame.
 */

/** One model run's smoothed probabilities, in label order. */
export interface ScorePoint {
  /** Stream time in ms. */
  timeMs: number;
  scores: ArrayLike<number>;
}

const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

export class ProbabilityPlot {
  private readonly canvas: HTMLCanvasElement;
  private readonly labels: readonly string[];
  /** Indices (in the model's label order) of the plotted labels. */
  private readonly plotted: number[];
  private readonly threshold: number;
  private readonly spanMs: number;
  private points: ScorePoint[] = [];
  private marks: { timeMs: number; label: string }[] = [];
  private frameRequested = false;

  /**
   * @param canvas where to draw.
   * @param labels the model's labels, in output order.
   * @param keywords the labels to plot.
   * @param threshold drawn as a dashed line.
   * @param spanMs stream time shown, in ms. Default 10 000.
   */
  constructor(
    canvas: HTMLCanvasElement,
    labels: readonly string[],
    keywords: readonly string[],
    threshold: number,
    spanMs = 10_000,
  ) {
    this.canvas = canvas;
    this.labels = labels;
    this.plotted = keywords.map((k) => labels.indexOf(k)).filter((i) => i >= 0);
    this.threshold = threshold;
    this.spanMs = spanMs;
    this.requestDraw();
  }

  /** Adds one model run's probabilities. */
  push(point: ScorePoint): void {
    this.points.push({ timeMs: point.timeMs, scores: Array.from(point.scores) });
    this.requestDraw();
  }

  /** Marks a detection. */
  mark(timeMs: number, label: string): void {
    this.marks.push({ timeMs, label });
    this.requestDraw();
  }

  private requestDraw(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.draw();
    });
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (ctx === null) return;
    const { width, height } = this.canvas;
    const pad = { left: 36, right: 90, top: 10, bottom: 22 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const last = this.points.at(-1);
    const end = Math.max(this.spanMs, last?.timeMs ?? 0);
    const start = end - this.spanMs;
    // Old points are dropped so memory stays bounded on a long session.
    this.points = this.points.filter((p) => p.timeMs >= start - 1000);
    this.marks = this.marks.filter((m) => m.timeMs >= start);
    const x = (t: number): number => pad.left + ((t - start) / this.spanMs) * plotW;
    const y = (p: number): number => pad.top + (1 - p) * plotH;

    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.strokeStyle = '#ccc';
    ctx.fillStyle = '#555';
    ctx.lineWidth = 1;
    ctx.setLineDash([]);
    for (const p of [0, 0.5, 1]) {
      ctx.beginPath();
      ctx.moveTo(pad.left, y(p));
      ctx.lineTo(pad.left + plotW, y(p));
      ctx.stroke();
      ctx.fillText(p.toFixed(1), 4, y(p) + 4);
    }
    for (let s = Math.ceil(start / 1000); s * 1000 <= end; s++) {
      ctx.fillText(`${s}s`, x(s * 1000) - 6, height - 6);
    }
    ctx.strokeStyle = '#999';
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(pad.left, y(this.threshold));
    ctx.lineTo(pad.left + plotW, y(this.threshold));
    ctx.stroke();
    ctx.setLineDash([]);

    for (const [k, index] of this.plotted.entries()) {
      const color = COLORS[k % COLORS.length] ?? '#000';
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let started = false;
      for (const p of this.points) {
        if (p.timeMs < start) continue;
        const px = x(p.timeMs);
        const py = y(p.scores[index] ?? 0);
        if (started) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        started = true;
      }
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.fillText(this.labels[index] ?? '', pad.left + plotW + 8, pad.top + 12 + 13 * k);
    }

    ctx.fillStyle = '#000';
    ctx.strokeStyle = '#000';
    for (const m of this.marks) {
      ctx.beginPath();
      ctx.moveTo(x(m.timeMs), pad.top);
      ctx.lineTo(x(m.timeMs), pad.top + plotH);
      ctx.stroke();
      ctx.fillText(m.label, x(m.timeMs) + 3, pad.top + 10);
    }
  }
}
