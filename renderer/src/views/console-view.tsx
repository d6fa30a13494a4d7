import { Badge, Button, Checkbox, Group, NumberInput, Paper, Select, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Api, Device, LineMapArgs, SerialPortInfo } from '../../../shared/contract';
import { Terminal } from '../components/terminal';
import { useOutpost } from '../store/context';
import { BringUpPanel } from './console/bring-up-panel';
import { BAUD_RATES, MAP_FLAGS, portLabel, saveText, type PortSettings } from './console/console-format';

const DEFAULT_SETTINGS: PortSettings = { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1, flow: 'none' };

/** Ports on the laptop, re-listed every few seconds so an adapter plugged in shows up without a click. */
function useSerialPorts(api: Api, extra: string[]): SerialPortInfo[] {
  const [ports, setPorts] = useState<SerialPortInfo[]>([]);
  const key = extra.join('\n');
  useEffect(() => {
    let alive = true;
    const load = () =>
      api.invoke('discovery:serial-ports', { serialPaths: key ? key.split('\n') : undefined }).then(
        (p) => alive && setPorts(p),
        () => undefined,
      );
    void load();
    const timer = setInterval(() => void load(), 2_000);
    const off = api.on('discovery:serial-changed', () => void load());
    return () => {
      alive = false;
      clearInterval(timer);
      off();
    };
  }, [api, key]);
  return ports;
}

