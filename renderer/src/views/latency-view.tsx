import { Button, Group, SegmentedControl, SimpleGrid, Stack, Tabs, Text } from '@mantine/core';
import { useState } from 'react';
import { LatencyIcon } from '../components/icons';
import { EmptyState } from '../components/empty-state';
import { LinkOverride } from '../components/link-override';
import { useOutpost } from '../store/context';
import { AbPanel } from './latency/ab-panel';
import { ProbeForm } from './latency/probe-form';
import { RecordingsPanel } from './latency/recordings-panel';
import { SeriesCard } from './latency/series-card';

const PALETTE = ['#1c7ed6', '#e8590c', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#c2255c', '#5c940d', '#6741d9', '#d9480f'];
const SPANS = [
  { value: '10', label: '10 s' },
  { value: '60', label: '1 min' },
  { value: '600', label: '10 min' },
  { value: '0', label: 'all' },
];

function LivePlots() {
  const series = useOutpost((s) => s.latencySeries);
  const [spanS, setSpanS] = useState(60);
  const [paused, setPaused] = useState(false);
  const [columns, setColumns] = useState('2');
  if (series.length === 0) {
    return (
      <EmptyState title="No probes yet" icon={<LatencyIcon size={26} />} points={['TCP, SSH, Docker', 'HTTP, MQTT, ICMP', 'From the device too']}>
        Pick a device and a target above. Each probe plots live with its p50–p95 band, its limits and its losses as gaps.
      </EmptyState>
    );
  }
  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Group gap="sm">
          <SegmentedControl size="xs" value={String(spanS)} onChange={(v) => setSpanS(Number(v))} data={SPANS} data-testid="latency-span" />
          <SegmentedControl size="xs" value={columns} onChange={setColumns} data={['1', '2', '3']} aria-label="Columns" />
          <Button size="xs" variant={paused ? 'filled' : 'light'} onClick={() => setPaused((p) => !p)} data-testid="latency-pause">
            {paused ? 'Resume' : 'Pause'}
          </Button>
        </Group>
        <Text size="xs" c="dimmed">
          Drag to zoom · ◀ ▶ to pan · Live to follow again · band: p50–p95 of the last minute · dashed red: p95 limit
        </Text>
      </Group>
      <SimpleGrid cols={Number(columns)} spacing="sm">
        {series.map((s, i) => (
          <SeriesCard key={s.id} series={s} color={PALETTE[i % PALETTE.length] as string} spanS={spanS} paused={paused} />
        ))}
      </SimpleGrid>
    </Stack>
  );
}

/** Live latency per device and target, the latency lab (A/B), and saved recordings. */
export function LatencyView() {
  const devices = useOutpost((s) => s.devices);
  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Text fw={650} size="lg">
          Latency
        </Text>
        <LinkOverride devices={devices.filter((d) => d.addresses.length > 0 || d.hostnames.length > 0)} />
      </Group>
      <Tabs defaultValue="live" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="live" data-testid="latency-tab-live">
            Live
          </Tabs.Tab>
          <Tabs.Tab value="lab" data-testid="latency-tab-lab">
            Latency lab (A/B)
          </Tabs.Tab>
          <Tabs.Tab value="recordings" data-testid="latency-tab-recordings">
            Recordings
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="live" pt="sm">
          <Stack gap="sm">
            <ProbeForm />
            <LivePlots />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="lab" pt="sm">
          <AbPanel />
        </Tabs.Panel>
        <Tabs.Panel value="recordings" pt="sm">
          <RecordingsPanel />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
