import { Badge, Button, Group, Stack, Tabs, Text, Title } from '@mantine/core';
import type { RowSelectionState } from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import { LinkOverride } from '../../components/link-override';
import { useOutpost } from '../../store/context';
import { DeviceBuffersTable, waitingTotals } from './device-buffers-table';
import { FlushResults } from './flush-results';
import { StoreBrowser } from './store-browser';
import { formatBytes } from './transfer-format';
import { UpstreamPanel } from './upstream-panel';
import { CancelJobButton } from '../../components/cancel-job-button';

export function BuffersView() {
  const allDevices = useOutpost((s) => s.devices);
  const deviceBuffers = useOutpost((s) => s.deviceBuffers);
  const scanBuffers = useOutpost((s) => s.scanBuffers);
  const flushBuffers = useOutpost((s) => s.flushBuffers);
  const flushing = useOutpost((s) => s.flushing);
  const loadStore = useOutpost((s) => s.loadStore);
  const loadUpstream = useOutpost((s) => s.loadUpstream);
  const storeCount = useOutpost((s) => s.storeSegments.length);
  const upstreamFailed = useOutpost((s) => s.upstream.filter((u) => u.status === 'failed').length);
  const [selection, setSelection] = useState<RowSelectionState>({});
  const [tab, setTab] = useState<string | null>('devices');
  // Buffers are read over SSH: only devices the laptop can dial are listed.
  const devices = useMemo(() => allDevices.filter((d) => d.addresses.length > 0 || d.hostnames.length > 0), [allDevices]);
  const selected = devices.filter((d) => selection[d.id]).map((d) => d.id);
  const scanning = selected.some((id) => deviceBuffers[id]?.status === 'scanning');
  let waitingBytes = 0;
  let scanned = 0;
  for (const d of devices) {
    const totals = waitingTotals(deviceBuffers[d.id]);
    if (totals) scanned++;
    waitingBytes += totals?.bytes ?? 0;
  }

  useEffect(() => {
    void loadStore();
    void loadUpstream();
  }, [loadStore, loadUpstream]);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="center">
        <Group gap="xs">
          <Title order={3}>Buffers</Title>
          {scanned > 0 && (
            <Badge variant="light" color={waitingBytes ? 'blue' : 'gray'} data-testid="buffers-waiting-total">
              {formatBytes(waitingBytes)} waiting on {scanned} scanned device{scanned === 1 ? '' : 's'}
            </Badge>
          )}
        </Group>
      </Group>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="devices" data-testid="buffers-tab-devices">
            On devices
          </Tabs.Tab>
          <Tabs.Tab value="store" data-testid="buffers-tab-store" rightSection={<Badge size="xs" variant="light" color="gray">{storeCount}</Badge>}>
            Laptop store
          </Tabs.Tab>
          <Tabs.Tab value="upstream" data-testid="buffers-tab-upstream" rightSection={upstreamFailed ? <Badge size="xs" color="red">{upstreamFailed}</Badge> : undefined}>
            Upstream
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="devices" pt="md">
          <Stack gap="sm">
            <Group justify="space-between">
              <Text size="sm" c="dimmed">
                {selected.length ? `${selected.length} selected` : 'Select devices to scan or flush.'}
              </Text>
              <Group gap="xs">
                <LinkOverride devices={selected.length ? devices.filter((d) => selection[d.id]) : devices} />
                <Button variant="default" disabled={!selected.length} loading={scanning} onClick={() => void scanBuffers(selected)} data-testid="buffers-scan">
                  Scan selected
                </Button>
                <Button disabled={!selected.length} loading={flushing} onClick={() => void flushBuffers(selected)} data-testid="buffers-flush">
                  Flush selected to this laptop
                </Button>
                <CancelJobButton kind="flush" label="Cancel flush" />
              </Group>
            </Group>
            <DeviceBuffersTable devices={devices} selection={selection} onSelectionChange={setSelection} />
            <FlushResults />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="store" pt="md">
          <StoreBrowser />
        </Tabs.Panel>
        <Tabs.Panel value="upstream" pt="md">
          <UpstreamPanel />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
