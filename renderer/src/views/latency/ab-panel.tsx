import { Alert, Badge, Button, Checkbox, Group, NumberInput, Paper, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { AbReport } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';

const ms = (v: number | null) => (v === null ? '—' : v.toFixed(2));
const ci = (d: { value: number; ci95: [number, number] }) => `${d.value.toFixed(2)} ms [${d.ci95[0].toFixed(2)}, ${d.ci95[1].toFixed(2)}]`;

function Report({ report }: { report: AbReport }) {
  return (
    <Paper withBorder radius="md" p="sm" data-testid="ab-report" data-winner={report.winner}>
      <Group justify="space-between" mb={4}>
        <Text fw={600} size="sm">
          {report.deviceName} · {report.service} · {report.target} · {report.durationS} s each
        </Text>
        <Badge color={report.winner === 'none' ? 'gray' : 'teal'}>{report.winner === 'none' ? 'no clear winner' : `${report.winner} wins`}</Badge>
      </Group>
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Variant</Table.Th>
            <Table.Th>Network</Table.Th>
            <Table.Th>cpuset</Table.Th>
            <Table.Th>Probes</Table.Th>
            <Table.Th>Loss</Table.Th>
            <Table.Th>p50 ms</Table.Th>
            <Table.Th>p95 ms</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {report.variants.map((v) => (
            <Table.Tr key={v.name} data-testid="ab-variant">
              <Table.Td>{v.name}</Table.Td>
              <Table.Td>{v.container.networkMode}</Table.Td>
              <Table.Td>{v.container.cpuset || '—'}</Table.Td>
              <Table.Td>{v.summary.count}</Table.Td>
              <Table.Td>{v.summary.lossPct}%</Table.Td>
              <Table.Td>{ms(v.summary.p50)}</Table.Td>
              <Table.Td>{ms(v.summary.p95)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="sm" mt={4}>
        B − A: median {ci(report.difference.median)}, p95 {ci(report.difference.p95)} (95% bootstrap intervals, {report.difference.resamples} resamples)
      </Text>
      <Text size="sm" c="dimmed" data-testid="ab-verdict">
        {report.verdict}
      </Text>
    </Paper>
  );
}

/**
 * The latency lab: two variants of one workload (e.g. host networking vs a bridge network with a published port,
 * or cpuset pinning vs none beside a CPU hog), deployed in turn on one device and probed the same way.
 */
export function AbPanel() {
  const devices = useOutpost((s) => s.devices);
  const runAb = useOutpost((s) => s.runAb);
  const loadAbHistory = useOutpost((s) => s.loadAbHistory);
  const running = useOutpost((s) => s.abRunning);
  const progress = useOutpost((s) => s.abProgress);
  const reports = useOutpost((s) => s.abReports);
  const [device, setDevice] = useState<string | null>(null);
  const [target, setTarget] = useState('http:8080/');
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [onDevice, setOnDevice] = useState(false);
  const [durationS, setDurationS] = useState<number | string>(30);
  const [intervalMs, setIntervalMs] = useState<number | string>(100);
  useEffect(() => {
    void loadAbHistory(device ?? undefined);
  }, [device, loadAbHistory]);
  const ready = device && target && a.trim() && b.trim() && !running;
  return (
    <Stack gap="sm">
      <Paper withBorder radius="md" p="sm" data-testid="ab-form">
        <Group align="end" mb="sm" wrap="wrap">
          <Select label="Device" searchable data={devices.map((d) => ({ value: d.id, label: d.name }))} value={device} onChange={setDevice} w={220} data-testid="ab-device" />
          <TextInput label="Probe" value={target} onChange={(e) => setTarget(e.currentTarget.value)} w={200} data-testid="ab-target" />
          <NumberInput label="Seconds each" min={1} value={durationS} onChange={setDurationS} w={110} />
          <NumberInput label="Every (ms)" min={50} value={intervalMs} onChange={setIntervalMs} w={100} />
          <Checkbox label="from the device" checked={onDevice} onChange={(e) => setOnDevice(e.currentTarget.checked)} mb={8} />
        </Group>
        <SimpleGrid cols={2}>
          <Textarea label="Variant A (compose)" autosize minRows={6} maxRows={16} value={a} onChange={(e) => setA(e.currentTarget.value)} styles={{ input: { fontFamily: 'monospace' } }} data-testid="ab-compose-a" />
          <Textarea label="Variant B (compose)" autosize minRows={6} maxRows={16} value={b} onChange={(e) => setB(e.currentTarget.value)} styles={{ input: { fontFamily: 'monospace' } }} data-testid="ab-compose-b" />
        </SimpleGrid>
        <Text size="xs" c="dimmed" mt={4}>
          Both variants must share the measured service (label it <code>outpost.latency-ab: target</code> when a variant has neighbours, such as a CPU hog). Each is deployed through the normal health-gated rollout; B stays deployed.
        </Text>
        <Button
          mt="sm"
          disabled={!ready}
          loading={running}
          data-testid="ab-run"
          onClick={() =>
            device &&
            void runAb({ device, target, onDevice, durationS: Number(durationS), intervalMs: Number(intervalMs), warmupS: 2, timeoutMs: 2000, healthTimeoutMs: 60_000, variants: [{ text: a, name: 'A.yml' }, { text: b, name: 'B.yml' }] })
          }
        >
          Run A, then B
        </Button>
        {progress.length > 0 && (
          <Alert mt="sm" variant="light" title={running ? 'Running' : 'Last run'}>
            {progress.map((p, i) => (
              <Text key={i} size="xs">
                {p}
              </Text>
            ))}
          </Alert>
        )}
      </Paper>
      {reports.map((r) => (
        <Report key={r.id} report={r} />
      ))}
    </Stack>
  );
}
