import type { LatencySummaryWire, SampleBatch, SeriesWindow, ThresholdState } from '../../../shared/contract';
import { SeriesBuffer } from '../../../shared/latency/series-buffer';

/** One series as the plots see it: the ring (x and NaN-for-loss values, contiguous), and a version to skip redraws. */
export interface LiveSeries {
  buffer: SeriesBuffer;
  /** uPlot draws gaps from nulls, which a Float64Array cannot hold: this array is refilled from the ring when drawn. */
  y: Array<number | null>;
  version: number;
  stats: LatencySummaryWire | null;
  state: ThresholdState | null;
}

// Two hours at 10 Hz, or one at 20 Hz: what the core keeps too.
export const LIVE_CAPACITY = 72_000;

/**
 * Samples live here, outside React state: batches from `latency:samples` are appended to rings, and the plots'
 * one requestAnimationFrame loop reads them. React re-renders on none of it.
 */
export class LiveSamples {
  private readonly series = new Map<string, LiveSeries>();
  /** Bumped on every batch; a frame with nothing new skips all work. */
  version = 0;
  /** Series whose history (`latency:window`) was merged in; live batches alone do not count. */
  private readonly withHistory = new Set<string>();

  constructor(private readonly capacity = LIVE_CAPACITY) {}

  get(id: string): LiveSeries | undefined {
    return this.series.get(id);
  }

  ensure(id: string): LiveSeries {
    let s = this.series.get(id);
    if (!s) {
      s = { buffer: new SeriesBuffer(this.capacity), y: [], version: 0, stats: null, state: null };
      this.series.set(id, s);
    }
    return s;
  }

  apply(batch: SampleBatch): void {
    for (const b of batch.series) {
      const s = this.ensure(b.id);
      const last = s.buffer.lastTime() ?? -Infinity;
      for (let i = 0; i < b.t.length; i++) {
        const t = b.t[i] as number;
        // A window fetched after this batch was sent may already hold it: never append a sample twice.
        if (t <= last) continue;
        const v = b.v[i];
        s.buffer.push(t, v === null || v === undefined ? NaN : v);
      }
      if (b.stats) s.stats = b.stats;
      if (b.state) s.state = b.state;
      s.version++;
    }
    this.version++;
  }

  /** History fetched with `latency:window` (the view opened after the series started); newer live samples win. */
  hasHistory(id: string): boolean {
    return this.withHistory.has(id);
  }

  load(window: SeriesWindow): void {
    this.withHistory.add(window.seriesId);
    const s = this.ensure(window.seriesId);
    const existing = { t: Array.from(s.buffer.view().times), v: Array.from(s.buffer.view().values) };
    s.buffer.clear();
    const firstLive = existing.t[0] ?? Infinity;
    for (let i = 0; i < window.t.length; i++) {
      const t = window.t[i] as number;
      if (t >= firstLive) break;
      const v = window.v[i];
      s.buffer.push(t, v === null || v === undefined ? NaN : v);
    }
    for (let i = 0; i < existing.t.length; i++) s.buffer.push(existing.t[i] as number, existing.v[i] as number);
    s.version++;
    this.version++;
  }

  drop(id: string): void {
    this.series.delete(id);
    this.withHistory.delete(id);
    this.version++;
  }

  /** Refills `y` from the ring (NaN → null) and returns uPlot's data; x is a view of the ring, not a copy. */
  plotData(id: string): [Float64Array, Array<number | null>] | null {
    const s = this.series.get(id);
    if (!s) return null;
    const { times, values } = s.buffer.view();
    const y = s.y;
    y.length = values.length;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      y[i] = v === v ? v : null; // v !== v only for NaN
    }
    return [times, y];
  }
}
