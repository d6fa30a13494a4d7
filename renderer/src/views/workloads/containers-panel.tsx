import { Alert, Badge, Button, Group, MultiSelect, Paper, Stack, Table, Text, Tooltip } from '@mantine/core';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import type { ContainerSummary, Device } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import type { DeviceContainers } from '../../store/workloads-slice';
import { ContainerDetail } from './container-detail';
import { formatDuration, shortId, stateColor } from './format';
import { SaveBundleButton } from './save-bundle-button';

// Containers change slowly; a quiet re-list keeps states and restart counts honest without loading the links.
const REFRESH_MS = 10_000;

/** Devices worth asking for containers: reachable over the network (serial-only devices have no engine link). */
export function networkDevices(devices: Device[]): Device[] {
  return devices.filter((d) => d.addresses.length > 0 || d.hostnames.length > 0);
}

export function ContainersPanel() {
  const devices = useOutpost((s) => s.devices);
  const containers = useOutpost((s) => s.containers);
  const loading = useOutpost((s) => s.containersLoading);
  const loadContainers = useOutpost((s) => s.loadContainers);
  const selected = useOutpost((s) => s.selectedContainer);
  const link = useOutpost((s) => s.linkOverride);
  const candidates = useMemo(() => networkDevices(devices), [devices]);
  const [chosen, setChosen] = useState<string[] | null>(null);
  const deviceIds = useMemo(() => chosen ?? candidates.map((d) => d.id), [chosen, candidates]);
  const key = deviceIds.join(',');

  useEffect(() => {
    const ids = key ? key.split(',') : [];
    void loadContainers(ids);
    const timer = setInterval(() => void loadContainers(ids), REFRESH_MS);
    return () => clearInterval(timer);
  }, [key, link, loadContainers]);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <MultiSelect
          label="Devices"
          placeholder={candidates.length ? 'all devices' : 'no networked devices in the inventory'}
          data={candidates.map((d) => ({ value: d.id, label: d.name }))}
          value={chosen ?? []}
          onChange={(v) => setChosen(v.length ? v : null)}
          clearable
          searchable
          w={420}
          size="xs"
          data-testid="containers-devices"
        />
        <Button size="xs" variant="default" loading={loading} onClick={() => void loadContainers(deviceIds)} data-testid="containers-refresh">
          Refresh
        </Button>
      </Group>
      {deviceIds.length === 0 && (
        <Text size="sm" c="dimmed">
          Add a device with a network address in Devices to see its containers here.
        </Text>
      )}
      {containers.map((entry) => (
        <DeviceSection key={entry.deviceId} entry={entry} />
      ))}
      {selected && <ContainerDetail key={`${selected.deviceId}/${selected.container.id}`} selected={selected} />}
    </Stack>
  );
}

const column = createColumnHelper<ContainerSummary>();

function useColumns() {
  return useMemo(
    () => [
      column.accessor('name', {
        header: 'Container',
        cell: ({ row }) => (
          <div>
            <Text size="sm" fw={550} data-testid="container-name">
              {row.original.name}
            </Text>
            {row.original.service && (
              <Text size="xs" c="dimmed">
                service {row.original.service}
              </Text>
            )}
          </div>
        ),
      }),
      column.accessor('state', {
        header: 'State',
        cell: ({ row }) => (
          <Group gap={4}>
            <Badge size="sm" variant="dot" color={stateColor(row.original.state, null)} data-testid="container-state">
              {row.original.state}
            </Badge>
            {row.original.health && (
              <Badge size="sm" variant="light" color={stateColor(row.original.state, row.original.health)}>
                {row.original.health}
              </Badge>
            )}
          </Group>
        ),
      }),
      column.accessor('restarts', {
        header: 'Restarts',
        cell: ({ getValue }) => (
          <Text size="sm" c={getValue() > 0 ? 'orange' : undefined}>
            {getValue()}
          </Text>
        ),
      }),
      column.accessor('image', {
        header: 'Image',
        cell: ({ row }) => (
          <Tooltip label={row.original.imageId}>
            <Text size="sm" ff="monospace">
              {row.original.image}
            </Text>
          </Tooltip>
        ),
      }),
      column.accessor('uptimeSeconds', { header: 'Up', cell: ({ getValue }) => <Text size="sm">{formatDuration(getValue())}</Text> }),
      column.accessor('id', { header: 'ID', cell: ({ getValue }) => <Text size="xs" c="dimmed" ff="monospace">{shortId(getValue())}</Text> }),
    ],
    [],
  );
}

function DeviceSection({ entry }: { entry: DeviceContainers }) {
  const select = useOutpost((s) => s.selectContainer);
  const selected = useOutpost((s) => s.selectedContainer);
  const columns = useColumns();
  const rows = entry.value ?? [];
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (c) => c.id });
  const running = rows.filter((c) => c.state === 'running').length;
  const reconcile = useOutpost((s) => s.reconcile);
  const reconciling = useOutpost((s) => s.reconciling.includes(entry.deviceId));

  return (
    <Paper withBorder radius="md" data-testid="device-containers" data-device={entry.deviceName} data-ok={entry.ok}>
      <Group justify="space-between" px="md" py="xs">
        <Group gap="xs">
          <Text fw={600}>{entry.deviceName}</Text>
          {entry.ok ? (
            <Text size="xs" c="dimmed">
              {running} running · {rows.length} total
            </Text>
          ) : (
            <Badge color="red" variant="light" size="sm" data-testid="device-error-kind">
              {entry.error?.kind ?? 'error'}
            </Badge>
          )}
        </Group>
        <Group gap={4}>
          <SaveBundleButton deviceId={entry.deviceId} deviceName={entry.deviceName} />
          <Tooltip label="Finish or undo any rollout an interruption left half-done on this device" withArrow>
            <Button size="compact-xs" variant="subtle" loading={reconciling} onClick={() => void reconcile(entry.deviceId, entry.deviceName)} data-testid="device-reconcile">
              Reconcile
            </Button>
          </Tooltip>
        </Group>
      </Group>
      {!entry.ok && (
        <Alert color="red" variant="light" radius={0} data-testid="device-error">
          <Text size="sm">{entry.error?.message ?? 'The device did not answer.'}</Text>
        </Alert>
      )}
      {entry.ok && rows.length === 0 && (
        <Text size="sm" c="dimmed" px="md" pb="sm">
          No containers on this device.
        </Text>
      )}
      {entry.ok && rows.length > 0 && (
        <Table highlightOnHover verticalSpacing={6} data-testid="containers-table">
          <Table.Thead>
            {table.getHeaderGroups().map((group) => (
              <Table.Tr key={group.id}>
                {group.headers.map((h) => (
                  <Table.Th key={h.id}>{flexRender(h.column.columnDef.header, h.getContext())}</Table.Th>
                ))}
              </Table.Tr>
            ))}
          </Table.Thead>
          <Table.Tbody>
            {table.getRowModel().rows.map((row) => {
              const isSelected = selected?.deviceId === entry.deviceId && selected.container.id === row.original.id;
              return (
                <Table.Tr
                  key={row.id}
                  onClick={() => select(isSelected ? null : { deviceId: entry.deviceId, deviceName: entry.deviceName, container: row.original })}
                  style={{ cursor: 'pointer' }}
                  bg={isSelected ? 'var(--mantine-primary-color-light)' : undefined}
                  aria-selected={isSelected}
                  data-testid="container-row"
                >
                  {row.getVisibleCells().map((cell) => (
                    <Table.Td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</Table.Td>
                  ))}
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}
