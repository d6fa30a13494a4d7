import { Badge, Group, Tooltip } from '@mantine/core';
import type { Device, DeviceSource } from '../../../../shared/contract';
import { latencyBreaches } from '../../store/latency-slice';
import { useOutpost } from '../../store/context';
import { deviceExpiry } from '../../store/pki-slice';

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

/** A red badge while one of the device's latency probes is over its p95 or loss limit (the Latency view sets them). */
export function LatencyBadge({ deviceId }: { deviceId: string }) {
  // A string, not an array: a selector must return something stable between renders.
  const breaches = useOutpost((s) => (latencyBreaches(s.latencySeries, s.latencyStates)[deviceId] ?? []).join('; '));
  if (!breaches) return null;
  return (
    <Tooltip label={breaches}>
      <Badge size="sm" color="red" variant="filled" data-testid="device-latency-badge">
        latency
      </Badge>
    </Tooltip>
  );
}

/** Devices flashed from one image share an SSH host key: the key cannot tell them apart, so a flush could reach the wrong one. */
export function SharedHostKeyBadge({ device }: { device: Device }) {
  const others = device.ssh.sharedHostKeyWith ?? [];
  if (!others.length) return null;
  return (
    <Tooltip label={`Same SSH host key as ${others.length} other device${others.length > 1 ? 's' : ''} (cloned from one image?). Regenerate its host keys from its details.`}>
      <Badge size="sm" variant="filled" color="orange" data-testid="shared-host-key" data-shared-with={others.join(' ')}>
        shared host key
      </Badge>
    </Tooltip>
  );
}

/** Orange while one of the device's certificates has under 30 days left, red once one expired (the Certificates view renews it). */
export function CertExpiryBadge({ deviceId }: { deviceId: string }) {
  // A string, not an object: a selector must return something stable between renders.
  const found = useOutpost((s) => {
    const e = deviceExpiry(s.certificates.filter((c) => c.deviceId === deviceId))[deviceId];
    return e ? `${e.state}|${e.notAfter}|${e.profile}` : '';
  });
  if (!found) return null;
  const [state, notAfter, profile] = found.split('|') as [string, string, string];
  const expired = state === 'expired';
  return (
    <Tooltip label={`${profile} certificate ${expired ? 'expired' : 'expires'} ${notAfter.slice(0, 10)}: renew it in Certificates`}>
      <Badge size="sm" variant="filled" color={expired ? 'red' : 'orange'} data-testid="device-cert-expiry" data-state={state}>
        {expired ? 'cert expired' : 'cert expiring'}
      </Badge>
    </Tooltip>
  );
}
