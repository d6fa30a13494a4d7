import { Badge, Group, Text, Timeline } from '@mantine/core';
import type { DeployRecord, RolloutPhase } from '../../../../shared/contract';

export const PHASE_COLOR: Record<RolloutPhase, string> = {
  started: 'blue',
  transferred: 'blue',
  'old-stopped': 'yellow',
  'new-started': 'blue',
  healthy: 'teal',
  'old-aside': 'teal',
  promoted: 'teal',
  done: 'teal',
  'rolling-back': 'orange',
  'rolled-back': 'orange',
  failed: 'red',
};

/** The rollout's steps as they happened: transfer, stop old, start new, health gate, done or rolled back. */
export function RolloutSteps({ steps, deviceName }: { steps: DeployRecord[]; deviceName(id: string): string }) {
  if (steps.length === 0) return null;
  return (
    <Timeline active={steps.length - 1} bulletSize={14} lineWidth={2} data-testid="rollout-steps">
      {steps.map((s, i) => (
        <Timeline.Item
          key={`${s.id}-${s.phase}-${i}`}
          color={PHASE_COLOR[s.phase]}
          title={
            <Group gap={6}>
              <Text size="sm" fw={600}>
                {deviceName(s.deviceId)} · {s.service}
              </Text>
              <Badge size="xs" color={PHASE_COLOR[s.phase]} variant="light">
                {s.phase}
              </Badge>
            </Group>
          }
        >
          <Text size="xs" c="dimmed">
            {s.message || s.image} · {new Date(s.updatedAt).toLocaleTimeString()}
          </Text>
        </Timeline.Item>
      ))}
    </Timeline>
  );
}
