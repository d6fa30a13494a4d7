import { Alert, Badge, Button, Group, MultiSelect, Paper, Progress, SegmentedControl, Stack, Stepper, Table, Text, Textarea, TextInput } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { DeployPlan } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import type { DeployDraft } from '../../store/workloads-slice';
import { networkDevices } from './containers-panel';
import { formatBytes, progressLabel, progressPercent, shortId } from './format';
import { RolloutSteps } from './rollout-steps';
import { CancelJobButton } from '../../components/cancel-job-button';

const EXAMPLE = `services:
  pump-controller:
    image: site/pump-controller:2.4
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:8080/health"]
`;

/** Pick devices, give a compose spec, review the edge defaults and bytes to send, then roll out with progress. */
export function DeployWizard() {
  const devices = useOutpost((s) => s.devices);
  const plan = useOutpost((s) => s.plan);
  const planning = useOutpost((s) => s.planning);
  const deploying = useOutpost((s) => s.deploying);
  const planDeploy = useOutpost((s) => s.planDeploy);
  const deploy = useOutpost((s) => s.deploy);
  const candidates = useMemo(() => networkDevices(devices), [devices]);
  const [step, setStep] = useState(0);
  const [source, setSource] = useState<'text' | 'path'>('text');
  const [draft, setDraft] = useState<DeployDraft>({ devices: [], composeText: '', composePath: '' });
  const effective: DeployDraft = source === 'text' ? { ...draft, composePath: '' } : { ...draft, composeText: '' };
  const ready = draft.devices.length > 0 && (source === 'text' ? draft.composeText.trim() !== '' : draft.composePath.trim() !== '');

  return (
    <Paper withBorder radius="md" p="md" data-testid="deploy-wizard">
      <Stepper active={step} onStepClick={(s) => !deploying && s < step && setStep(s)} size="sm">
        <Stepper.Step label="Targets and spec" description="devices, compose file">
          <Stack gap="sm" mt="md">
            <MultiSelect
              label="Devices"
              placeholder="pick the devices to deploy to"
              data={candidates.map((d) => ({ value: d.id, label: d.name }))}
              value={draft.devices}
              onChange={(v) => setDraft({ ...draft, devices: v })}
              searchable
              data-testid="deploy-devices"
            />
            <SegmentedControl
              size="xs"
              value={source}
              onChange={(v) => setSource(v as 'text' | 'path')}
              data={[
                { value: 'text', label: 'Paste compose' },
                { value: 'path', label: 'Load from file' },
              ]}
              w={260}
            />
            {source === 'text' ? (
              <Textarea
                label="Compose spec"
                description="The compose subset Outpost understands; edge defaults are added where you left a field out."
                placeholder={EXAMPLE}
                autosize
                minRows={8}
                maxRows={20}
                styles={{ input: { fontFamily: 'ui-monospace, monospace', fontSize: 12 } }}
                value={draft.composeText}
                onChange={(e) => setDraft({ ...draft, composeText: e.currentTarget.value })}
                data-testid="deploy-compose"
              />
            ) : (
              <TextInput
                label="Compose file on this laptop"
                placeholder="/media/usb/site/compose.yaml"
                value={draft.composePath}
                onChange={(e) => setDraft({ ...draft, composePath: e.currentTarget.value })}
                data-testid="deploy-compose-path"
              />
            )}
            <Group justify="flex-end">
              <Button
                disabled={!ready}
                loading={planning}
                onClick={() => void planDeploy(effective).then((p) => p && setStep(1))}
                data-testid="deploy-preview"
              >
                Preview
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Review" description="defaults, bytes to send">
          {plan && <PlanReview plan={plan} deviceName={(id) => devices.find((d) => d.id === id)?.name ?? id} />}
          <Group justify="space-between" mt="md">
            <Button variant="default" onClick={() => setStep(0)}>
              Back
            </Button>
            <Button
              color="teal"
              disabled={!plan || plan.devices.every((d) => d.error)}
              onClick={() => {
                setStep(2);
                void deploy(effective);
              }}
              data-testid="deploy-start"
            >
              Deploy to {draft.devices.length} device(s)
            </Button>
          </Group>
        </Stepper.Step>
        <Stepper.Step label="Roll out" description="transfer, health gate" loading={deploying}>
          <Rollout />
          <Group justify="flex-end" mt="md">
            <CancelJobButton kind="deploy" label="Cancel deploy" />
            <Button variant="default" disabled={deploying} onClick={() => setStep(0)}>
              New deploy
            </Button>
          </Group>
        </Stepper.Step>
      </Stepper>
    </Paper>
  );
}

