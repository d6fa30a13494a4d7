import { Group, SimpleGrid, Stack, Text } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { StatPlot } from '../../components/stat-plot';
import { useOutpost } from '../../store/context';
import type { SelectedContainer } from '../../store/workloads-slice';
import { formatBytes } from './format';
import { addSample, EMPTY_SERIES, type StatsSeries } from './stats-series';

// One stats read takes the engine ~1 s (it samples CPU twice); a short pause after each keeps the link quiet.
const PAUSE_BETWEEN_SAMPLES_MS = 1000;

/** Live CPU, memory and network plots, polled from `workloads:stats` while the tab is open. */
export function StatsTab({ selected }: { selected: SelectedContainer }) {
  const api = useOutpost((s) => s.workloadsApi);
  const link = useOutpost((s) => s.linkOverride);
  const [series, setSeries] = useState<StatsSeries>(EMPTY_SERIES);
  const [error, setError] = useState<string | null>(null);
  const { deviceId, container } = selected;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setSeries(EMPTY_SERIES);
    const poll = async () => {
      try {
        const sample = await api.invoke('workloads:stats', { device: deviceId, container: container.id, link });
        if (stopped) return;
        setSeries((s) => addSample(s, sample, Date.now()));
        setError(null);
      } catch (err) {
        if (!stopped) setError(err instanceof Error ? err.message : String(err));
      }
      if (!stopped) timer = setTimeout(() => void poll(), PAUSE_BETWEEN_SAMPLES_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, deviceId, container.id, link]);

  const cpu = useMemo(() => [{ label: 'CPU %', color: '#228be6', values: series.cpu }], [series.cpu]);
  const memory = useMemo(() => [{ label: 'Memory', color: '#7950f2', values: series.memory }], [series.memory]);
  const network = useMemo(
    () => [
      { label: 'Received', color: '#12b886', values: series.rxRate },
      { label: 'Sent', color: '#fd7e14', values: series.txRate },
    ],
    [series.rxRate, series.txRate],
  );
  const lastMemory = series.memory.at(-1);

  return (
    <Stack gap="sm" data-testid="stats-tab" data-points={series.time.length}>
      <Group justify="space-between">
        <Text size="xs" c="dimmed">
          Sampled every ~2 s while this tab is open · {series.time.length} sample(s)
        </Text>
        {error ? (
          <Text size="xs" c="red" data-testid="stats-error">
            {error}
          </Text>
        ) : (
          lastMemory !== undefined && (
            <Text size="xs" c="dimmed">
              memory {formatBytes(lastMemory)}
              {series.memoryLimitBytes > 0 ? ` of ${formatBytes(series.memoryLimitBytes)}` : ''}
            </Text>
          )
        )}
      </Group>
      <SimpleGrid cols={{ base: 1, md: 3 }} spacing="sm">
        <StatPlot title="CPU" time={series.time} series={cpu} formatValue={(v) => `${v.toFixed(v < 1 ? 2 : 1)} %`} testId="plot-cpu" />
        <StatPlot title="Memory" time={series.time} series={memory} formatValue={formatBytes} testId="plot-memory" />
        <StatPlot title="Network" time={series.time} series={network} formatValue={(v) => `${formatBytes(v)}/s`} testId="plot-network" />
      </SimpleGrid>
    </Stack>
  );
}
