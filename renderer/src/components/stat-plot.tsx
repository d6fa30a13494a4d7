import 'uplot/dist/uPlot.min.css';
import { Paper, Text } from '@mantine/core';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface PlotSeries {
  label: string;
  color: string;
  values: number[];
}

export interface StatPlotProps {
  title: string;
  /** x values, seconds since the epoch. */
  time: number[];
  series: PlotSeries[];
  formatValue(value: number): string;
  height?: number;
  testId?: string;
}

/** A small live time-series plot (uPlot on a canvas): redraws with new data, never re-creates itself. */
export function StatPlot({ title, time, series, formatValue, height = 160, testId }: StatPlotProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const format = useRef(formatValue);
  format.current = formatValue;
  const shape = series.map((s) => `${s.label}:${s.color}`).join('|');

  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.15 : 1] } },
      axes: [
        { stroke: '#8a94a0', grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.25)' } },
        { stroke: '#8a94a0', size: 70, grid: { stroke: 'rgba(128,128,128,0.15)' }, values: (_u, ticks) => ticks.map((t) => format.current(t)) },
      ],
      series: [{}, ...shape.split('|').map((entry) => {
        const [label, color] = entry.split(':');
        return { label, stroke: color, width: 1.5, fill: `${color}22`, value: (_u: uPlot, v: number | null) => (v === null ? '—' : format.current(v)) };
      })],
    };
    const instance = new uPlot(options, [[]], element);
    plot.current = instance;
    const observer = new ResizeObserver(() => instance.setSize({ width: Math.max(200, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      instance.destroy();
      plot.current = null;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData([time, ...series.map((s) => s.values)]);
  }, [time, series]);

  return (
    <Paper withBorder radius="md" p="sm" data-testid={testId} data-points={time.length}>
      <Text size="sm" fw={600} mb={4}>
        {title}
      </Text>
      <div ref={host} />
    </Paper>
  );
}
