import { randomUUID } from 'node:crypto';
import type { SampleBatch, SeriesInfo, Thresholds, ThresholdState } from '../../../shared/contract/latency';
import { SeriesBuffer, HOUR_AT_20HZ } from '../../../shared/latency/series-buffer';
import { roundSummary, summarize, type LatencySummary } from '../../../shared/latency/stats';
import { toErrorBody } from '../../../shared/errors';
import { monotonicEpochMs } from './clock';
import type { Probe } from './probes';

/** Rolling figures (graph bands, thresholds, the list) cover the last minute. */
export const WINDOW_MS = 60_000;
/** A target that stopped answering can hold at most this many probes of its series in flight. */
export const MAX_IN_FLIGHT_PER_SERIES = 4;
/** And all series together at most this many: 200 targets at 10 Hz with normal answers stay far below it. */
export const MAX_IN_FLIGHT_TOTAL = 1024;
const BATCH_MS = 100;
const STATS_EVERY_MS = 500;

export interface SeriesSpec {
  deviceId: string;
  deviceName: string;
  target: string;
  onDevice: boolean;
  intervalMs: number;
  timeoutMs: number;
  thresholds: Thresholds;
  /** Not listed, not streamed: a one-shot measurement (CLI) or the A/B lab's own probing. */
  quiet?: boolean;
}

interface Pending {
  t: number;
  done: boolean;
  ms: number;
  ttfb: number;
}

export interface Series {
  id: string;
  spec: SeriesSpec;
  probe: Probe;
  buffer: SeriesBuffer;
  ttfb: SeriesBuffer | null;
  startedAt: string;
  running: boolean;
  probeClosed: boolean;
  inFlight: number;
  /** Ticks not sent because the series' in-flight cap was full (a dead target). */
  skipped: number;
  pending: Pending[];
  fresh: { t: number[]; v: Array<number | null> };
  stats: LatencySummary;
  ttfbStats: LatencySummary | null;
  statsAt: number;
  state: ThresholdState;
  lastError: { kind: string; message: string } | null;
  timer: NodeJS.Timeout | null;
  tick: number;
  t0: number;
  idle: Array<() => void>;
}

export interface MonitorEvents {
  samples(batch: SampleBatch): void;
  threshold(series: Series, previous: ThresholdState): void;
}

export function thresholdState(stats: LatencySummary, limits: Thresholds): ThresholdState {
  if (stats.count === 0) return 'no-data';
  if (limits.lossPct !== null && stats.lossPct > limits.lossPct) return 'loss';
  if (limits.p95Ms !== null && stats.p95 !== null && stats.p95 > limits.p95Ms) return 'p95';
  if (stats.p95 === null) return limits.p95Ms !== null ? 'loss' : 'ok';
  return 'ok';
}

/**
 * Runs every series' probe on its own schedule (ticks at start + k·interval, so a slow tick never drifts the rest),
 * keeps results in send order even when answers arrive out of order, and hands new samples to the transport in
 * batches about every 100 ms.
 */
