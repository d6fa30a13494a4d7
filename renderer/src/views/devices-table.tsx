import { ActionIcon, Badge, Button, Group, Paper, Popover, Stack, Table, Text, Tooltip } from '@mantine/core';
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  getFilteredRowModel,
  getSortedRowModel,
  useReactTable,
  type FilterFn,
  type SortingState,
} from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { Device, DeviceSource } from '../../../shared/contract';
import { TrashIcon } from '../components/icons';
import { useOutpost } from '../store/context';
import { deviceMatches, relativeTime } from './device-format';

const SOURCE_COLOR: Record<DeviceSource, string> = { manual: 'gray', mdns: 'blue', sweep: 'violet', serial: 'grape' };
const SOURCE_LABEL: Record<DeviceSource, string> = { manual: 'manual', mdns: 'mDNS', sweep: 'sweep', serial: 'serial' };
const STATE_COLOR: Record<Device['state'], string> = { online: 'teal', stale: 'orange', unknown: 'gray' };

const matchesSearch: FilterFn<Device> = (row, _columnId, query: string) => deviceMatches(row.original, query);

const column = createColumnHelper<Device>();

function useColumns() {
  return useMemo(
    () => [
      column.accessor('name', {
        header: 'Name',
        cell: ({ row }) => (
          <div>
            <Text size="sm" fw={550} data-testid="device-name">
              {row.original.name}
            </Text>
            {row.original.hostnames.length > 0 && (
              <Text size="xs" c="dimmed">
                {row.original.hostnames.join(', ')}
              </Text>
            )}
          </div>
        ),
      }),
      column.accessor((d) => [...d.addresses, ...(d.serialPath ? [d.serialPath] : [])].join(' '), {
        id: 'addresses',
        header: 'Addresses',
        cell: ({ row }) => <AddressList device={row.original} />,
      }),
      column.accessor((d) => d.sources.join(' '), {
        id: 'sources',
        header: 'Sources',
        enableSorting: false,
        cell: ({ row }) => (
          <Group gap={4}>
            {row.original.sources.map((s) => (
              <Badge key={s} size="sm" variant="light" color={SOURCE_COLOR[s]}>
                {SOURCE_LABEL[s]}
              </Badge>
            ))}
          </Group>
        ),
      }),
      column.accessor('state', {
        header: 'State',
        cell: ({ getValue }) => (
          <Badge size="sm" variant="dot" color={STATE_COLOR[getValue()]}>
            {getValue()}
          </Badge>
        ),
      }),
      column.accessor('lastSeen', {
        header: 'Last seen',
        cell: ({ getValue }) => (
          <Tooltip label={new Date(getValue()).toLocaleString()}>
            <Text size="sm" c="dimmed" span>
              {relativeTime(getValue())}
            </Text>
          </Tooltip>
        ),
      }),
      column.display({ id: 'actions', header: '', cell: ({ row }) => <RemoveButton device={row.original} /> }),
    ],
    [],
  );
}

export function DevicesTable({ search }: { search: string }) {
  const devices = useOutpost((s) => s.devices);
  const loading = useOutpost((s) => s.devicesLoading);
  const columns = useColumns();
  const [sorting, setSorting] = useState<SortingState>([]);
  const table = useReactTable({
    data: devices,
    columns,
    state: { globalFilter: search, sorting },
    onSortingChange: setSorting,
    globalFilterFn: matchesSearch,
    getRowId: (d) => d.id,
    getCoreRowModel: getCoreRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const rows = table.getRowModel().rows;

  return (
    <Paper withBorder radius="md">
      <Table highlightOnHover verticalSpacing="sm" horizontalSpacing="md" className="outpost-table" data-testid="devices-table">
        <Table.Thead>
          {table.getHeaderGroups().map((group) => (
            <Table.Tr key={group.id}>
              {group.headers.map((header) => (
                <Table.Th key={header.id} aria-sort={ariaSort(header.column.getIsSorted())}>
                  {header.column.getCanSort() ? (
                    <button type="button" onClick={header.column.getToggleSortingHandler()}>
                      {flexRender(header.column.columnDef.header, header.getContext())}
                      {sortMark(header.column.getIsSorted())}
                    </button>
                  ) : (
                    flexRender(header.column.columnDef.header, header.getContext())
                  )}
                </Table.Th>
              ))}
            </Table.Tr>
          ))}
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.id} data-testid="device-row" data-device-id={row.id}>
              {row.getVisibleCells().map((cell) => (
                <Table.Td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</Table.Td>
              ))}
            </Table.Tr>
          ))}
          {rows.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={columns.length}>
                <Text size="sm" c="dimmed" ta="center" py="lg" data-testid="devices-empty">
                  {loading ? 'Loading the inventory…' : devices.length === 0 ? 'No devices yet. Add one by address or serial port.' : `No device matches “${search}”.`}
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}

function AddressList({ device }: { device: Device }) {
  const items = [...device.addresses, ...(device.serialPath ? [device.serialPath] : [])];
  if (items.length === 0) return <Text size="sm" c="dimmed">—</Text>;
  return (
    <Stack gap={0}>
      {items.map((a) => (
        <Text key={a} size="sm" ff="monospace">
          {a}
        </Text>
      ))}
    </Stack>
  );
}

function RemoveButton({ device }: { device: Device }) {
  const removeDevice = useOutpost((s) => s.removeDevice);
  const [open, setOpen] = useState(false);
  return (
    <Popover opened={open} onChange={setOpen} position="left" withArrow shadow="md">
      <Popover.Target>
        <ActionIcon variant="subtle" color="gray" aria-label={`Remove ${device.name}`} onClick={() => setOpen((o) => !o)} data-testid="device-remove">
          <TrashIcon size={16} />
        </ActionIcon>
      </Popover.Target>
      <Popover.Dropdown>
        <Text size="sm" mb="xs">
          Remove <b>{device.name}</b> from the inventory?
        </Text>
        <Group gap="xs" justify="flex-end">
          <Button size="xs" variant="default" onClick={() => setOpen(false)}>
            Keep
          </Button>
          <Button size="xs" color="red" onClick={() => void removeDevice(device.id).then(() => setOpen(false))} data-testid="device-remove-confirm">
            Remove
          </Button>
        </Group>
      </Popover.Dropdown>
    </Popover>
  );
}

function sortMark(sorted: false | 'asc' | 'desc'): string {
  return sorted === 'asc' ? ' ↑' : sorted === 'desc' ? ' ↓' : '';
}

function ariaSort(sorted: false | 'asc' | 'desc'): 'ascending' | 'descending' | undefined {
  return sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined;
}
