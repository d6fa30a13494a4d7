import { Alert, Badge, Paper, Stack, Table, Text, Title } from '@mantine/core';
import type { DeviceFlush } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { formatBytes } from './transfer-format';

/** Totals over every device and stream of one flush. */
export function flushTotals(results: readonly DeviceFlush[]): { segments: number; bytes: number; duplicatesSkipped: number; quarantined: number; failed: number } {
  const t = { segments: 0, bytes: 0, duplicatesSkipped: 0, quarantined: 0, failed: 0 };
  for (const r of results) {
    if (r.error) t.failed++;
    for (const s of Object.values(r.streams)) {
      t.segments += s.segments;
      t.bytes += s.bytes;
      t.duplicatesSkipped += s.duplicatesSkipped;
      t.quarantined += s.quarantined;
    }
  }
  return t;
}

export function FlushResults() {
  const results = useOutpost((s) => s.flushResults);
  const devices = useOutpost((s) => s.devices);
  if (!results) return null;
  const nameOf = (id: string) => devices.find((d) => d.id === id)?.name ?? id;
  const totals = flushTotals(results);
  return (
    <Paper withBorder radius="md" p="md" data-testid="flush-results" data-segments={totals.segments} data-bytes={totals.bytes} data-failed={totals.failed}>
      <Stack gap="xs">
        <Title order={5}>Last flush</Title>
        <Text size="sm" data-testid="flush-summary">
          {totals.segments} segment{totals.segments === 1 ? '' : 's'}, {formatBytes(totals.bytes)} stored on this laptop · {totals.duplicatesSkipped} duplicate{totals.duplicatesSkipped === 1 ? '' : 's'} skipped ·{' '}
          {totals.quarantined} quarantined{totals.failed ? ` · ${totals.failed} device${totals.failed === 1 ? '' : 's'} failed` : ''}
        </Text>
        <Table verticalSpacing={4} className="outpost-table" data-testid="flush-results-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Device</Table.Th>
              <Table.Th>Stream</Table.Th>
              <Table.Th ta="right">Segments</Table.Th>
              <Table.Th ta="right">Bytes</Table.Th>
              <Table.Th ta="right">Duplicates skipped</Table.Th>
              <Table.Th ta="right">Quarantined</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {results.flatMap((r) =>
              Object.entries(r.streams).map(([stream, s]) => (
                <Table.Tr key={`${r.deviceId}:${stream}`} data-testid="flush-result-row" data-stream={stream}>
                  <Table.Td>{nameOf(r.deviceId)}</Table.Td>
                  <Table.Td ff="monospace">{stream}</Table.Td>
                  <Table.Td ta="right">{s.segments}</Table.Td>
                  <Table.Td ta="right">{formatBytes(s.bytes)}</Table.Td>
                  <Table.Td ta="right">{s.duplicatesSkipped}</Table.Td>
                  <Table.Td ta="right">{s.quarantined ? <Badge color="orange">{s.quarantined}</Badge> : 0}</Table.Td>
                </Table.Tr>
              )),
            )}
          </Table.Tbody>
        </Table>
        {results.map((r) =>
          r.error || r.quarantined.length || r.refused.length ? (
            <Alert key={r.deviceId} color={r.error ? 'red' : 'orange'} variant="light" title={nameOf(r.deviceId)}>
              {r.error && (
                <Text size="sm">
                  <Badge size="xs" color="red" mr={6}>
                    {r.error.kind}
                  </Badge>
                  {r.error.message}
                </Text>
              )}
              {r.quarantined.map((q) => (
                <Text key={`${q.stream}/${q.segment}`} size="xs" ff="monospace">
                  quarantined {q.stream}/{q.segment}: {q.reason}
                </Text>
              ))}
              {r.refused.map((q) => (
                <Text key={q.path} size="xs" ff="monospace">
                  refused {q.path}: {q.reason}
                </Text>
              ))}
            </Alert>
          ) : null,
        )}
      </Stack>
    </Paper>
  );
}
