import { Button, Group, Paper, Stack, Table, Text, TextInput } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { useOutpost } from '../../store/context';
import { StatPlot } from '../../components/stat-plot';

const ms = (v: number | null) => (v === null ? '—' : v.toFixed(2));

function download(name: string, csv: string): void {
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Save what the live plots hold into the laptop store; reopen a recording later; export it as CSV. */
export function RecordingsPanel() {
  const series = useOutpost((s) => s.latencySeries);
  const recordings = useOutpost((s) => s.recordings);
  const opened = useOutpost((s) => s.openedRecording);
  const loadRecordings = useOutpost((s) => s.loadRecordings);
  const saveRecording = useOutpost((s) => s.saveRecording);
  const openRecording = useOutpost((s) => s.openRecording);
  const exportRecording = useOutpost((s) => s.exportRecording);
  const deleteRecording = useOutpost((s) => s.deleteRecording);
  const [name, setName] = useState('');
  useEffect(() => {
    void loadRecordings();
  }, [loadRecordings]);
  const openedPlots = useMemo(
    () =>
      opened?.series.map((s) => ({ label: s.label, time: s.t.map((t) => t / 1000), values: s.v.map((v) => (v === null ? (null as unknown as number) : v)) })) ?? [],
    [opened],
  );
  return (
    <Stack gap="sm">
      <Paper withBorder radius="md" p="sm">
        <Group align="end">
          <TextInput label="Recording name" placeholder="e.g. gw-3 before the switch swap" value={name} onChange={(e) => setName(e.currentTarget.value)} w={320} data-testid="recording-name" />
          <Button
            disabled={!name.trim() || series.length === 0}
            data-testid="recording-save"
            onClick={() => {
              void saveRecording(name.trim(), series.map((s) => s.id));
              setName('');
            }}
          >
            Save the {series.length} plotted series
          </Button>
        </Group>
      </Paper>
      <Table striped data-testid="recordings-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Saved</Table.Th>
            <Table.Th>Series (p50 / p95 ms, loss)</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {recordings.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={4}>
                <Text size="sm" c="dimmed">
                  No recordings yet: save the live plots above to keep them with this laptop.
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
          {recordings.map((r) => (
            <Table.Tr key={r.id} data-testid="recording-row">
              <Table.Td>{r.name}</Table.Td>
              <Table.Td>{new Date(r.createdAt).toLocaleString()}</Table.Td>
              <Table.Td>
                {r.series.map((s) => (
                  <Text key={s.label} size="xs">
                    {s.label}: {ms(s.stats.p50)} / {ms(s.stats.p95)}, {s.stats.lossPct}% of {s.points}
                  </Text>
                ))}
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap">
                  <Button size="compact-xs" variant="light" onClick={() => void openRecording(r.id)} data-testid="recording-open">
                    Open
                  </Button>
                  <Button size="compact-xs" variant="light" onClick={() => void exportRecording(r.id).then((csv) => csv && download(`${r.name.replace(/[^\w.-]+/g, '_')}.csv`, csv))} data-testid="recording-export">
                    CSV
                  </Button>
                  <Button size="compact-xs" variant="subtle" color="red" onClick={() => void deleteRecording(r.id)}>
                    Delete
                  </Button>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {opened && (
        <Stack gap="xs" data-testid="recording-opened">
          <Group justify="space-between">
            <Text fw={600}>{opened.info.name}</Text>
            <Button size="compact-xs" variant="subtle" onClick={() => void openRecording(null)}>
              Close
            </Button>
          </Group>
          {openedPlots.map((p) => (
            <StatPlot key={p.label} title={p.label} time={p.time} series={[{ label: 'latency', color: '#1c7ed6', values: p.values }]} formatValue={(v) => `${v.toFixed(1)} ms`} height={140} />
          ))}
        </Stack>
      )}
    </Stack>
  );
}
