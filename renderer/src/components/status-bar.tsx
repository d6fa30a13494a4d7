import { Badge, Group, Text, Tooltip } from '@mantine/core';
import type { UpstreamReach } from '../../../shared/contract';
import { useOutpost } from '../store/context';
import { VaultBadge } from './vault-dialog';
import { JobsMenu } from './jobs-menu';

export function StatusBar({ fallbackTransport }: { fallbackTransport: string }) {
  const info = useOutpost((s) => s.info);
  const online = info?.online;
  const state = info?.upstream?.state ?? 'unknown';
  return (
    <Group className="outpost-status-bar" gap="lg" wrap="nowrap" justify="space-between" role="status">
      <Group gap="lg" wrap="nowrap">
        <Tooltip label={upstreamTooltip(info?.upstream)} multiline w={320}>
          <Badge
            size="sm"
            variant="dot"
            color={online === undefined || state === 'unknown' ? 'gray' : online ? 'teal' : 'orange'}
            data-testid="status-online"
            data-online={online === undefined ? 'unknown' : String(online)}
            data-upstream-state={state}
          >
            {online === undefined ? 'connecting…' : state === 'unknown' ? 'checking upstream…' : online ? 'upstream reachable' : 'LAN only'}
          </Badge>
        </Tooltip>
        <VaultBadge />
        <JobsMenu />
        <Text size="xs" truncate="end">
          data <code data-testid="status-datadir">{info?.dataDir ?? '—'}</code>
        </Text>
      </Group>
      <Group gap="lg" wrap="nowrap">
        <Text size="xs">
          via <span data-testid="status-transport">{info?.transport ?? fallbackTransport}</span>
        </Text>
        <Text size="xs" data-testid="status-version">
          {info ? `Outpost ${info.version}` : 'Outpost'}
        </Text>
      </Group>
    </Group>
  );
}

/** What "LAN only" means right now: no upstream set, or which one did not answer and why. */
export function upstreamTooltip(reach: UpstreamReach | undefined): string {
  if (!reach || reach.state === 'unknown') return 'Checking whether the upstream answers…';
  if (reach.state === 'no-upstream') return 'No upstream configured yet (push once, or set it in Buffers → Upstream): work stays on this laptop.';
  if (reach.state === 'upstream-reachable') return `${reach.target ?? 'The upstream'} answers: stored data can be forwarded.`;
  return `${reach.target ?? 'The upstream'} does not answer${reach.error ? ` (${reach.error})` : ''}: work stays on this laptop until it does.`;
}
