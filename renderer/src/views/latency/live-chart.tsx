import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import type { Thresholds } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { onFrame } from './frame-loop';

export interface LiveChartProps {
  seriesId: string;
  color: string;
  /** Seconds of history in view while live; 0 = everything kept. */
  spanS: number;
  paused: boolean;
  thresholds: Thresholds;
  height?: number;
  /** Set by the chart when the technician zooms (drag) or pans; "Live" clears it. */
  zoomed: boolean;
  onZoomed(zoomed: boolean): void;
  /** Pan request: −1 back, +1 forward, by half the visible span (a counter, so each click is one step). */
  pan: { dir: -1 | 1; n: number } | null;
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'lost' : `${v.toFixed(2)} ms`);

/**
 * A live latency line for one device and target (uPlot; created once, fed through the shared frame loop):
 * gaps where probes were lost, the last minute's p50–p95 band and p99 line, and the p95 limit dashed in red.
 */
export function LiveChart({ seriesId, color, spanS, paused, thresholds, height = 150, zoomed, onZoomed, pan }: LiveChartProps) {
  const live = useOutpost((s) => s.liveSamples);
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const props = useRef({ spanS, paused, thresholds, zoomed, onZoomed });
  props.current = { spanS, paused, thresholds, zoomed, onZoomed };
  const drawn = useRef(-1);

  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    const bands = (u: uPlot) => {
      const stats = live.get(seriesId)?.stats;
      const { ctx, bbox } = u;
      const y = (v: number) => u.valToPos(v, 'y', true);
      ctx.save();
      ctx.beginPath();
      ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
      ctx.clip();
      if (stats?.p50 != null && stats.p95 != null) {
        ctx.fillStyle = `${color}26`;
        ctx.fillRect(bbox.left, y(stats.p95), bbox.width, Math.max(1, y(stats.p50) - y(stats.p95)));
      }
      if (stats?.p99 != null) {
        ctx.strokeStyle = `${color}99`;
        ctx.setLineDash([2, 3]);
        ctx.beginPath();
        ctx.moveTo(bbox.left, y(stats.p99));
        ctx.lineTo(bbox.left + bbox.width, y(stats.p99));
        ctx.stroke();
      }
      const limit = props.current.thresholds.p95Ms;
      if (limit !== null) {
        ctx.strokeStyle = '#e03131';
        ctx.lineWidth = 1.5;
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(bbox.left, y(limit));
        ctx.lineTo(bbox.left + bbox.width, y(limit));
        ctx.stroke();
      }
      ctx.restore();
    };
    const options: uPlot.Options = {
      width: Math.max(240, element.clientWidth),
      height,
      ms: 1,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false, setScale: true } },
      scales: {
        x: { time: true },
        y: {
          range: (_u, min, max) => {
            const limit = props.current.thresholds.p95Ms ?? 0;
            const top = Math.max(max ?? 0, limit, live.get(seriesId)?.stats?.p99 ?? 0);
            return [Math.min(0, min ?? 0), top > 0 ? top * 1.15 : 1];
          },
        },
      },
      axes: [
        { stroke: '#8a94a0', grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.25)' } },
        { stroke: '#8a94a0', size: 76, grid: { stroke: 'rgba(128,128,128,0.15)' }, values: (_u, ticks) => ticks.map((t) => `${t >= 100 ? t.toFixed(0) : Number(t.toPrecision(3))} ms`) },
      ],
      series: [{ value: (_u, v) => (v == null ? '—' : new Date(v).toLocaleTimeString()) }, { label: 'latency', stroke: color, width: 1.25, spanGaps: false, points: { show: false }, value: (_u, v, _s, idx) => (idx == null ? '—' : fmt(v)) }],
      hooks: {
        draw: [bands],
        setSelect: [
          (u) => {
            if (u.select.width > 0) props.current.onZoomed(true);
          },
        ],
      },
    };
    const u = new uPlot(options, [[], []], element);
    plot.current = u;
    drawn.current = -1;
    const observer = new ResizeObserver(() => u.setSize({ width: Math.max(240, element.clientWidth), height }));
    observer.observe(element);
    // A plot scrolled out of view is not drawn (it catches up in one draw when it comes back).
    let visible = true;
    const seen = new IntersectionObserver((entries) => {
      visible = entries.some((e) => e.isIntersecting);
      element.dataset.visible = String(visible);
    });
    seen.observe(element);
    const off = onFrame(() => {
      const entry = live.get(seriesId);
      if (!entry || !visible || entry.version === drawn.current || props.current.paused) return;
      drawn.current = entry.version;
      const data = live.plotData(seriesId);
      if (!data) return;
      const [x] = data;
      const last = x[x.length - 1];
      // One commit for the new data and the moved window, not two redraws.
      u.batch(() => {
        u.setData(data as uPlot.AlignedData, false);
        if (!props.current.zoomed && last !== undefined) {
          const span = props.current.spanS;
          u.setScale('x', { min: span > 0 ? last - span * 1000 : (x[0] as number), max: last });
        }
      });
      element.dataset.points = String(x.length);
      element.dataset.lastTime = String(last ?? '');
      element.dataset.draws = String(Number(element.dataset.draws ?? 0) + 1);
    });
    return () => {
      off();
      seen.disconnect();
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [seriesId, color, height, live]);

  // Back to live: redraw on the next frame with the span window.
  useEffect(() => {
    if (!zoomed) drawn.current = -1;
  }, [zoomed, spanS, paused, thresholds]);

  useEffect(() => {
    const u = plot.current;
    if (!pan || !u) return;
    const min = u.scales.x.min ?? 0;
    const max = u.scales.x.max ?? 0;
    const step = ((max - min) / 2) * pan.dir;
    u.setScale('x', { min: min + step, max: max + step });
    props.current.onZoomed(true);
  }, [pan]);

  return <div ref={host} data-testid="latency-plot" data-series={seriesId} />;
}
