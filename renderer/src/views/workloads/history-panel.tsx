import { Badge, Button, Group, Paper, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { CancelJobButton } from '../../components/cancel-job-button';
import { useOutpost } from '../../store/context';
import { formatBytes, shortId } from './format';
import { PHASE_COLOR } from './rollout-steps';

/** Every deploy this laptop made, newest first, with a rollback for the service it touched. */
export function HistoryPanel() {
  const history = useOutpost((s) => s.history);
  const devices = useOutpost((s) => s.devices);
  const loadHistory = useOutpost((s) => s.loadHistory);
  const rollback = useOutpost((s) => s.rollback);
  const [busy, setBusy] = useState<string | null>(null);
  const deviceName = (id: string) => devices.find((d) => d.id === id)?.name ?? id;

  return (
    <Paper withBorder radius="md">
      <Group justify="space-between" px="md" py="xs">
        <Text fw={600}>Deploy history</Text>
        <Button size="xs" variant="default" onClick={() => void loadHistory()}>
          Refresh
        </Button>
      </Group>
      {history.length === 0 ? (
        <Text size="sm" c="dimmed" px="md" pb="md">
          No deploys from this laptop yet.
        </Text>
      ) : (
        <Table verticalSpacing={6} highlightOnHover data-testid="history-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Device</Table.Th>
              <Table.Th>Service</Table.Th>
              <Table.Th>Image</Table.Th>
              <Table.Th>Outcome</Table.Th>
              <Table.Th>Sent</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {history.map((r) => (
              <Table.Tr key={r.id} data-testid="history-row">
                <Table.Td>
                  <Text size="xs">{new Date(r.startedAt).toLocaleString()}</Text>
                </Table.Td>
                <Table.Td>{deviceName(r.deviceId)}</Table.Td>
                <Table.Td>{r.service}</Table.Td>
                <Table.Td>
                  <Text size="xs" ff="monospace">
                    {r.image} ({shortId(r.imageId)})
                  </Text>
                  {r.previousImageId && (
                    <Text size="xs" c="dimmed">
                      {r.rollbackOf ? 'rollback, ' : ''}was {shortId(r.previousImageId)}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Badge size="sm" variant="light" color={PHASE_COLOR[r.phase]} title={r.message}>
                    {r.phase}
                  </Badge>
                </Table.Td>
                <Table.Td>{formatBytes(r.bytesSent)}</Table.Td>
                <Table.Td>
                  {r.previousImageId && (
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="orange"
                      loading={busy === r.id}
                      onClick={() => {
                        setBusy(r.id);
                        void rollback(r.deviceId, r.service).finally(() => setBusy(null));
                      }}
                      data-testid="history-rollback"
                    >
                      Roll back
                    </Button>
                  )}
                  {busy === r.id && <CancelJobButton kind="rollback" deviceId={r.deviceId} label="Cancel" />}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}
