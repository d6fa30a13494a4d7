import { Badge, Button, Checkbox, Group, Progress, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import type { BulkOutcome } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import type { ClockCheck, Preview, ProvisionEvent } from '../../store/pki-slice';
import { day, formatSans, formatSkew, STAGE_LABEL, stagePercent } from './cert-format';

/** Per device: the names its certificate will carry and what its clock says, with a button to set a wrong one. */
export function ReviewTable({ preview }: { preview: Preview }) {
  const clockChecks = useOutpost((s) => s.clockChecks);
  return (
    <Stack gap="xs" mt="md">
      <Text size="sm" c="dimmed">
        {preview.profile.name}: {preview.profile.description}; valid {preview.profile.lifetimeDays} days.
      </Text>
      <Table verticalSpacing={6} data-testid="provision-review-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Device</Table.Th>
            <Table.Th>Subject</Table.Th>
            <Table.Th>SANs</Table.Th>
            <Table.Th>Clock</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {preview.devices.map((d) => (
            <Table.Tr key={d.deviceId} data-testid="provision-review-row" data-device={d.deviceName}>
              <Table.Td>
                <Text size="sm" fw={550}>
                  {d.deviceName}
                </Text>
              </Table.Td>
              <Table.Td>{d.error ? <Text size="sm" c="red">{`${d.error.kind}: ${d.error.message}`}</Text> : <Text size="sm">CN={d.commonName}</Text>}</Table.Td>
              <Table.Td>
                <Text size="xs" data-testid="provision-sans">
                  {d.sans ? (preview.profile.sans === 'none' ? 'none (client profile)' : formatSans(d.sans)) : '—'}
                </Text>
              </Table.Td>
              <Table.Td>
                <ClockCell deviceId={d.deviceId} check={clockChecks[d.deviceId]} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

function ClockCell({ deviceId, check }: { deviceId: string; check: ClockCheck | undefined }) {
  const setDeviceClock = useOutpost((s) => s.setDeviceClock);
  const [busy, setBusy] = useState(false);
  if (!check) return <Text size="xs" c="dimmed">reading…</Text>;
  if ('error' in check) {
    return (
      <Text size="xs" c="red" data-testid="provision-clock" data-clock="error">
        {check.error.kind}: {check.error.message}
      </Text>
    );
  }
  const { status } = check;
  if (status.ok) {
    return (
      <Badge size="sm" color="teal" variant="light" data-testid="provision-clock" data-clock="ok">
        ok ({formatSkew(status.skewSeconds)})
      </Badge>
    );
  }
  return (
    <Group gap={6} wrap="nowrap" data-testid="provision-clock" data-clock="skewed">
      <Text size="xs" c="orange">
        reads {status.deviceTime.slice(0, 19).replace('T', ' ')} ({formatSkew(status.skewSeconds)})
      </Text>
      <Button
        size="compact-xs"
        variant="light"
        color="orange"
        loading={busy}
        onClick={() => {
          setBusy(true);
          void setDeviceClock(deviceId).finally(() => setBusy(false));
        }}
        data-testid="provision-set-clock-now"
      >
        Set clock
      </Button>
    </Group>
  );
}

function progressRow(id: string, event: ProvisionEvent | undefined, outcome: BulkOutcome | undefined, name: string) {
  if (outcome && (outcome.ok || outcome.error)) {
    return { name: outcome.deviceName, stage: outcome.ok ? ('done' as const) : outcome.stage, ok: outcome.ok, error: outcome.error, outcome };
  }
  if (event?.stage === 'failed') return { name: event.deviceName, stage: 'failed' as const, ok: false, error: { kind: event.kind ?? 'error', message: event.error ?? '' }, outcome };
  return { name: event?.deviceName ?? name, stage: event?.stage ?? ('queued' as const), ok: event?.stage === 'done', error: undefined, outcome };
}

/** Each device's steps as they happen, then the summary; failures can be retried alone. */
export function ProvisionProgress({ deviceIds, withInstall }: { deviceIds: string[]; withInstall: boolean }) {
  const progress = useOutpost((s) => s.provisionProgress);
  const summary = useOutpost((s) => s.provisionSummary);
  const provisioning = useOutpost((s) => s.provisioning);
  const devices = useOutpost((s) => s.devices);
  const retry = useOutpost((s) => s.retryFailedProvisioning);
  const [retrySetClock, setRetrySetClock] = useState(true);
  const ids = summary ? summary.outcomes.map((o) => o.deviceId) : deviceIds;
  const skewed = summary?.outcomes.some((o) => !o.ok && o.error?.kind === 'clock-skew') ?? false;

  return (
    <Stack gap="sm" mt="md">
      <Table verticalSpacing={6} data-testid="provision-progress">
        <Table.Tbody>
          {ids.map((id) => {
            const row = progressRow(id, progress[id], summary?.outcomes.find((o) => o.deviceId === id), devices.find((d) => d.id === id)?.name ?? id);
            const failed = Boolean(row.error);
            const cert = row.outcome?.result?.certificate;
            return (
              <Table.Tr key={id} data-testid="provision-device" data-device={row.name} data-stage={row.stage} data-ok={String(row.ok)}>
                <Table.Td w={160}>
                  <Text size="sm" fw={550}>
                    {row.name}
                  </Text>
                </Table.Td>
                <Table.Td w={220}>
                  <Progress value={failed ? 100 : stagePercent(row.stage, withInstall)} color={failed ? 'red' : row.ok ? 'teal' : 'blue'} animated={!failed && !row.ok && provisioning} />
                </Table.Td>
                <Table.Td>
                  {failed ? (
                    <Text size="xs" c="red" data-testid="provision-error">
                      <Badge size="xs" color="red" mr={6} data-testid="provision-error-kind">
                        {row.error?.kind}
                      </Badge>
                      at {STAGE_LABEL[row.stage]}: {row.error?.message}
                    </Text>
                  ) : (
                    <Text size="xs" data-testid="provision-step">
                      {row.ok && cert ? `issued ${cert.serial.slice(0, 12)}…, valid until ${day(cert.notAfter)}` : (progress[id]?.step ?? STAGE_LABEL[row.stage])}
                    </Text>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {summary && (
        <Group justify="space-between" data-testid="provision-summary" data-succeeded={summary.succeeded} data-failed={summary.failed}>
          <Text size="sm" fw={550}>
            {summary.succeeded} of {summary.total} provisioned{summary.failed ? `, ${summary.failed} failed` : ''}
          </Text>
          {summary.failed > 0 && (
            <Group gap="xs">
              {skewed && <Checkbox size="xs" label="set wrong clocks this time" checked={retrySetClock} onChange={(e) => setRetrySetClock(e.currentTarget.checked)} />}
              <Button size="xs" color="orange" loading={provisioning} onClick={() => void retry(skewed ? retrySetClock : undefined)} data-testid="provision-retry">
                Retry failures ({summary.failed})
              </Button>
            </Group>
          )}
        </Group>
      )}
    </Stack>
  );
}