export class Monitor {
  private readonly series = new Map<string, Series>();
  private totalInFlight = 0;
  private batchTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly events: MonitorEvents,
    private readonly capacity = HOUR_AT_20HZ,
  ) {}

  start(spec: SeriesSpec, probe: Probe): Series {
    const now = monotonicEpochMs();
    const s: Series = {
      id: randomUUID(),
      spec,
      probe,
      buffer: new SeriesBuffer(this.capacity),
      ttfb: null,
      startedAt: new Date().toISOString(),
      running: true,
      probeClosed: false,
      inFlight: 0,
      skipped: 0,
      pending: [],
      fresh: { t: [], v: [] },
      stats: summarize([]),
      ttfbStats: null,
      statsAt: 0,
      state: 'no-data',
      lastError: null,
      timer: null,
      tick: 0,
      t0: now,
      idle: [],
    };
    this.series.set(s.id, s);
    this.schedule(s);
    this.ensureBatching();
    return s;
  }

  get(id: string): Series | undefined {
    return this.series.get(id);
  }

  all(): Series[] {
    return [...this.series.values()];
  }

  /** Stops probing; the samples stay for the graph and recordings until removed. Resolves once nothing is in flight. */
  stop(id: string): Promise<void> {
    const s = this.series.get(id);
    if (!s) return Promise.resolve();
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.running = false;
    // Probes in flight finish (answer or time out) before the probe's connection is closed under them.
    if (s.inFlight === 0) {
      this.closeProbe(s);
      return Promise.resolve();
    }
    return new Promise((resolve) => s.idle.push(resolve));
  }

  remove(id: string): boolean {
    const s = this.series.get(id);
    if (!s) return false;
    void this.stop(id);
    this.series.delete(id);
    return true;
  }

  async close(): Promise<void> {
    for (const id of [...this.series.keys()]) this.remove(id);
    if (this.batchTimer) clearInterval(this.batchTimer);
    this.batchTimer = null;
  }

  private closeProbe(s: Series): void {
    if (s.probeClosed) return;
    s.probeClosed = true;
    s.probe.close();
  }

  private schedule(s: Series): void {
    if (!s.running) return;
    const due = s.t0 + s.tick * s.spec.intervalMs;
    s.timer = setTimeout(() => this.fire(s), Math.max(0, due - monotonicEpochMs()));
  }

  private fire(s: Series): void {
    if (!s.running) return;
    const now = monotonicEpochMs();
    // Ticks missed while the event loop was busy are not sent late in a burst: skip to the next one due.
    s.tick = Math.max(s.tick + 1, Math.floor((now - s.t0) / s.spec.intervalMs) + 1);
    if (s.inFlight >= MAX_IN_FLIGHT_PER_SERIES || this.totalInFlight >= MAX_IN_FLIGHT_TOTAL) s.skipped++;
    else this.send(s, now);
    this.schedule(s);
  }

  private send(s: Series, t: number): void {
    const slot: Pending = { t, done: false, ms: NaN, ttfb: NaN };
    s.pending.push(slot);
    s.inFlight++;
    this.totalInFlight++;
    const settle = () => {
      slot.done = true;
      s.inFlight--;
      this.totalInFlight--;
      this.drain(s);
      if (s.inFlight === 0 && !s.running) {
        this.closeProbe(s);
        for (const resolve of s.idle.splice(0)) resolve();
      }
    };
    let promise: Promise<{ ms: number; ttfbMs?: number }>;
    try {
      promise = s.probe.run(s.spec.timeoutMs);
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(
      (r) => {
        slot.ms = r.ms;
        if (r.ttfbMs !== undefined) slot.ttfb = r.ttfbMs;
        settle();
      },
      (err: unknown) => {
        const body = toErrorBody(err);
        s.lastError = { kind: body.kind, message: body.message };
        settle();
      },
    );
  }

  /** Moves finished probes into the ring in send order; an unfinished older probe holds back newer answers. */
  private drain(s: Series): void {
    while (s.pending.length && (s.pending[0] as Pending).done) {
      const p = s.pending.shift() as Pending;
      s.buffer.push(p.t, p.ms);
      if (!Number.isNaN(p.ttfb)) {
        s.ttfb ??= new SeriesBuffer(this.capacity);
      }
      s.ttfb?.push(p.t, p.ttfb);
      s.fresh.t.push(p.t);
      s.fresh.v.push(Number.isNaN(p.ms) ? null : p.ms);
    }
  }

  /** Rolling figures over the last WINDOW_MS (or `sinceMs`). */
  windowStats(s: Series, sinceMs = monotonicEpochMs() - WINDOW_MS): { stats: LatencySummary; ttfb: LatencySummary | null } {
    const from = s.buffer.indexAtOrAfter(sinceMs);
    const stats = roundSummary(summarize(s.buffer.view().values, from));
    const ttfb = s.ttfb ? roundSummary(summarize(s.ttfb.view().values, s.ttfb.indexAtOrAfter(sinceMs))) : null;
    return { stats, ttfb };
  }

  refreshStats(s: Series): void {
    const { stats, ttfb } = this.windowStats(s);
    s.stats = stats;
    s.ttfbStats = ttfb;
    s.statsAt = monotonicEpochMs();
    const next = thresholdState(stats, s.spec.thresholds);
    if (next !== s.state) {
      const previous = s.state;
      s.state = next;
      if (!s.spec.quiet) this.events.threshold(s, previous);
    }
  }

  private ensureBatching(): void {
    if (this.batchTimer) return;
    this.batchTimer = setInterval(() => this.flush(), BATCH_MS);
    this.batchTimer.unref?.();
  }

  /** One event for every series that got samples since the last one (and fresh rolling figures every ~500 ms). */
  flush(): void {
    const now = monotonicEpochMs();
    const batch: SampleBatch['series'] = [];
    for (const s of this.series.values()) {
      const statsDue = now - s.statsAt >= STATS_EVERY_MS && (s.fresh.t.length > 0 || s.running);
      if (statsDue) this.refreshStats(s);
      if (s.spec.quiet) {
        s.fresh = { t: [], v: [] };
        continue;
      }
      if (s.fresh.t.length === 0 && !statsDue) continue;
      batch.push({ id: s.id, t: s.fresh.t, v: s.fresh.v, ...(statsDue ? { stats: s.stats, state: s.state } : {}) });
      s.fresh = { t: [], v: [] };
    }
    if (batch.length) this.events.samples({ series: batch });
  }

  info(s: Series): SeriesInfo {
    return {
      id: s.id,
      deviceId: s.spec.deviceId,
      deviceName: s.spec.deviceName,
      target: s.spec.target,
      onDevice: s.spec.onDevice,
      method: s.probe.method,
      label: `${s.spec.deviceName} · ${s.spec.target}${s.spec.onDevice ? ' (on device)' : ''}`,
      intervalMs: s.spec.intervalMs,
      timeoutMs: s.spec.timeoutMs,
      running: s.running,
      startedAt: s.startedAt,
      windowMs: WINDOW_MS,
      stats: s.stats,
      ttfb: s.ttfbStats,
      thresholds: s.spec.thresholds,
      state: s.state,
      lastError: s.lastError,
    };
  }
}