export function ConsoleView() {
  const api = useOutpost((s) => s.workloadsApi);
  const reportError = useOutpost((s) => s.reportError);
  const notify = useOutpost((s) => s.notify);
  const [mode, setMode] = useState<'serial' | 'ssh'>('serial');
  const [extraPath, setExtraPath] = useState('');
  const [extras, setExtras] = useState<string[]>([]);
  const ports = useSerialPorts(api, extras);
  const [path, setPath] = useState<string | null>(null);
  const [settings, setSettings] = useState<PortSettings>(DEFAULT_SETTINGS);
  const [map, setMap] = useState<LineMapArgs>({});
  const [connected, setConnected] = useState(0);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [portState, setPortState] = useState<{ state: string; message: string } | null>(null);
  const [lines, setLines] = useState({ dtr: true, rts: true });
  const [busy, setBusy] = useState<string | null>(null);
  const [devices, setDevices] = useState<Device[]>([]);
  const [sshDevice, setSshDevice] = useState<string | null>(null);
  const [sshOpen, setSshOpen] = useState(0);

  useEffect(() => {
    if (mode === 'ssh') api.invoke('devices:list', {}).then(setDevices, (err: unknown) => reportError(err, 'Could not list devices'));
  }, [api, mode, reportError]);

  useEffect(
    () =>
      api.on('serial:state', (s) => {
        if (s.sessionId === sessionId) setPortState({ state: s.state, message: s.message });
      }),
    [api, sessionId],
  );

  const target = useMemo(
    () =>
      path
        ? {
            kind: 'serial' as const,
            path,
            settings: { baudRate: settings.baudRate, dataBits: settings.dataBits, parity: settings.parity, stopBits: settings.stopBits, rtscts: settings.flow === 'rtscts', xonxoff: settings.flow === 'xonxoff' },
            map,
          }
        : null,
    // The session opens with these settings; later changes go through serial:configure without reopening.
    [path, connected],
  );

  const configure = useCallback(
    (next: Partial<PortSettings>, nextMap?: LineMapArgs) => {
      const merged = { ...settings, ...next };
      setSettings(merged);
      if (nextMap) setMap(nextMap);
      if (!sessionId) return;
      api
        .invoke('serial:configure', {
          sessionId,
          settings: { baudRate: merged.baudRate, dataBits: merged.dataBits, parity: merged.parity, stopBits: merged.stopBits, rtscts: merged.flow === 'rtscts', xonxoff: merged.flow === 'xonxoff' },
          map: nextMap ?? map,
        })
        .catch((err: unknown) => reportError(err, 'Could not change the port settings'));
    },
    [api, map, reportError, sessionId, settings],
  );

  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what);
    try {
      await fn();
    } catch (err) {
      reportError(err, `${what} failed`);
    } finally {
      setBusy(null);
    }
  };

  const autoBaud = () =>
    run('Auto-baud', async () => {
      if (!path) return;
      const choice = await api.invoke('serial:autobaud', { path });
      if (choice.baud === null) {
        notify({ tone: 'error', title: 'No baud rate gave readable text', message: choice.tried.map((t) => `${t.baud}: ${t.reason}`).join(' · ') });
        return;
      }
      setSettings((s) => ({ ...s, baudRate: choice.baud as number }));
      notify({ tone: 'success', title: `${choice.baud} baud`, message: `confidence ${choice.confidence}` });
    });

  const signal = (args: { dtr?: boolean; rts?: boolean; brk?: boolean }) =>
    run(args.brk ? 'BREAK' : 'Modem lines', async () => {
      if (!sessionId) return;
      await api.invoke('serial:signal', { sessionId, ...args });
      if (args.dtr !== undefined || args.rts !== undefined) setLines((l) => ({ dtr: args.dtr ?? l.dtr, rts: args.rts ?? l.rts }));
    });

  const saveLog = () =>
    run('Saving the log', async () => {
      if (!sessionId) return;
      const log = await api.invoke('serial:log', { sessionId });
      saveText(log.file.split('/').pop() ?? 'serial.log', log.text);
    });

  return (
    <Stack p="md" gap="sm" data-testid="console-view">
      <Group justify="space-between">
        <Title order={3}>Console</Title>
        <SegmentedControl size="xs" value={mode} onChange={(v) => setMode(v as 'serial' | 'ssh')} data={[{ value: 'serial', label: 'Serial' }, { value: 'ssh', label: 'SSH shell' }]} />
      </Group>
      {mode === 'ssh' ? (
        <Stack gap="sm">
          <Group align="end">
            <Select label="Device" placeholder="pick a device" data={devices.filter((d) => d.addresses.length || d.hostnames.length).map((d) => ({ value: d.id, label: `${d.name} (${d.addresses[0] ?? d.hostnames[0]})` }))} value={sshDevice} onChange={setSshDevice} searchable w={320} />
            <Button disabled={!sshDevice} onClick={() => setSshOpen((n) => n + 1)}>
              Open shell
            </Button>
          </Group>
          {sshDevice && sshOpen > 0 && (
            <Terminal key={`${sshDevice}-${sshOpen}`} api={api} target={{ kind: 'ssh-shell', device: sshDevice }} title={`${devices.find((d) => d.id === sshDevice)?.name ?? sshDevice} · shell`} onError={(err) => reportError(err, 'Could not open an SSH shell')} />
          )}
        </Stack>
      ) : (
        <>
          <Paper withBorder p="sm" radius="md">
            <Group align="end" gap="sm" wrap="wrap">
              <Select
                label="Port"
                placeholder={ports.length ? 'pick a port' : 'no serial ports: plug in an adapter'}
                data={ports.map((p) => ({ value: p.path, label: portLabel(p) }))}
                value={path}
                onChange={(p) => {
                  setPath(p);
                  setConnected(0);
                }}
                w={300}
                data-testid="console-port"
              />
              <TextInput label="Other path" placeholder="/dev/pts/7" value={extraPath} onChange={(e) => setExtraPath(e.currentTarget.value)} w={200} />
              <Button variant="default" disabled={!extraPath} onClick={() => (setExtras((x) => [...new Set([...x, extraPath])]), setPath(extraPath))}>
                Add
              </Button>
              <Select label="Baud" data={BAUD_RATES.map(String)} value={String(settings.baudRate)} onChange={(v) => v && configure({ baudRate: Number(v) })} w={110} searchable />
              <Button variant="light" loading={busy === 'Auto-baud'} disabled={!path} onClick={() => void autoBaud()} data-testid="console-autobaud">
                Auto-baud
              </Button>
              <NumberInput label="Data bits" min={5} max={8} value={settings.dataBits} onChange={(v) => configure({ dataBits: Number(v) as PortSettings['dataBits'] })} w={90} />
              <Select label="Parity" data={['none', 'even', 'odd', 'mark', 'space']} value={settings.parity} onChange={(v) => v && configure({ parity: v as PortSettings['parity'] })} w={100} />
              <Select label="Stop bits" data={['1', '2']} value={String(settings.stopBits)} onChange={(v) => v && configure({ stopBits: Number(v) as 1 | 2 })} w={90} />
              <Select label="Flow" data={[{ value: 'none', label: 'none' }, { value: 'rtscts', label: 'RTS/CTS' }, { value: 'xonxoff', label: 'XON/XOFF' }]} value={settings.flow} onChange={(v) => v && configure({ flow: v as PortSettings['flow'] })} w={120} />
            </Group>
            <Group mt="xs" gap="md">
              {MAP_FLAGS.map((f) => (
                <Checkbox key={f.flag} size="xs" label={f.label} checked={Boolean(map[f.flag])} onChange={(e) => configure({}, { ...map, [f.flag]: e.currentTarget.checked })} />
              ))}
            </Group>
          </Paper>
          <Group gap="xs">
            <Button disabled={!path} onClick={() => setConnected((n) => n + 1)} data-testid="console-connect">
              {connected ? 'Reconnect' : 'Connect'}
            </Button>
            <Button variant="default" disabled={!connected} onClick={() => (setConnected(0), setSessionId(null), setPortState(null))}>
              Disconnect
            </Button>
            <Button variant="default" disabled={!sessionId} loading={busy === 'BREAK'} onClick={() => void signal({ brk: true })}>
              Send BREAK
            </Button>
            <Button variant="default" disabled={!sessionId} onClick={() => void signal({ dtr: !lines.dtr })}>
              DTR {lines.dtr ? 'on' : 'off'}
            </Button>
            <Button variant="default" disabled={!sessionId} onClick={() => void signal({ rts: !lines.rts })}>
              RTS {lines.rts ? 'on' : 'off'}
            </Button>
            <Button variant="default" disabled={!sessionId} onClick={() => void saveLog()} data-testid="console-save-log">
              Save session log
            </Button>
            {portState && (
              <Badge color={portState.state === 'open' ? 'green' : portState.state === 'closed' ? 'gray' : 'orange'} title={portState.message} data-testid="console-port-state">
                {portState.state}
              </Badge>
            )}
          </Group>
          {target && connected > 0 ? (
            <Terminal key={`${target.path}-${connected}`} api={api} target={target} title={`${target.path} · ${settings.baudRate} ${settings.dataBits}${settings.parity[0]?.toUpperCase()}${settings.stopBits}`} onSession={setSessionId} onError={(err) => reportError(err, `Could not open ${target.path}`)} height={360} />
          ) : (
            <Text size="sm" c="dimmed">
              Pick the port of the USB-UART cable (or a console server’s pty), set its speed — or press Auto-baud — and Connect. An adapter pulled out is waited for and
              reopened by itself.
            </Text>
          )}
          {path && <BringUpPanel api={api} path={path} baud={settings.baudRate} />}
        </>
      )}
    </Stack>
  );
}
