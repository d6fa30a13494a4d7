import { Alert, Badge, Button, Group, Loader, Modal, SegmentedControl, Stack, TagsInput, Text, Textarea } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import type { Device, OutboxSpec, ResultOf } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';

type Config = ResultOf<'buffers:config'>;

/** `/var/lib/app/outbox.db` or `/var/lib/app/outbox.db:events` per line (the CLI's `--outbox file[:table]`). */
export function parseOutboxLines(text: string): OutboxSpec[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const colon = line.lastIndexOf(':');
      return colon > 0 ? { file: line.slice(0, colon), table: line.slice(colon + 1) } : { file: line, table: 'outbox' };
    });
}

export const formatOutboxes = (outboxes: readonly OutboxSpec[]) => outboxes.map((o) => (o.table === 'outbox' ? o.file : `${o.file}:${o.table}`)).join('\n');

/** "Paths…" beside a device in Buffers: where it keeps its buffers, set and checked on the device. */
export function BufferPathsButton({ device }: { device: Device }) {
  const [open, setOpen] = useState(false);
  // Stable, so the dialog reads the configuration once per opening, not on every re-render of the table.
  const close = useCallback(() => setOpen(false), []);
  return (
    <>
      <Button size="compact-xs" variant="subtle" onClick={() => setOpen(true)} data-testid="buffer-paths-open">
        Paths…
      </Button>
      {open && <BufferPathsDialog device={device} onClose={close} />}
    </>
  );
}

function BufferPathsDialog({ device, onClose }: { device: Device; onClose: () => void }) {
  const bufferConfig = useOutpost((s) => s.bufferConfig);
  const [config, setConfig] = useState<Config | null>(null);
  const [spools, setSpools] = useState<string[]>([]);
  const [outboxes, setOutboxes] = useState('');
  const [ack, setAck] = useState<'delete' | 'move'>('delete');
  const [busy, setBusy] = useState(false);

  const show = (c: Config) => {
    setConfig(c);
    setSpools(c.spools);
    setOutboxes(formatOutboxes(c.outboxes));
    setAck(c.ack);
  };

  // Read once per opening (the dialog is mounted only while open).
  useEffect(() => {
    void bufferConfig({ deviceId: device.id }).then((c) => (c ? show(c) : onClose()));
  }, [bufferConfig, device.id, onClose]);

  async function save(reset: boolean) {
    setBusy(true);
    const c = await bufferConfig(reset ? { deviceId: device.id, reset: true } : { deviceId: device.id, spools, outboxes: parseOutboxLines(outboxes), ack });
    setBusy(false);
    if (c) show(c);
  }

  const check = config?.check;
  return (
    <Modal opened onClose={onClose} title={`Buffers on ${device.name}`} size="lg" data-testid="buffer-paths-dialog">
      {!config ? (
        <Loader size="sm" />
      ) : (
        <Stack gap="sm">
          <Group gap="xs">
            <Text size="sm">Where this device spools what it could not send. A flush drains these.</Text>
            {config.defaults && (
              <Badge size="sm" variant="light" color="gray" data-testid="buffer-paths-defaults">
                defaults
              </Badge>
            )}
          </Group>
          <TagsInput
            label="Spool directories"
            description="Absolute paths; each holds <stream>/ready/<segment>. Enter adds one."
            value={spools}
            onChange={setSpools}
            splitChars={[',', ' ']}
            clearable
            data-testid="buffer-paths-spools"
          />
          <Textarea
            label="SQLite outboxes"
            description="One per line: /path/outbox.db, or /path/outbox.db:table (default table outbox)."
            autosize
            minRows={2}
            value={outboxes}
            onChange={(e) => setOutboxes(e.currentTarget.value)}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            data-testid="buffer-paths-outboxes"
          />
          <div>
            <Text size="sm" fw={500}>
              Once the laptop holds a segment durably
            </Text>
            <SegmentedControl
              size="xs"
              value={ack}
              onChange={(v) => setAck(v === 'move' ? 'move' : 'delete')}
              data={[
                { value: 'delete', label: 'delete it on the device' },
                { value: 'move', label: 'move it to <stream>/acked/' },
              ]}
              data-testid="buffer-paths-ack"
            />
          </div>
          {check && <CheckResult check={check} deviceName={device.name} />}
          <Group justify="space-between">
            <Button variant="subtle" size="xs" disabled={busy || config.defaults} onClick={() => void save(true)} data-testid="buffer-paths-reset">
              Back to the defaults
            </Button>
            <Group gap="xs">
              <Button variant="default" size="xs" onClick={onClose}>
                Close
              </Button>
              <Button size="xs" loading={busy} onClick={() => void save(false)} data-testid="buffer-paths-save">
                Save and check on the device
              </Button>
            </Group>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function CheckResult({ check, deviceName }: { check: NonNullable<Config['check']>; deviceName: string }) {
  if (!check.reached)
    return (
      <Alert color="orange" variant="light" title="Saved, not checked" data-testid="buffer-paths-check" data-reached="false">
        {deviceName} could not be reached ({check.error?.kind}: {check.error?.message}).
      </Alert>
    );
  if (check.missing.length === 0)
    return (
      <Alert color="teal" variant="light" title={`Every location exists on ${deviceName}`} data-testid="buffer-paths-check" data-reached="true" data-missing="">
        {null}
      </Alert>
    );
  return (
    <Alert color="orange" variant="light" title={`Not found on ${deviceName}`} data-testid="buffer-paths-check" data-reached="true" data-missing={check.missing.join(',')}>
      <Stack gap={2}>
        {check.missing.map((m) => (
          <Text key={m} size="sm" ff="monospace" data-testid="buffer-paths-missing">
            {m}
          </Text>
        ))}
        <Text size="xs" c="dimmed">
          Saved anyway; nothing is flushed from a location until it exists.
        </Text>
      </Stack>
    </Alert>
  );
}
