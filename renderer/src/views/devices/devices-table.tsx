import { ActionIcon, Button, Group, Paper, Popover, Stack, Table, Text, Tooltip } from '@mantine/core';
import { createColumnHelper, flexRender, getCoreRowModel, getSortedRowModel, useReactTable, type SortingState } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { Device } from '../../../../shared/contract';
import { TrashIcon } from '../../components/icons';
import { EmptyRow } from '../../components/empty-row';
import { useVirtualRows, VirtualRows } from '../../components/virtual-rows';
import { useOutpost } from '../../store/context';
import { CertExpiryBadge, LatencyBadge, SharedHostKeyBadge, SourceBadges, StateBadge } from './device-badges';
import { relativeTime } from './device-format';

const column = createColumnHelper<Device>();
const ROW_ESTIMATE_PX = 58;

function useColumns() {
  return useMemo(
    () => [
      column.accessor('name', {
        header: 'Name',
        cell: ({ row }) => (
          <div>
            <Group gap={6} wrap="nowrap">
              <Text size="sm" fw={550} data-testid="device-name">
                {row.original.name}
              </Text>
              <SharedHostKeyBadge device={row.original} />
              <CertExpiryBadge deviceId={row.original.id} />
            </Group>
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
        cell: ({ row }) => <SourceBadges sources={row.original.sources} />,
      }),
      column.accessor((d) => d.services.map((s) => s.type).join(' '), {
        id: 'services',
        header: 'Services',
        enableSorting: false,
        cell: ({ row }) => <ServiceSummary device={row.original} />,
      }),
      column.accessor('state', {
        header: 'State',
        cell: ({ getValue, row }) => (
          <Group gap={4} wrap="nowrap">
            <StateBadge state={getValue()} />
            <LatencyBadge deviceId={row.original.id} />
          </Group>
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

/**
 * The inventory, sorted by column and virtualised: a sweep of a /22 can bring hundreds of devices, and only the
 * rows in view are in the DOM.
 */
export function DevicesTable({ devices, totalCount, onOpen }: { devices: Device[]; totalCount: number; onOpen: (id: string) => void }) {
  const loading = useOutpost((s) => s.devicesLoading);
  const columns = useColumns();
  const [sorting, setSorting] = useState<SortingState>([]);
  const table = useReactTable({
    data: devices,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getRowId: (d) => d.id,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const rows = table.getRowModel().rows;
  const view = useVirtualRows({ count: rows.length, estimatePx: ROW_ESTIMATE_PX, keyOf: (i) => rows[i]?.id ?? i });

  return (
    <Paper withBorder radius="md">
      <div ref={view.scrollRef} className="outpost-scroll-table" data-testid="devices-scroll">
        <Table stickyHeader highlightOnHover verticalSpacing="xs" horizontalSpacing="md" className="outpost-table" data-testid="devices-table">
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
            <VirtualRows rows={rows} view={view}>
              {(row, index) => (
                <Table.Tr
                  key={row.id}
                  ref={view.measureElement}
                  data-index={index}
                  data-testid="device-row"
                  data-device-id={row.id}
                  onClick={() => onOpen(row.id)}
                  className="outpost-clickable-row"
                >
                  {row.getVisibleCells().map((cell) => (
                    <Table.Td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</Table.Td>
                  ))}
                </Table.Tr>
              )}
            </VirtualRows>
            {rows.length === 0 && (
              <EmptyRow colSpan={columns.length} py="lg" testId="devices-empty">
                {loading ? 'Loading the inventory…' : totalCount === 0 ? 'No devices yet. Scan the site, or add one by address or serial port.' : 'No device matches the search and filters.'}
              </EmptyRow>
            )}
          </Table.Tbody>
        </Table>
      </div>
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
      {device.macs.map((m) => (
        <Text key={m} size="xs" c="dimmed" ff="monospace">
          {m}
        </Text>
      ))}
    </Stack>
  );
}

function ServiceSummary({ device }: { device: Device }) {
  if (device.services.length === 0) return <Text size="sm" c="dimmed">—</Text>;
  const label = device.services.map((s) => `${s.type.replace(/^_/, '').replace(/\._(tcp|udp)$/, '')}:${s.port}`);
  return (
    <Text size="xs" ff="monospace" c="dimmed" lineClamp={2} maw={220}>
      {label.join('  ')}
    </Text>
  );
}

function RemoveButton({ device }: { device: Device }) {
  const removeDevice = useOutpost((s) => s.removeDevice);
  const [open, setOpen] = useState(false);
  return (
    // The row opens the detail drawer on click; the remove control must not.
    <div onClick={(e) => e.stopPropagation()}>
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
    </div>
  );
}

function sortMark(sorted: false | 'asc' | 'desc'): string {
  return sorted === 'asc' ? ' ↑' : sorted === 'desc' ? ' ↓' : '';
}

function ariaSort(sorted: false | 'asc' | 'desc'): 'ascending' | 'descending' | undefined {
  return sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined;
}
