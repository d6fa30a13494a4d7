import { Badge, Button, Code, CloseButton, Group, Paper, ScrollArea, Tabs, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { CancelJobButton } from '../../components/cancel-job-button';
import { Terminal } from '../../components/terminal';
import { useOutpost } from '../../store/context';
import type { SelectedContainer } from '../../store/workloads-slice';
import { EventsTab, LogsTab } from './follow-tabs';
import { formatDuration, stateColor } from './format';
import { StatsTab } from './stats-tab';

type DetailTab = 'logs' | 'stats' | 'events' | 'inspect' | 'shell';

/** One container up close: logs, live stats, engine events, its full inspect, and a shell inside it. */
export function ContainerDetail({ selected }: { selected: SelectedContainer }) {
  const [tab, setTab] = useState<DetailTab>('logs');
  const close = useOutpost((s) => s.selectContainer);
  const rollback = useOutpost((s) => s.rollback);
  const { container } = selected;
  const [rollingBack, setRollingBack] = useState(false);

  return (
    <Paper withBorder radius="md" p="md" data-testid="container-detail" data-container={container.name}>
      <Group justify="space-between" mb="sm">
        <Group gap="sm">
          <Text fw={650} size="lg">
            {container.name}
          </Text>
          <Badge variant="dot" color={stateColor(container.state, container.health)}>
            {container.state}
            {container.health ? ` · ${container.health}` : ''}
          </Badge>
          <Text size="sm" c="dimmed">
            on {selected.deviceName} · {container.image} · up {formatDuration(container.uptimeSeconds)} · {container.restarts} restart(s)
          </Text>
        </Group>
        <Group gap="xs">
          {container.service && (
            <Button
              size="xs"
              variant="light"
              color="orange"
              loading={rollingBack}
              onClick={() => {
                setRollingBack(true);
                void rollback(selected.deviceId, container.service ?? '').finally(() => setRollingBack(false));
              }}
              data-testid="container-rollback"
            >
              Roll back {container.service}
            </Button>
          )}
          <CancelJobButton kind="rollback" deviceId={selected.deviceId} label="Cancel rollback" />
          <CloseButton aria-label="Close details" onClick={() => close(null)} />
        </Group>
      </Group>
      <Tabs value={tab} onChange={(v) => setTab((v as DetailTab | null) ?? 'logs')} keepMounted={false}>
        <Tabs.List>
          {(['logs', 'stats', 'events', 'inspect', 'shell'] as const).map((t) => (
            <Tabs.Tab key={t} value={t} data-testid={`detail-tab-${t}`}>
              {t === 'shell' ? 'Shell' : t[0]?.toUpperCase() + t.slice(1)}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="logs" pt="sm">
          <LogsTab selected={selected} />
        </Tabs.Panel>
        <Tabs.Panel value="stats" pt="sm">
          <StatsTab selected={selected} />
        </Tabs.Panel>
        <Tabs.Panel value="events" pt="sm">
          <EventsTab selected={selected} />
        </Tabs.Panel>
        <Tabs.Panel value="inspect" pt="sm">
          <InspectTab selected={selected} />
        </Tabs.Panel>
        <Tabs.Panel value="shell" pt="sm">
          <ShellTab selected={selected} />
        </Tabs.Panel>
      </Tabs>
    </Paper>
  );
}

function InspectTab({ selected }: { selected: SelectedContainer }) {
  const api = useOutpost((s) => s.workloadsApi);
  const link = useOutpost((s) => s.linkOverride);
  const reportError = useOutpost((s) => s.reportError);
  const [json, setJson] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    api.invoke('workloads:inspect', { device: selected.deviceId, container: selected.container.id, link }).then(
      (result) => current && setJson(JSON.stringify(result, null, 2)),
      (err: unknown) => reportError(err, `Could not inspect ${selected.container.name}`),
    );
    return () => {
      current = false;
    };
  }, [api, link, reportError, selected.deviceId, selected.container.id, selected.container.name]);
  return (
    <ScrollArea h={420} type="auto" data-testid="inspect-json">
      <Code block>{json ?? 'Reading…'}</Code>
    </ScrollArea>
  );
}

function ShellTab({ selected }: { selected: SelectedContainer }) {
  const api = useOutpost((s) => s.workloadsApi);
  const link = useOutpost((s) => s.linkOverride);
  const reportError = useOutpost((s) => s.reportError);
  if (selected.container.state !== 'running') {
    return (
      <Text size="sm" c="dimmed">
        The container is {selected.container.state}; a shell needs it running.
      </Text>
    );
  }
  return (
    <Terminal
      api={api}
      target={{ kind: 'docker-exec', device: selected.deviceId, container: selected.container.id, link }}
      title={`${selected.deviceName} · ${selected.container.name}`}
      onError={(err) => reportError(err, `Could not open a shell in ${selected.container.name}`)}
    />
  );
}
