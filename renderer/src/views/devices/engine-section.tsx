import { Alert, Button, Code, Group, List, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { Device } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { relativeTime } from './device-format';
import { engineCaveats, engineView, productText, sourceText } from './engine-format';
import { Field } from './trust-section';

/** Where the device's container engine answered (or every place tried when none did), and the socket setting. */
export function EngineSection({ device }: { device: Device }) {
  const updateDevice = useOutpost((s) => s.updateDevice);
  const locateEngine = useOutpost((s) => s.locateEngine);
  const setting = device.docker?.socket ?? '';
  const [socket, setSocket] = useState(setting);
  // The setting changed under the field (the CLI, another window; seen at the next reload): show the one in force,
  // or an unchanged Save would put back what the field held before.
  const [shown, setShown] = useState(setting);
  if (shown !== setting) {
    setShown(setting);
    setSocket(setting);
  }
  const [busy, setBusy] = useState<'save' | 'locate' | null>(null);
  const view = engineView(device);

  async function save(event: FormEvent<HTMLFormElement>, value: string | null) {
    event.preventDefault();
    setBusy('save');
    const saved = await updateDevice({ id: device.id, engineSocket: value });
    // The new setting is tried at once: look again now rather than at the next workloads call.
    if (saved) await locateEngine(saved);
    setBusy(null);
  }

  async function locate() {
    setBusy('locate');
    await locateEngine(device);
    setBusy(null);
  }

  return (
    <Stack gap="xs" data-testid="engine-section">
      {view.state === 'unknown' && (
        <Text size="sm" c="dimmed" data-testid="engine-unknown">
          Not looked for yet: Outpost looks when Workloads first reaches the device, or now with “Look for the engine”.
        </Text>
      )}
      {view.state === 'found' && (
        <>
          <Field label="Engine" value={productText(view.found)} testId="engine-product" />
          <Field label="Socket" value={view.found.socket} testId="engine-socket" />
          <Field label="Found by" value={`${sourceText(view.found.source)} · ${relativeTime(view.found.foundAt)}`} testId="engine-source" />
          {view.found.systemd !== undefined && <Field label="Init" value={view.found.systemd ? 'systemd' : 'not systemd'} />}
          {engineCaveats(view.found).map((c) => (
            <Text key={c} size="xs" c="orange" data-testid="engine-caveat">
              {c}
            </Text>
          ))}
          {view.found.tried.length > 0 && (
            <Text size="xs" c="dimmed" data-testid="engine-passed-over">
              Passed over first: {view.found.tried.map((t) => `${t.socket} (${t.result})`).join('; ')}
            </Text>
          )}
        </>
      )}
      {view.state === 'not-found' && (
        <Alert color="red" title={`No container engine answered (${relativeTime(view.at)})`} data-testid="engine-not-found">
          <Text size="xs">Outpost tried, in this order:</Text>
          <List size="xs" spacing={2}>
            {view.tried.map((t) => (
              <List.Item key={t.socket}>
                <Code>{t.socket}</Code> — {sourceText(t.source)}: {t.result}
              </List.Item>
            ))}
          </List>
          {view.before && (
            <Text size="xs" mt={4}>
              Before that, {productText(view.before)} answered at <Code>{view.before.socket}</Code>.
            </Text>
          )}
          <Text size="xs" mt={4}>
            If the engine listens elsewhere, set its socket below.
          </Text>
        </Alert>
      )}
      <form onSubmit={(e) => void save(e, socket.trim() || null)} data-testid="engine-socket-form">
        <Group gap="sm" align="flex-end">
          <TextInput
            style={{ flex: 1 }}
            label="Engine socket on the device"
            description="Tried before DOCKER_HOST and the usual places; empty: look in the usual places."
            placeholder="/run/podman/podman.sock"
            value={socket}
            onChange={(e) => setSocket(e.currentTarget.value)}
            data-testid="engine-socket-input"
          />
          <Button type="submit" size="xs" loading={busy === 'save'} disabled={busy !== null} data-testid="engine-socket-save">
            Save
          </Button>
          {device.docker?.socket && (
            <Button
              size="xs"
              variant="subtle"
              disabled={busy !== null}
              onClick={(e) => {
                setSocket('');
                void save(e as unknown as FormEvent<HTMLFormElement>, null);
              }}
              data-testid="engine-socket-clear"
            >
              Clear
            </Button>
          )}
        </Group>
      </form>
      <Group>
        <Button size="xs" variant="light" loading={busy === 'locate'} disabled={busy !== null} onClick={() => void locate()} data-testid="engine-locate">
          Look for the engine
        </Button>
      </Group>
    </Stack>
  );
}
