import { Badge, Group, Text, Tooltip } from '@mantine/core';
import { useOutpost } from '../store/context';
import { VaultBadge } from './vault-dialog';
import { JobsMenu } from './jobs-menu';

export function StatusBar({ fallbackTransport }: { fallbackTransport: string }) {
  const info = useOutpost((s) => s.info);
  const online = info?.online;
  return (
    <Group className="outpost-status-bar" gap="lg" wrap="nowrap" justify="space-between" role="status">
      <Group gap="lg" wrap="nowrap">
        <Tooltip label={online ? 'This laptop has a route off the site' : 'No route off the site: work stays on this laptop until you are back online'}>
          <Badge
            size="sm"
            variant="dot"
            color={online === undefined ? 'gray' : online ? 'teal' : 'orange'}
            data-testid="status-online"
            data-online={online === undefined ? 'unknown' : String(online)}
          >
            {online === undefined ? 'connecting…' : online ? 'online' : 'offline'}
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
