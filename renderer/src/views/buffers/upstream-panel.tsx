import { Badge, Button, Group, Paper, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { UpstreamStreamStatus } from '../../../../shared/contract';
import { EmptyRow } from '../../components/empty-row';
import { useOutpost } from '../../store/context';
import { upstreamTarget } from './transfer-format';

/** The core keys targets as `http:<url>` / `mqtt:<url>`; the URL alone says which. */
function targetLabel(target: string): string {
  return target.replace(/^(http|mqtt):(?=[a-z]+:\/\/)/, '');
}

const STATUS_COLOR: Record<UpstreamStreamStatus['status'], string> = { waiting: 'gray', 'in-flight': 'blue', forwarded: 'teal', failed: 'red' };

/** The queue from this laptop to the site's upstream: per stream what waits, what went, what failed and why. */
export function UpstreamPanel() {
  const streams = useOutpost((s) => s.upstream);
  const pushing = useOutpost((s) => s.pushing);
  const pushUpstream = useOutpost((s) => s.pushUpstream);
  const online = useOutpost((s) => s.info?.online);
  const reach = useOutpost((s) => s.info?.upstream);
  const settings = useOutpost((s) => s.upstreamSettings);
  const loadSettings = useOutpost((s) => s.loadUpstreamSettings);
  const changeSettings = useOutpost((s) => s.changeUpstreamSettings);
  const checkUpstream = useOutpost((s) => s.checkUpstream);
  const devices = useOutpost((s) => s.devices);
  const [url, setUrl] = useState('');
  const configured = settings?.target?.mqtt?.url ?? settings?.target?.http?.url ?? null;
  useEffect(() => void loadSettings(), [loadSettings]);
  // The field starts with the configured upstream (the last one pushed to, or set with `outpost upstream set`).
  useEffect(() => {
    if (configured) setUrl((u) => u || configured);
  }, [configured]);
  const [error, setError] = useState<string | null>(null);
  const nameOf = (id: string) => devices.find((d) => d.id === id)?.name ?? id;
  const counts = { waiting: 0, 'in-flight': 0, forwarded: 0, failed: 0 };
  for (const s of streams) counts[s.status]++;

  function push() {
    const target = upstreamTarget(url);
    if ('error' in target) return setError(target.error);
    setError(null);
    void pushUpstream(target);
  }

  return (
    <Stack gap="sm" data-testid="upstream-panel">
      <Group gap="xs">
        {(Object.keys(counts) as Array<keyof typeof counts>).map((k) => (
          <Badge key={k} color={STATUS_COLOR[k]} variant="light" data-testid={`upstream-count-${k}`}>
            {counts[k]} {k}
          </Badge>
        ))}
      </Group>
      <Paper withBorder radius="md">
        <Table verticalSpacing={6} className="outpost-table" data-testid="upstream-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Target</Table.Th>
              <Table.Th>Device</Table.Th>
              <Table.Th>Stream</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th ta="right">Segments waiting</Table.Th>
              <Table.Th ta="right">Records sent</Table.Th>
              <Table.Th>Last error</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {streams.map((s) => (
              <Table.Tr key={`${s.target}:${s.deviceId}:${s.stream}`} data-testid="upstream-row">
                <Table.Td ff="monospace" fz="xs">
                  {targetLabel(s.target)}
                </Table.Td>
                <Table.Td>{nameOf(s.deviceId)}</Table.Td>
                <Table.Td ff="monospace">{s.stream}</Table.Td>
                <Table.Td>
                  <Badge size="sm" color={STATUS_COLOR[s.status]} variant="light">
                    {s.status}
                  </Badge>
                </Table.Td>
                <Table.Td ta="right">{s.segmentsPending}</Table.Td>
                <Table.Td ta="right">{s.recordsForwarded}</Table.Td>
                <Table.Td>
                  <Text size="xs" c="red" lineClamp={2}>
                    {s.lastError ?? ''}
                  </Text>
                  {s.nextAttemptAt && (
                    <Text size="xs" c="dimmed">
                      retry {new Date(s.nextAttemptAt).toLocaleTimeString()} (attempt {s.attempts})
                    </Text>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
            {streams.length === 0 && <EmptyRow colSpan={7}>Nothing queued upstream yet: push once the laptop can reach the site's broker or endpoint.</EmptyRow>}
          </Table.Tbody>
        </Table>
      </Paper>
      <Group gap="sm" align="flex-end">
        <TextInput label="Upstream (MQTT broker or HTTP endpoint)" placeholder="mqtts://broker.site:8883 or https://ingest.example/api" value={url} onChange={(e) => setUrl(e.currentTarget.value)} w={440} error={error} data-testid="upstream-url" />
        <Button onClick={push} loading={pushing} disabled={!url.trim()} data-testid="upstream-push">
          Push now
        </Button>
        <Button variant="default" onClick={() => void checkUpstream()} disabled={!configured} data-testid="upstream-check">
          Check now
        </Button>
        {online === false && (
          <Text size="xs" c="orange" mb={8} data-testid="upstream-lan-only">
            {reach?.state === 'no-upstream' ? 'No upstream configured yet: push once to set it.' : `LAN only: ${reach?.target ?? 'the upstream'} does not answer right now; a failed push is kept and retried.`}
          </Text>
        )}
      </Group>
      <Switch
        label="Push by itself when the upstream becomes reachable"
        description={configured ? `Checks ${configured} every ${settings?.checkIntervalSeconds ?? 30} s and whenever this laptop's network changes` : 'Push once (or outpost upstream set) to configure the upstream first'}
        checked={settings?.autoPush ?? false}
        disabled={!settings}
        onChange={(e) => void changeSettings({ autoPush: e.currentTarget.checked })}
        data-testid="upstream-auto-push"
      />
    </Stack>
  );
}
