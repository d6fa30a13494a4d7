import { Badge, Group } from '@mantine/core';
import type { Device, DeviceSource } from '../../../../shared/contract';

export const SOURCE_COLOR: Record<DeviceSource, string> = { manual: 'gray', mdns: 'blue', sweep: 'violet', serial: 'grape' };
export const SOURCE_LABEL: Record<DeviceSource, string> = { manual: 'manual', mdns: 'mDNS', sweep: 'sweep', serial: 'serial' };
export const STATE_COLOR: Record<Device['state'], string> = { online: 'teal', stale: 'orange', unknown: 'gray' };

export function SourceBadges({ sources }: { sources: readonly DeviceSource[] }) {
  return (
    <Group gap={4} wrap="nowrap">
      {sources.map((s) => (
        <Badge key={s} size="sm" variant="light" color={SOURCE_COLOR[s]} data-testid="device-source" data-source={s}>
          {SOURCE_LABEL[s]}
        </Badge>
      ))}
    </Group>
  );
}

export function StateBadge({ state }: { state: Device['state'] }) {
  return (
    <Badge size="sm" variant="dot" color={STATE_COLOR[state]} data-testid="device-state" data-state={state}>
      {state}
    </Badge>
  );
}
