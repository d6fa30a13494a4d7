import { Alert, Button, Checkbox, Group, NumberInput, Paper, Progress, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { PruneSelection } from '../../store/buffers-slice';
import { useOutpost } from '../../store/context';
import { formatBytes } from './transfer-format';

const GIB = 1024 ** 3;

/** Quota and prune: how full the laptop store is, and a dry run to look at before anything is deleted. */
export function StoreManage() {
  const totals = useOutpost((s) => s.storeTotals);
  const devices = useOutpost((s) => s.devices);
  const segments = useOutpost((s) => s.storeSegments);
  const plan = useOutpost((s) => s.prunePlan);
  const pruning = useOutpost((s) => s.pruning);
  const previewPrune = useOutpost((s) => s.previewPrune);
  const confirmPrune = useOutpost((s) => s.confirmPrune);
  const cancelPrune = useOutpost((s) => s.cancelPrune);
  const setStoreQuota = useOutpost((s) => s.setStoreQuota);
  const [deviceId, setDeviceId] = useState<string | null>(null);
  const [stream, setStream] = useState<string | null>(null);
  const [olderThanDays, setOlderThanDays] = useState<number | string>('');
  const [force, setForce] = useState(false);
  const [quotaGiB, setQuotaGiB] = useState<number | string>('');
  // A preview is for one selection: changing it asks for a new preview before anything can be deleted.
  const changed = <T,>(setter: (v: T) => void) => (v: T) => {
    setter(v);
    if (plan) cancelPrune();
  };
  const nameOf = (id: string) => devices.find((d) => d.id === id)?.name ?? id;
  const deviceOptions = useMemo(() => devices.map((d) => ({ value: d.id, label: d.name })), [devices]);
  const streamOptions = useMemo(() => [...new Set(segments.map((s) => s.stream))].sort(), [segments]);

  const used = totals?.totalBytes ?? 0;
  const quota = totals?.quotaBytes ?? null;
  const selection = (): PruneSelection => {
    const sel: PruneSelection = { force };
    if (deviceId) sel.deviceId = deviceId;
    if (stream) sel.stream = stream;
    if (typeof olderThanDays === 'number') sel.olderThanSeconds = Math.round(olderThanDays * 86_400);
    if (!sel.deviceId && !sel.stream && sel.olderThanSeconds === undefined) sel.allForwarded = true;
    return sel;
  };

  return (
    <Paper withBorder radius="md" p="sm" data-testid="store-manage">
      <Stack gap="sm">
        <Group justify="space-between" align="flex-end" wrap="wrap">
          <Stack gap={4} style={{ flex: 1, minWidth: 260 }}>
            <Title order={6}>Disk used by the store</Title>
            <Text size="sm" data-testid="store-quota-used" data-used={used} data-quota={quota ?? ''}>
              {formatBytes(used)} {quota !== null ? `of a ${formatBytes(quota)} quota` : '(no quota)'}
            </Text>
            {quota !== null && quota > 0 && <Progress value={Math.min(100, (used / quota) * 100)} color={used / quota > 0.9 ? 'red' : used / quota > 0.7 ? 'yellow' : 'teal'} size="sm" />}
          </Stack>
          <Group gap="xs" align="flex-end">
            <NumberInput label="Quota (GiB)" placeholder="none" min={0} decimalScale={2} value={quotaGiB} onChange={setQuotaGiB} w={130} data-testid="store-quota-input" />
            <Button variant="default" disabled={typeof quotaGiB !== 'number'} onClick={() => void setStoreQuota(Math.round(Number(quotaGiB) * GIB))} data-testid="store-quota-set">
              Set quota
            </Button>
            <Button variant="subtle" disabled={quota === null} onClick={() => void setStoreQuota(null)}>
              Remove quota
            </Button>
          </Group>
        </Group>

        <Title order={6}>Prune</Title>
        <Group gap="sm" align="flex-end" wrap="wrap">
          <Select label="Device" placeholder="any device" data={deviceOptions} value={deviceId} onChange={changed(setDeviceId)} clearable searchable w={180} data-testid="prune-device" />
          <Select label="Stream" placeholder="any stream" data={streamOptions} value={stream} onChange={changed(setStream)} clearable searchable w={160} data-testid="prune-stream" />
          <NumberInput label="Stored more than (days) ago" placeholder="any age" min={0} value={olderThanDays} onChange={changed(setOlderThanDays)} w={190} data-testid="prune-older-than" />
          <Checkbox label="Also delete what was never forwarded or exported" checked={force} onChange={(e) => changed(setForce)(e.currentTarget.checked)} color="red" data-testid="prune-force" />
          <Button variant="light" loading={pruning && !plan} onClick={() => void previewPrune(selection())} data-testid="prune-preview">
            Preview prune
          </Button>
        </Group>
        {!force && (
          <Text size="xs" c="dimmed">
            Only segments already forwarded upstream or exported are deleted; the rest of the selection is kept and counted below.
          </Text>
        )}

        {plan && (
          <Stack gap="xs" data-testid="prune-plan" data-segments={plan.result.segments} data-freed={plan.result.freedBytes} data-kept={plan.result.keptSegments}>
            <Table verticalSpacing={4} className="outpost-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Device</Table.Th>
                  <Table.Th>Stream</Table.Th>
                  <Table.Th ta="right">Deleted</Table.Th>
                  <Table.Th ta="right">Kept (not forwarded)</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {plan.result.groups.map((g) => (
                  <Table.Tr key={`${g.deviceId}/${g.stream}`} data-testid="prune-group">
                    <Table.Td>{nameOf(g.deviceId)}</Table.Td>
                    <Table.Td ff="monospace">{g.stream}</Table.Td>
                    <Table.Td ta="right">
                      {g.segments} · {formatBytes(g.bytes)}
                    </Table.Td>
                    <Table.Td ta="right">{g.keptSegments ? `${g.keptSegments} · ${formatBytes(g.keptBytes)}` : '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <Alert color={plan.args.force ? 'red' : 'blue'} variant="light" data-testid="prune-summary">
              {plan.result.segments === 0
                ? 'Nothing to delete for this selection.'
                : `Deletes ${plan.result.segments} segments (${formatBytes(plan.result.bytes)}) and frees ${formatBytes(plan.result.freedBytes)} on disk.`}
              {plan.result.keptSegments ? ` Keeps ${plan.result.keptSegments} never forwarded or exported.` : ''}
              {plan.args.force && plan.result.segments > 0 ? ' Some of these may exist nowhere else.' : ''}
            </Alert>
            <Group gap="xs">
              <Button color="red" disabled={plan.result.segments === 0} loading={pruning} onClick={() => void confirmPrune()} data-testid="prune-confirm">
                Delete {plan.result.segments} segments
              </Button>
              <Button variant="default" onClick={cancelPrune} data-testid="prune-cancel">
                Cancel
              </Button>
            </Group>
          </Stack>
        )}
      </Stack>
    </Paper>
  );
}
