import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import type { PendingRollout } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';

const RESOLUTION: Record<PendingRollout['resolution'], string> = {
  finish: 'The new version had been judged healthy: reconcile finishes the rollout (it never goes back).',
  undo: 'The new version was never judged healthy: reconcile removes it and puts the previous version back.',
};

/** A banner per device with services an interruption left mid-rollout, and the Reconcile action that settles them. */
export function PendingRolloutsBanner() {
  const pending = useOutpost((s) => s.pendingRollouts).filter((p) => !p.inProgress);
  const reconciling = useOutpost((s) => s.reconciling);
  const reconcile = useOutpost((s) => s.reconcile);
  if (pending.length === 0) return null;
  const byDevice = new Map<string, PendingRollout[]>();
  for (const p of pending) byDevice.set(p.deviceId, [...(byDevice.get(p.deviceId) ?? []), p]);

  return (
    <Stack gap="xs">
      {[...byDevice.entries()].map(([deviceId, services]) => {
        const name = services[0]?.deviceName ?? deviceId;
        return (
          <Alert key={deviceId} color="orange" variant="light" title={`${name}: left mid-rollout`} data-testid="pending-rollout" data-device={name}>
            <Stack gap={6}>
              {services.map((p) => (
                <div key={p.service} data-testid="pending-rollout-service" data-service={p.service} data-resolution={p.resolution}>
                  <Text size="sm">
                    <b>{p.service}</b> → {p.record.image}: stopped at <b>{p.devicePhase}</b> ({p.record.message})
                  </Text>
                  <Text size="xs" c="dimmed">
                    {RESOLUTION[p.resolution]}
                  </Text>
                </div>
              ))}
              <Text size="xs" c="dimmed">
                Outpost settles this by itself as soon as it reaches the device&apos;s engine again
                {services[0]?.lastError ? ` (last attempt: ${services[0].lastError})` : ''}.
              </Text>
              <Group>
                <Button size="xs" color="orange" loading={reconciling.includes(deviceId)} onClick={() => void reconcile(deviceId, name)} data-testid="pending-rollout-reconcile">
                  Reconcile now
                </Button>
              </Group>
            </Stack>
          </Alert>
        );
      })}
    </Stack>
  );
}
