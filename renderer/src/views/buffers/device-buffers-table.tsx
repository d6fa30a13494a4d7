import { Badge, Checkbox, Paper, Stack, Table, Text, Tooltip } from '@mantine/core';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type RowSelectionState } from '@tanstack/react-table';
import { useMemo } from 'react';
import type { Device } from '../../../../shared/contract';
import { EmptyRow } from '../../components/empty-row';
import type { DeviceBuffers } from '../../store/buffers-slice';
import { useOutpost } from '../../store/context';
import { BufferPathsButton } from './buffer-paths';
import { DeviceFlushProgress } from './flush-progress';
import { formatAge, formatBytes } from './transfer-format';

const column = createColumnHelper<Device>();

/** Totals over a device's streams; null until scanned. */
export function waitingTotals(state: DeviceBuffers | undefined): { segments: number; bytes: number; oldest: string | null } | null {
  if (!state?.scan) return null;
  let segments = 0;
  let bytes = 0;
  let oldest: string | null = null;
  for (const s of state.scan.streams) {
    segments += s.segments;
    bytes += s.bytes;
    if (s.oldest && (oldest === null || s.oldest < oldest)) oldest = s.oldest;
  }
  return { segments, bytes, oldest };
}

export function DeviceBuffersTable({ devices, selection, onSelectionChange }: { devices: Device[]; selection: RowSelectionState; onSelectionChange: (s: RowSelectionState) => void }) {
  const columns = useMemo(
    () => [
      column.display({
        id: 'select',
        header: ({ table }) => (
          <Checkbox aria-label="Select every device" checked={table.getIsAllRowsSelected()} indeterminate={table.getIsSomeRowsSelected()} onChange={table.getToggleAllRowsSelectedHandler()} data-testid="buffers-select-all" />
        ),
        cell: ({ row }) => <Checkbox aria-label={`Select ${row.original.name}`} checked={row.getIsSelected()} onChange={row.getToggleSelectedHandler()} data-testid="buffers-select" />,
      }),
      column.accessor('name', {
        header: 'Device',
        cell: ({ row }) => (
          <div>
            <Text size="sm" fw={550} data-testid="buffers-device-name">
              {row.original.name}
            </Text>
            <Text size="xs" c="dimmed" ff="monospace">
              {row.original.addresses[0] ?? row.original.hostnames[0] ?? '—'}
            </Text>
            <BufferPathsButton device={row.original} />
          </div>
        ),
      }),
      column.display({ id: 'waiting', header: 'Waiting on the device', cell: ({ row }) => <Waiting deviceId={row.original.id} /> }),
      column.display({ id: 'oldest', header: 'Oldest', cell: ({ row }) => <Oldest deviceId={row.original.id} /> }),
      column.display({ id: 'transfer', header: 'Transfer', cell: ({ row }) => <Transfer deviceId={row.original.id} /> }),
    ],
    [],
  );
  const table = useReactTable({
    data: devices,
    columns,
    state: { rowSelection: selection },
    enableRowSelection: true,
    onRowSelectionChange: (updater) => onSelectionChange(typeof updater === 'function' ? updater(selection) : updater),
    getRowId: (d) => d.id,
    getCoreRowModel: getCoreRowModel(),
  });

  return (
    <Paper withBorder radius="md">
      <Table verticalSpacing="sm" horizontalSpacing="md" className="outpost-table" data-testid="buffers-table" layout="fixed">
        <Table.Thead>
          {table.getHeaderGroups().map((group) => (
            <Table.Tr key={group.id}>
              {group.headers.map((header) => (
                <Table.Th key={header.id} w={WIDTHS[header.id]}>
                  {flexRender(header.column.columnDef.header, header.getContext())}
                </Table.Th>
              ))}
            </Table.Tr>
          ))}
        </Table.Thead>
        <Table.Tbody>
          {table.getRowModel().rows.map((row) => (
            <Table.Tr key={row.id} data-testid="buffers-row" data-device-id={row.id}>
              {row.getVisibleCells().map((cell) => (
                <Table.Td key={cell.id} style={{ verticalAlign: 'top' }}>
                  {flexRender(cell.column.columnDef.cell, cell.getContext())}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
          {devices.length === 0 && (
            <EmptyRow colSpan={columns.length} py="lg">
              No device with a network address yet. Find devices in the Devices view first.
            </EmptyRow>
          )}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}

const WIDTHS: Record<string, number | undefined> = { select: 44, name: 200, oldest: 150 };

function Waiting({ deviceId }: { deviceId: string }) {
  const state = useOutpost((s) => s.deviceBuffers[deviceId]);
  if (!state) return <Text size="sm" c="dimmed">not scanned</Text>;
  if (state.status === 'scanning' && !state.scan) return <Text size="sm" c="dimmed">scanning…</Text>;
  if (state.status === 'error' && state.error)
    return (
      <Stack gap={2} data-testid="buffers-error">
        <Badge size="xs" color="red" variant="light">
          {state.error.kind}
        </Badge>
        <Text size="xs" c="red" lineClamp={3}>
          {state.error.message}
        </Text>
      </Stack>
    );
  const totals = waitingTotals(state);
  if (!state.scan || !totals) return null;
  return (
    <Stack gap={2} data-testid="buffers-waiting" data-segments={totals.segments} data-bytes={totals.bytes}>
      <Text size="sm" fw={500}>
        {totals.segments === 0 ? 'nothing waiting' : `${totals.segments} segment${totals.segments === 1 ? '' : 's'} · ${formatBytes(totals.bytes)}`}
      </Text>
      {state.scan.streams.map((s) => (
        <Text key={`${s.source}:${s.stream}`} size="xs" c="dimmed" ff="monospace" data-testid="buffers-stream">
          {s.stream} ({s.kind}) {s.segments} · {formatBytes(s.bytes)}
        </Text>
      ))}
      {state.scan.refused.length > 0 && (
        <Tooltip label={state.scan.refused.map((r) => `${r.path}: ${r.reason}`).join('\n')} multiline w={360}>
          <Text size="xs" c="orange">
            {state.scan.refused.length} entr{state.scan.refused.length === 1 ? 'y' : 'ies'} refused
          </Text>
        </Tooltip>
      )}
      {state.scan.missing.length > 0 && (
        <Text size="xs" c="dimmed">
          not found on the device: {state.scan.missing.join(', ')}
        </Text>
      )}
    </Stack>
  );
}

function Oldest({ deviceId }: { deviceId: string }) {
  const totals = waitingTotals(useOutpost((s) => s.deviceBuffers[deviceId]));
  if (!totals?.oldest) return <Text size="sm" c="dimmed">—</Text>;
  return (
    <Tooltip label={new Date(totals.oldest).toLocaleString()}>
      <Text size="sm">{formatAge(totals.oldest)}</Text>
    </Tooltip>
  );
}

function Transfer({ deviceId }: { deviceId: string }) {
  const streams = useOutpost((s) => s.flushProgress[deviceId]);
  const result = useOutpost((s) => s.flushResults?.find((r) => r.deviceId === deviceId));
  return (
    <Stack gap={4}>
      {streams && <DeviceFlushProgress streams={streams} />}
      {result?.error && (
        <Text size="xs" c="red" data-testid="flush-device-error">
          {result.error.kind}: {result.error.message}
        </Text>
      )}
      {!streams && !result && (
        <Text size="sm" c="dimmed">
          —
        </Text>
      )}
    </Stack>
  );
}
