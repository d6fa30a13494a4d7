import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { useOutpost } from '../../store/context';

const BINS = 40;

/** Histogram (bars, counts) and CDF (line, % of answered probes at or below) of what is in view. */
export function histogramAndCdf(values: ArrayLike<number>): { x: number[]; counts: number[]; cdf: number[] } {
  const answered = Float64Array.from(Array.prototype.filter.call(values, (v: number) => v === v) as number[]).sort();
  const n = answered.length;
  if (n === 0) return { x: [], counts: [], cdf: [] };
  const lo = answered[0] as number;
  const hi = answered[n - 1] as number;
  const width = hi > lo ? (hi - lo) / BINS : 1;
  const counts = new Array<number>(BINS).fill(0);
  for (const v of answered) counts[Math.min(BINS - 1, Math.floor((v - lo) / width))]! += 1;
  const x = counts.map((_, i) => lo + (i + 0.5) * width);
  let running = 0;
  const cdf = counts.map((c) => ((running += c) / n) * 100);
  return { x, counts, cdf };
}

/** Recomputed once a second from the series' last `spanS` seconds (0 = everything kept), never per sample. */
export function DistributionChart({ seriesId, color, spanS, height = 150 }: { seriesId: string; color: string; spanS: number; height?: number }) {
  const live = useOutpost((s) => s.liveSamples);
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    const u = new uPlot(
      {
        width: Math.max(240, element.clientWidth),
        height,
        legend: { show: true, live: true },
        scales: { x: { time: false }, y: { auto: true }, pct: { range: [0, 100] } },
        axes: [
          { stroke: '#8a94a0', values: (_u, t) => t.map((v) => `${v.toFixed(1)} ms`) },
          { stroke: '#8a94a0', size: 50, label: 'count' },
          { side: 1, scale: 'pct', stroke: '#8a94a0', size: 50, grid: { show: false }, values: (_u, t) => t.map((v) => `${v}%`) },
        ],
        series: [
          { value: (_u, v) => (v == null ? '—' : `${v.toFixed(2)} ms`) },
          { label: 'count', fill: `${color}55`, stroke: color, paths: uPlot.paths.bars?.({ size: [0.9, 60] }), points: { show: false } },
          { label: 'CDF %', scale: 'pct', stroke: '#e8590c', width: 1.5, points: { show: false }, value: (_u, v) => (v == null ? '—' : `${v.toFixed(1)}%`) },
        ],
      },
      [[], [], []],
      element,
    );
    const refresh = () => {
      const s = live.get(seriesId);
      if (!s) return;
      const from = spanS > 0 ? s.buffer.indexAtOrAfter((s.buffer.lastTime() ?? 0) - spanS * 1000) : 0;
      const { x, counts, cdf } = histogramAndCdf(s.buffer.view().values.subarray(from));
      u.setData([x, counts, cdf]);
      element.dataset.points = String(counts.reduce((a, b) => a + b, 0));
    };
    refresh();
    const timer = setInterval(refresh, 1000);
    const observer = new ResizeObserver(() => u.setSize({ width: Math.max(240, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      clearInterval(timer);
      observer.disconnect();
      u.destroy();
    };
  }, [seriesId, color, spanS, height, live]);
  return <div ref={host} data-testid="latency-distribution" />;
}
