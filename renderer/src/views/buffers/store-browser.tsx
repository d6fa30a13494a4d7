import { Badge, Button, Code, Group, Paper, ScrollArea, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { StoredSegment } from '../../../../shared/contract';
import { EmptyRow } from '../../components/empty-row';
import { useVirtualRows, VirtualRows } from '../../components/virtual-rows';
import type { StoreFilter } from '../../store/buffers-slice';
import { useOutpost } from '../../store/context';
import { StoreManage } from './store-manage';
import { formatBytes } from './transfer-format';

const ROW_PX = 37;

/** What this laptop holds: browse by device, stream and time; preview a segment; export a selection. */
export function StoreBrowser() {
  const segments = useOutpost((s) => s.storeSegments);
  const totals = useOutpost((s) => s.storeTotals);
  const filter = useOutpost((s) => s.storeFilter);
  const loadStore = useOutpost((s) => s.loadStore);
  const devices = useOutpost((s) => s.devices);
  const preview = useOutpost((s) => s.segmentPreview);
  const previewSegment = useOutpost((s) => s.previewSegment);
  const exportStore = useOutpost((s) => s.exportStore);
  const [exportDir, setExportDir] = useState('');
  const nameOf = (id: string) => devices.find((d) => d.id === id)?.name ?? id;
  const deviceOptions = useMemo(() => devices.map((d) => ({ value: d.id, label: d.name })), [devices]);
  const streamOptions = useMemo(() => [...new Set(segments.map((s) => s.stream))].sort(), [segments]);
  const setFilter = (change: Partial<StoreFilter>) => void loadStore({ ...filter, ...change });

  return (
    <Stack gap="sm" data-testid="store-browser">
      <StoreManage />
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <Select label="Device" placeholder="all devices" data={deviceOptions} value={filter.deviceId ?? null} onChange={(v) => setFilter({ deviceId: v ?? undefined })} clearable searchable w={200} data-testid="store-filter-device" />
          <Select label="Stream" placeholder="all streams" data={streamOptions} value={filter.stream ?? null} onChange={(v) => setFilter({ stream: v ?? undefined })} clearable searchable w={180} data-testid="store-filter-stream" />
          <TextInput label="Since" type="datetime-local" value={toLocalInput(filter.since)} onChange={(e) => setFilter({ since: fromLocalInput(e.currentTarget.value) })} w={200} />
          <TextInput label="Until" type="datetime-local" value={toLocalInput(filter.until)} onChange={(e) => setFilter({ until: fromLocalInput(e.currentTarget.value) })} w={200} />
        </Group>
        <Text size="sm" c="dimmed" data-testid="store-totals">
          {segments.length} segment{segments.length === 1 ? '' : 's'} shown · {formatBytes(totals?.totalBytes ?? 0)} held
          {totals?.quotaBytes ? ` of ${formatBytes(totals.quotaBytes)}` : ''}
        </Text>
      </Group>
      <Group align="flex-start" gap="sm" wrap="nowrap">
        <Paper withBorder radius="md" style={{ flex: 3, minWidth: 0 }}>
          <SegmentTable segments={segments} nameOf={nameOf} selectedId={preview?.segment.id ?? null} onOpen={(id) => void previewSegment(id)} />
        </Paper>
        <Paper withBorder radius="md" p="sm" style={{ flex: 2, minWidth: 0 }} data-testid="segment-preview">
          {preview ? (
            <Stack gap={6}>
              <Group justify="space-between" wrap="nowrap">
                <Title order={6} ff="monospace" style={{ wordBreak: 'break-all' }}>
                  {preview.segment.stream}/{preview.segment.segment}
                </Title>
                <Badge variant="light" data-testid="segment-preview-format">
                  {preview.preview.format}
                </Badge>
              </Group>
              <Text size="xs" c="dimmed" ff="monospace">
                sha256 {preview.segment.sha256.slice(0, 16)}… · {formatBytes(preview.segment.bytes)}
                {preview.segment.records !== null ? ` · ${preview.segment.records} records` : ''}
              </Text>
              <ScrollArea.Autosize mah={360}>
                <Code block fz="xs" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }} data-testid="segment-preview-lines">
                  {preview.preview.lines.join('\n') || '(empty)'}
                  {preview.preview.truncated ? '\n…' : ''}
                </Code>
              </ScrollArea.Autosize>
            </Stack>
          ) : (
            <Text size="sm" c="dimmed">
              Click a segment to preview it (NDJSON, CSV, text, or a hex dump of binary).
            </Text>
          )}
        </Paper>
      </Group>
      <Group gap="sm" align="flex-end">
        <TextInput label="Export the segments shown to a folder on this laptop" placeholder="/media/usb/site-north" value={exportDir} onChange={(e) => setExportDir(e.currentTarget.value)} w={420} data-testid="store-export-dir" />
        <Button variant="light" disabled={!exportDir.trim() || segments.length === 0} onClick={() => void exportStore(exportDir.trim())} data-testid="store-export">
          Export
        </Button>
      </Group>
    </Stack>
  );
}

function SegmentTable({ segments, nameOf, selectedId, onOpen }: { segments: StoredSegment[]; nameOf: (id: string) => string; selectedId: number | null; onOpen: (id: number) => void }) {
  const view = useVirtualRows({ count: segments.length, estimatePx: ROW_PX, overscan: 16 });
  return (
    <div ref={view.scrollRef} style={{ maxHeight: 420, overflow: 'auto' }}>
      <Table stickyHeader highlightOnHover verticalSpacing={6} className="outpost-table" data-testid="store-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Device</Table.Th>
            <Table.Th>Stream</Table.Th>
            <Table.Th>Segment</Table.Th>
            <Table.Th ta="right">Size</Table.Th>
            <Table.Th>Stored</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          <VirtualRows rows={segments} view={view}>
            {(s) => (
              <Table.Tr
                key={s.id}
                onClick={() => onOpen(s.id)}
                className="outpost-clickable-row"
                bg={s.id === selectedId ? 'var(--mantine-primary-color-light)' : undefined}
                data-testid="store-row"
                data-segment={s.segment}
                data-stream={s.stream}
              >
                <Table.Td>{nameOf(s.deviceId)}</Table.Td>
                <Table.Td ff="monospace">{s.stream}</Table.Td>
                <Table.Td ff="monospace">{s.segment}</Table.Td>
                <Table.Td ta="right">{formatBytes(s.bytes)}</Table.Td>
                <Table.Td>
                  <Text size="xs" c="dimmed">
                    {new Date(s.storedAt).toLocaleString()}
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </VirtualRows>
          {segments.length === 0 && (
            <EmptyRow colSpan={5} testId="store-empty">
              Nothing stored for this selection yet.
            </EmptyRow>
          )}
        </Table.Tbody>
      </Table>
    </div>
  );
}

/** `<input type=datetime-local>` speaks local wall time without a zone; the store filter speaks ISO. */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
