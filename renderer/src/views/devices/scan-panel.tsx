import { Button, Collapse, Group, Paper, Progress, Switch, TagsInput, Text } from '@mantine/core';
import { useState } from 'react';
import { DEFAULT_SWEEP_PORTS } from '../../../../shared/contract';
import { SearchIcon } from '../../components/icons';
import { useOutpost } from '../../store/context';
import { scanPercent, toBrowseArgs, toScanArgs, type ScanForm } from './device-filters';
import { CancelJobButton } from '../../components/cancel-job-button';

const INITIAL_FORM: ScanForm = { interfaces: [], cidrs: [], ports: DEFAULT_SWEEP_PORTS.map(String), mdns: true, sweep: true, serial: false };

/** Scan controls: where to look and how, a progress bar fed by `discovery:progress`, and the last scan's tally. */
export function ScanPanel() {
  const scanning = useOutpost((s) => s.scanning);
  const progress = useOutpost((s) => s.scanProgress);
  const lastScan = useOutpost((s) => s.lastScan);
  const runScan = useOutpost((s) => s.runScan);
  const liveDiscovery = useOutpost((s) => s.liveDiscovery);
  const setLiveDiscovery = useOutpost((s) => s.setLiveDiscovery);
  const [form, setForm] = useState<ScanForm>(INITIAL_FORM);
  const [showOptions, setShowOptions] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const update = (change: Partial<ScanForm>) => setForm((f) => ({ ...f, ...change }));

  function start() {
    const built = toScanArgs(form);
    if ('error' in built) return setError(built.error);
    setError(null);
    void runScan(built.args);
  }

  function toggleLive(on: boolean) {
    if (!on) return void setLiveDiscovery(false);
    const built = toBrowseArgs(form);
    if ('error' in built) return setError(built.error);
    setError(null);
    void setLiveDiscovery(true, built.args);
  }

  return (
    <Paper withBorder radius="md" p="md" data-testid="scan-panel">
      <Group justify="space-between" align="flex-end" wrap="wrap" gap="sm">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <TagsInput
            label="Subnets to sweep"
            placeholder={form.cidrs.length ? '' : 'this laptop’s subnets'}
            value={form.cidrs}
            onChange={(cidrs) => update({ cidrs })}
            w={300}
            splitChars={[',', ' ']}
            data-testid="scan-cidrs"
          />
          <Switch label="mDNS" checked={form.mdns} onChange={(e) => update({ mdns: e.currentTarget.checked })} data-testid="scan-mdns" mb={8} />
          <Switch label="Sweep" checked={form.sweep} onChange={(e) => update({ sweep: e.currentTarget.checked })} data-testid="scan-sweep" mb={8} />
          <Switch label="Serial" checked={form.serial} onChange={(e) => update({ serial: e.currentTarget.checked })} data-testid="scan-serial" mb={8} />
          <Button variant="subtle" size="compact-sm" onClick={() => setShowOptions((v) => !v)} mb={6} data-testid="scan-options-toggle">
            {showOptions ? 'Fewer options' : 'Interfaces & ports…'}
          </Button>
        </Group>
        <Group gap="sm" align="center">
          <Switch
            label="Live"
            checked={liveDiscovery}
            onChange={(e) => toggleLive(e.currentTarget.checked)}
            data-testid="live-discovery"
            title="Keep listening for mDNS, check known devices every few seconds, and re-sweep the subnets every minute (with Sweep on)"
          />
          <Button leftSection={<SearchIcon size={16} />} onClick={start} loading={scanning} data-testid="scan-start">
            Scan now
          </Button>
          <CancelJobButton kind="scan" label="Cancel scan" />
        </Group>
      </Group>
      <Collapse in={showOptions}>
        <Group gap="sm" mt="sm" align="flex-end" wrap="wrap">
          <TagsInput
            label="Interfaces"
            placeholder={form.interfaces.length ? '' : 'all up interfaces'}
            value={form.interfaces}
            onChange={(interfaces) => update({ interfaces })}
            w={300}
            splitChars={[',', ' ']}
            data-testid="scan-interfaces"
          />
          <TagsInput
            label="Ports the sweep probes"
            value={form.ports}
            onChange={(ports) => update({ ports })}
            w={560}
            splitChars={[',', ' ']}
            data-testid="scan-ports"
          />
        </Group>
      </Collapse>
      {error && (
        <Text c="red" size="sm" mt="xs" data-testid="scan-error">
          {error}
        </Text>
      )}
      {(scanning || progress) && <ScanProgressLine scanning={scanning} progress={progress} />}
      {!scanning && lastScan && (
        <Text size="xs" c="dimmed" mt={6} data-testid="scan-summary">
          Last scan found {lastScan.found} device{lastScan.found === 1 ? '' : 's'} in {(lastScan.elapsedMs / 1000).toFixed(1)} s — {lastScan.hostsProbed} hosts
          probed, {lastScan.mdnsPackets} mDNS packets.
        </Text>
      )}
    </Paper>
  );
}

function ScanProgressLine({ scanning, progress }: { scanning: boolean; progress: { done: number; total: number } | null }) {
  const value = scanning ? scanPercent(progress) : 100;
  return (
    <Group gap="sm" mt="sm" wrap="nowrap" data-testid="scan-progress" data-done={progress?.done ?? 0} data-total={progress?.total ?? 0}>
      <Progress value={value} animated={scanning} striped={scanning} style={{ flex: 1 }} size="md" aria-label="Scan progress" />
      <Text size="xs" c="dimmed" w={260} ta="right" ff="monospace">
        {progress ? `${scanPercent(progress)} % · ${progress.done} / ${progress.total} checks` : scanning ? 'listening…' : ''}
        {scanning ? '' : ' · done'}
      </Text>
    </Group>
  );
}
