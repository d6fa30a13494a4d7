import { ActionIcon, Badge, Button, Group, NumberInput, Paper, Popover, SegmentedControl, Stack, Text, Tooltip } from '@mantine/core';
import { memo, useEffect, useState } from 'react';
import type { SeriesInfo, ThresholdState } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { DistributionChart } from './distribution-chart';
import { LiveChart } from './live-chart';

const STATE_COLOR: Record<ThresholdState, string> = { ok: 'teal', p95: 'red', loss: 'red', 'no-data': 'gray' };
const STATE_LABEL: Record<ThresholdState, string> = { ok: 'within limits', p95: 'p95 over limit', loss: 'loss over limit', 'no-data': 'no data' };
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));

/** The rolling figures under a plot, re-read twice a second from the live store (not on every sample). */
function Figures({ seriesId }: { seriesId: string }) {
  const live = useOutpost((s) => s.liveSamples);
  const [stats, setStats] = useState(live.get(seriesId)?.stats ?? null);
  useEffect(() => {
    const timer = setInterval(() => setStats(live.get(seriesId)?.stats ?? null), 500);
    return () => clearInterval(timer);
  }, [live, seriesId]);
  const cell = (label: string, value: string, id: string) => (
    <Text size="xs" c="dimmed" data-testid={`latency-${id}`}>
      {label} <b>{value}</b>
    </Text>
  );
  return (
    <Group gap="md" wrap="wrap">
      {cell('p50', ms(stats?.p50), 'p50')}
      {cell('p95', ms(stats?.p95), 'p95')}
      {cell('p99', ms(stats?.p99), 'p99')}
      {cell('max', ms(stats?.max), 'max')}
      {cell('jitter', ms(stats?.jitter), 'jitter')}
      {cell('loss', stats ? `${stats.lossPct}%` : '—', 'loss')}
      {cell('n', String(stats?.count ?? 0), 'count')}
    </Group>
  );
}

function LimitsEditor({ series }: { series: SeriesInfo }) {
  const setThresholds = useOutpost((s) => s.setThresholds);
  const [p95, setP95] = useState<number | string>(series.thresholds.p95Ms ?? '');
  const [loss, setLoss] = useState<number | string>(series.thresholds.lossPct ?? '');
  const [open, setOpen] = useState(false);
  const value = (v: number | string) => (v === '' ? null : Number(v));
  return (
    <Popover opened={open} onChange={setOpen} width={240} position="bottom-end">
      <Popover.Target>
        <Button size="compact-xs" variant="subtle" onClick={() => setOpen((o) => !o)} data-testid="latency-limits-open">
          Limits
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="xs">
          <NumberInput label="p95 limit (ms)" size="xs" min={0} value={p95} onChange={setP95} data-testid="latency-limit-p95" />
          <NumberInput label="loss limit (%)" size="xs" min={0} max={100} value={loss} onChange={setLoss} data-testid="latency-limit-loss" />
          <Button
            size="xs"
            data-testid="latency-limits-save"
            onClick={() => {
              setOpen(false);
              void setThresholds(series.id, { p95Ms: value(p95), lossPct: value(loss) });
            }}
          >
            Save limits
          </Button>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}

export interface SeriesCardProps {
  series: SeriesInfo;
  color: string;
  spanS: number;
  paused: boolean;
}

/** One device · target: live line (or histogram/CDF), rolling figures, limits, and its controls. */
export const SeriesCard = memo(function SeriesCard({ series, color, spanS, paused }: SeriesCardProps) {
  const state = useOutpost((s) => s.latencyStates[series.id] ?? series.state);
  const stopProbe = useOutpost((s) => s.stopProbe);
  const removeProbe = useOutpost((s) => s.removeProbe);
  const [mode, setMode] = useState<'time' | 'distribution'>('time');
  const [zoomed, setZoomed] = useState(false);
  const [pan, setPan] = useState<{ dir: -1 | 1; n: number } | null>(null);
  const step = (dir: -1 | 1) => setPan((p) => ({ dir, n: (p?.n ?? 0) + 1 }));
  return (
    <Paper withBorder radius="md" p="sm" data-testid="latency-series" data-target={series.target} data-device={series.deviceName} data-state={state}>
      <Group gap={6} mb={2} wrap="nowrap" style={{ minWidth: 0 }}>
        <span style={{ width: 10, height: 10, borderRadius: 5, background: color, flex: 'none' }} />
        <Text size="sm" fw={600} truncate>
          {series.label}
        </Text>
        <Tooltip label={`${series.method}; every ${series.intervalMs} ms, timeout ${series.timeoutMs} ms`}>
          <Badge size="xs" variant="light" color="gray" style={{ flex: 'none' }}>
            {series.intervalMs} ms
          </Badge>
        </Tooltip>
        <Badge size="xs" color={STATE_COLOR[state]} data-testid="latency-state" style={{ flex: 'none' }}>
          {STATE_LABEL[state]}
        </Badge>
        {!series.running && (
          <Badge size="xs" color="gray" variant="outline" style={{ flex: 'none' }}>
            stopped
          </Badge>
        )}
      </Group>
      <Group justify="flex-end" mb={4} wrap="nowrap">
          <SegmentedControl size="xs" value={mode} onChange={(v) => setMode(v as 'time' | 'distribution')} data={[{ value: 'time', label: 'Time' }, { value: 'distribution', label: 'Histogram · CDF' }]} />
          {mode === 'time' && (
            <>
              <ActionIcon size="sm" variant="subtle" aria-label="Pan back" onClick={() => step(-1)} data-testid="latency-pan-back">
                ◀
              </ActionIcon>
              <ActionIcon size="sm" variant="subtle" aria-label="Pan forward" onClick={() => step(1)}>
                ▶
              </ActionIcon>
              <Button size="compact-xs" variant={zoomed ? 'filled' : 'subtle'} onClick={() => setZoomed(false)} disabled={!zoomed} data-testid="latency-live">
                Live
              </Button>
            </>
          )}
          <LimitsEditor series={series} />
          {series.running ? (
            <Button size="compact-xs" variant="subtle" color="orange" onClick={() => void stopProbe(series.id)}>
              Stop
            </Button>
          ) : (
            <Button size="compact-xs" variant="subtle" color="red" onClick={() => void removeProbe(series.id)}>
              Remove
            </Button>
          )}
      </Group>
      {mode === 'time' ? (
        <LiveChart seriesId={series.id} color={color} spanS={spanS} paused={paused} thresholds={series.thresholds} zoomed={zoomed} onZoomed={setZoomed} pan={pan} />
      ) : (
        <DistributionChart seriesId={series.id} color={color} spanS={spanS} />
      )}
      <Figures seriesId={series.id} />
      {series.lastError && (
        <Text size="xs" c="dimmed" mt={2} truncate>
          last failure: {series.lastError.kind}: {series.lastError.message}
        </Text>
      )}
    </Paper>
  );
});
