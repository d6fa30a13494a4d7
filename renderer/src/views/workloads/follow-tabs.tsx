import { Badge, Group, Paper, Stack, Table, Text, TextInput } from '@mantine/core';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useOutpost } from '../../store/context';
import type { SelectedContainer } from '../../store/workloads-slice';
import { appendLines, containerEvents, type ContainerEvent } from './follow-lines';

const MAX_LOG_LINES = 5000;
const LOG_LINE = {
  position: 'absolute',
  left: 0,
  right: 0,
  padding: '0 10px',
  fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
  fontSize: 12,
  lineHeight: '19px',
  whiteSpace: 'pre',
  color: 'var(--mantine-color-gray-3)',
} as const;

/** Follows one stream while mounted; the lines (bounded) and whether the stream is still live. */
function useFollowedLines(selected: SelectedContainer, kind: 'logs' | 'events', since?: string) {
  const followStream = useOutpost((s) => s.followStream);
  const reportError = useOutpost((s) => s.reportError);
  const [lines, setLines] = useState<string[]>([]);
  const [live, setLive] = useState(false);
  const { deviceId, container } = selected;

  useEffect(() => {
    let stop: (() => void) | null = null;
    let cancelled = false;
    setLines([]);
    followStream(
      { device: deviceId, kind, container: kind === 'logs' ? container.id : undefined, since },
      (text) => setLines((prev) => appendLines(prev, text, MAX_LOG_LINES)),
      () => setLive(false),
    ).then(
      (stopper) => {
        if (cancelled) stopper();
        else {
          stop = stopper;
          setLive(true);
        }
      },
      (err: unknown) => reportError(err, `Could not follow ${kind} of ${container.name}`),
    );
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [deviceId, container.id, container.name, kind, since, followStream, reportError]);

  return { lines, live };
}

function LiveBadge({ live }: { live: boolean }) {
  return (
    <Badge size="xs" variant="dot" color={live ? 'teal' : 'gray'} data-testid="follow-live">
      {live ? 'following' : 'stopped'}
    </Badge>
  );
}

export function LogsTab({ selected }: { selected: SelectedContainer }) {
  const { lines, live } = useFollowedLines(selected, 'logs');
  const [filter, setFilter] = useState('');
  const shown = useMemo(() => (filter ? lines.filter((l) => l.toLowerCase().includes(filter.toLowerCase())) : lines), [lines, filter]);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const virtualizer = useVirtualizer({ count: shown.length, getScrollElement: () => scroller.current, estimateSize: () => 19, overscan: 20 });

  useEffect(() => {
    if (stickToBottom.current && shown.length > 0) virtualizer.scrollToIndex(shown.length - 1, { align: 'end' });
  }, [shown.length, virtualizer]);

  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <TextInput size="xs" placeholder="Filter lines" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} w={280} data-testid="logs-filter" />
        <Group gap="xs">
          <Text size="xs" c="dimmed">
            {shown.length} line(s)
          </Text>
          <LiveBadge live={live} />
        </Group>
      </Group>
      <Paper
        withBorder
        radius="md"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
        style={{ height: 380, overflow: 'auto', background: 'var(--mantine-color-dark-8)' }}
        data-testid="logs-view"
      >
        {shown.length === 0 && (
          <Text size="sm" c="dimmed" p="sm">
            {live ? 'Waiting for output…' : 'Connecting…'}
          </Text>
        )}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => (
            <div
              key={item.key}
              style={{ ...LOG_LINE, top: item.start, height: item.size }}
              data-testid="log-line"
            >
              {shown[item.index]}
            </div>
          ))}
        </div>
      </Paper>
    </Stack>
  );
}

export function EventsTab({ selected }: { selected: SelectedContainer }) {
  const { lines, live } = useFollowedLines(selected, 'events', '1h');
  const events: ContainerEvent[] = useMemo(() => containerEvents(lines, selected.container.id).reverse(), [lines, selected.container.id]);
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Text size="xs" c="dimmed">
          Engine events for this container, the last hour and live.
        </Text>
        <LiveBadge live={live} />
      </Group>
      <Paper withBorder radius="md" style={{ maxHeight: 380, overflow: 'auto' }}>
        <Table verticalSpacing={4} striped data-testid="events-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Time</Table.Th>
              <Table.Th>Event</Table.Th>
              <Table.Th>Details</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.map((e, i) => (
              <Table.Tr key={`${e.time}-${i}`} data-testid="event-row">
                <Table.Td>
                  <Text size="xs" ff="monospace">
                    {new Date(e.time).toLocaleTimeString()}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge size="sm" variant="light" color={e.action.startsWith('health_status: unhealthy') || e.action === 'die' || e.action === 'oom' ? 'red' : 'blue'}>
                    {e.action}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Text size="xs" c="dimmed">
                    {e.details}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {events.length === 0 && (
          <Text size="sm" c="dimmed" p="sm">
            No events for this container in the last hour.
          </Text>
        )}
      </Paper>
    </Stack>
  );
}
