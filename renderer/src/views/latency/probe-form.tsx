import { Autocomplete, Button, Checkbox, Group, NumberInput, Paper, Select } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { TargetError, parseTarget } from '../../../../shared/latency/targets';
import { useOutpost } from '../../store/context';

/** Pick a device and a target (suggested from discovery and deploys), an interval and limits; start probing. */
export function ProbeForm() {
  const devices = useOutpost((s) => s.devices);
  const suggestions = useOutpost((s) => s.latencySuggestions);
  const loadSuggestions = useOutpost((s) => s.loadSuggestions);
  const startProbe = useOutpost((s) => s.startProbe);
  const [device, setDevice] = useState<string | null>(null);
  const [target, setTarget] = useState('ssh');
  const [onDevice, setOnDevice] = useState(false);
  const [intervalMs, setIntervalMs] = useState<number | string>(200);
  const [p95, setP95] = useState<number | string>('');
  const [loss, setLoss] = useState<number | string>('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (device) void loadSuggestions(device);
  }, [device, loadSuggestions]);
  const options = useMemo(() => [...new Set((device ? (suggestions[device] ?? []) : []).map((s) => s.target))], [device, suggestions]);
  let targetError: string | null = null;
  try {
    parseTarget(target);
  } catch (err) {
    targetError = err instanceof TargetError ? err.message : String(err);
  }
  const ready = device !== null && targetError === null && Number(intervalMs) >= 50;
  return (
    <Paper withBorder radius="md" p="sm" data-testid="latency-probe-form">
      <Group align="end" gap="sm" wrap="wrap">
        <Select
          label="Device"
          placeholder="pick a device"
          searchable
          data={devices.map((d) => ({ value: d.id, label: `${d.name}${d.addresses[0] ? ` (${d.addresses[0]})` : ''}` }))}
          value={device}
          onChange={setDevice}
          w={220}
          data-testid="latency-device"
        />
        <Autocomplete
          label="Target"
          description="tcp:PORT · ssh · docker · http:PORT/PATH · mqtt · icmp"
          data={options}
          value={target}
          onChange={setTarget}
          error={target && targetError}
          w={260}
          data-testid="latency-target"
        />
        <NumberInput label="Every (ms)" min={50} step={50} value={intervalMs} onChange={setIntervalMs} w={100} data-testid="latency-interval" />
        <NumberInput label="p95 limit (ms)" min={0} value={p95} onChange={setP95} w={110} />
        <NumberInput label="loss limit (%)" min={0} max={100} value={loss} onChange={setLoss} w={110} />
        <Checkbox label="from the device" checked={onDevice} onChange={(e) => setOnDevice(e.currentTarget.checked)} mb={8} data-testid="latency-on-device" />
        <Button
          disabled={!ready}
          loading={busy}
          data-testid="latency-start"
          onClick={() => {
            if (!device) return;
            setBusy(true);
            void startProbe({ device, target, onDevice, intervalMs: Number(intervalMs), timeoutMs: Math.max(1000, Number(intervalMs) * 4), thresholds: { p95Ms: p95 === '' ? null : Number(p95), lossPct: loss === '' ? null : Number(loss) } }).finally(() => setBusy(false));
          }}
        >
          Start probing
        </Button>
      </Group>
    </Paper>
  );
}