function PlanReview({ plan, deviceName }: { plan: DeployPlan; deviceName(id: string): string }) {
  const totalBytes = plan.devices.reduce((n, d) => n + d.bytesToSend, 0);
  return (
    <Stack gap="md" mt="md" data-testid="deploy-plan">
      <div>
        <Text fw={600} mb={4}>
          Edge defaults applied
        </Text>
        {plan.applied.length === 0 ? (
          <Text size="sm" c="dimmed">
            None: the spec already sets every field the edge defaults cover.
          </Text>
        ) : (
          <Table verticalSpacing={4} striped data-testid="deploy-defaults">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Service</Table.Th>
                <Table.Th>Field</Table.Th>
                <Table.Th>Value</Table.Th>
                <Table.Th>Why</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {plan.applied.map((a) => (
                <Table.Tr key={`${a.service}/${a.field}`}>
                  <Table.Td>{a.service}</Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {a.field}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" ff="monospace">
                      {JSON.stringify(a.value)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" c="dimmed">
                      {a.reason}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </div>
      <div>
        <Group justify="space-between" mb={4}>
          <Text fw={600}>What goes over the wire</Text>
          <Text size="sm" c="dimmed">
            {formatBytes(totalBytes)} in total
          </Text>
        </Group>
        <Table verticalSpacing={4} data-testid="deploy-transfer-plan">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Device</Table.Th>
              <Table.Th>Service</Table.Th>
              <Table.Th>Image</Table.Th>
              <Table.Th>Layers to send</Table.Th>
              <Table.Th>Bytes</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {plan.devices.map((d) => (
              <Table.Tr key={`${d.deviceId}/${d.service}`}>
                <Table.Td>{deviceName(d.deviceId)}</Table.Td>
                <Table.Td>{d.service}</Table.Td>
                <Table.Td>
                  <Text size="xs" ff="monospace">
                    {d.image} ({shortId(d.imageId)})
                  </Text>
                </Table.Td>
                <Table.Td>{d.error ? <Badge color="red" variant="light">{d.error.kind}</Badge> : `${d.layersToSend} of ${d.layersTotal}`}</Table.Td>
                <Table.Td>{d.error ? <Text size="xs" c="red">{d.error.message}</Text> : d.bytesToSend === 0 ? 'already there' : formatBytes(d.bytesToSend)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
    </Stack>
  );
}

function Rollout() {
  const transfers = useOutpost((s) => s.transfers);
  const steps = useOutpost((s) => s.rolloutSteps);
  const deploying = useOutpost((s) => s.deploying);
  const devices = useOutpost((s) => s.devices);
  const entries = Object.values(transfers);
  return (
    <Stack gap="md" mt="md" data-testid="deploy-rollout">
      {entries.length === 0 && deploying && (
        <Alert variant="light" color="blue">
          Connecting to the devices and comparing layers…
        </Alert>
      )}
      {entries.map((t) => (
        <div key={t.deviceId} data-testid="transfer-progress">
          <Group justify="space-between" mb={4}>
            <Group gap={6}>
              <Text size="sm" fw={600}>
                {devices.find((d) => d.id === t.deviceId)?.name ?? t.deviceId}
              </Text>
              <Badge size="xs" variant="light">
                {t.phase}
              </Badge>
            </Group>
            <Text size="xs" c="dimmed">
              {progressLabel(t)}
            </Text>
          </Group>
          <Progress value={progressPercent(t)} animated={deploying && t.bytesSent < t.bytesTotal} size="lg" />
        </div>
      ))}
      <RolloutSteps steps={steps} deviceName={(id) => devices.find((d) => d.id === id)?.name ?? id} />
    </Stack>
  );
}
