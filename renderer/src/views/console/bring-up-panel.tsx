import { Badge, Button, Checkbox, Code, Group, Paper, PasswordInput, Progress, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { Api, ResultOf, SerialIdentity, SiteProfile } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { planText } from './console-format';

type Plan = ResultOf<'serial:plan'>;
type Provisioned = ResultOf<'serial:provision'>;

const bytesToBase64 = (bytes: Uint8Array): string => {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
};

/** Identify the device on the console, then bring it up (the exact commands shown first) with a site profile. */
export function BringUpPanel({ api, path, baud }: { api: Api; path: string; baud: number }) {
  const reportError = useOutpost((s) => s.reportError);
  const [user, setUser] = useState('root');
  const [password, setPassword] = useState('');
  const [autoBaud, setAutoBaud] = useState(true);
  const [busy, setBusy] = useState<string | null>(null);
  const [identity, setIdentity] = useState<SerialIdentity | null>(null);
  const [profiles, setProfiles] = useState<SiteProfile[]>([]);
  const [profile, setProfile] = useState<string | null>(null);
  const [draft, setDraft] = useState({ name: '', hostnamePattern: 'gw-{n:2}', iface: 'eth0', poolFrom: '', poolTo: '', prefix: '24', gateway: '' });
  const [plan, setPlan] = useState<Plan | null>(null);
  const [result, setResult] = useState<Provisioned | null>(null);
  const [progress, setProgress] = useState<{ what: string; done: number; total: number } | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [dest, setDest] = useState('/tmp/');

  useEffect(() => {
    api.invoke('serial:profiles').then(setProfiles, () => undefined);
    return api.on('serial:progress', (p) => p.path === path && setProgress(p));
  }, [api, path]);

  const login = () => ({ path, baud: autoBaud ? ('auto' as const) : baud, user, password: password || undefined });
  const target = () => ({ ...login(), ...(profile ? { profile } : { bringUp: { authorizeLaptopKey: true, sshd: true, clock: true } }) });

  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what);
    setProgress(null);
    try {
      await fn();
    } catch (err) {
      reportError(err, `${what} on ${path} failed`);
    } finally {
      setBusy(null);
    }
  };

  const saveProfile = () =>
    run('Saving the profile', async () => {
      const network = draft.poolFrom && draft.poolTo ? { mode: 'static' as const, interface: draft.iface, poolFrom: draft.poolFrom, poolTo: draft.poolTo, prefix: Number(draft.prefix), gateway: draft.gateway || undefined } : undefined;
      const saved = await api.invoke('serial:profile-save', { name: draft.name, user, hostnamePattern: draft.hostnamePattern || undefined, network, authorizeLaptopKey: true, sshd: true, clock: true });
      setProfiles(await api.invoke('serial:profiles'));
      setProfile(saved.name);
    });

  return (
    <Paper withBorder p="sm" radius="md" data-testid="bring-up-panel">
      <Stack gap="xs">
        <Title order={5}>Identify and bring up</Title>
        <Group align="end" gap="sm">
          <TextInput label="User" value={user} onChange={(e) => setUser(e.currentTarget.value)} w={120} />
          <PasswordInput label="Password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} w={180} description="not needed without a login" />
          <Checkbox label="Auto-baud first" checked={autoBaud} onChange={(e) => setAutoBaud(e.currentTarget.checked)} mb={8} />
          <Button loading={busy === 'Identify'} disabled={Boolean(busy)} onClick={() => void run('Identify', async () => setIdentity(await api.invoke('serial:identify', login())))} data-testid="console-identify">
            Identify
          </Button>
        </Group>
        {identity && (
          <Table withRowBorders={false} fz="sm" data-testid="console-identity">
            <Table.Tbody>
              {[
                ['Hostname', identity.hostname],
                ['OS · arch', `${identity.os} · ${identity.arch}`],
                ['Speed', `${identity.baud} baud (confidence ${identity.confidence})`],
                ['MACs', identity.macs.join(', ') || '—'],
                ['Addresses', identity.addresses.join(', ') || '—'],
                ['Serial number', identity.serial ?? '—'],
                ['sshd', identity.sshd ? 'running' : 'not running'],
                ['Docker', identity.docker ? identity.dockerTools.join(', ') || 'socket' : 'absent'],
                ['Host key', identity.hostKeys[0] ? `${identity.hostKeys[0].type} ${identity.hostKeys[0].fingerprint}` : '—'],
              ].map(([k, v]) => (
                <Table.Tr key={k}>
                  <Table.Td c="dimmed" w={140}>
                    {k}
                  </Table.Td>
                  <Table.Td ff="monospace">{v}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <Group align="end" gap="sm">
          <Select label="Site profile" placeholder="none: key + sshd + clock" clearable data={profiles.map((p) => ({ value: p.name, label: `${p.name} (${Object.keys(p.assigned).length} devices)` }))} value={profile} onChange={setProfile} w={260} />
          <Button variant="default" disabled={Boolean(busy)} loading={busy === 'Planning'} onClick={() => void run('Planning', async () => setPlan(await api.invoke('serial:plan', target())))} data-testid="console-plan">
            Show commands
          </Button>
          <Button color="orange" disabled={Boolean(busy) || !plan} loading={busy === 'Bring-up'} onClick={() => void run('Bring-up', async () => setResult(await api.invoke('serial:provision', { ...target(), baud: plan?.baud ?? baud })))} data-testid="console-provision">
            Run bring-up
          </Button>
        </Group>
        <Group align="end" gap="xs">
          <TextInput size="xs" label="New profile" placeholder="site name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.currentTarget.value })} w={130} />
          <TextInput size="xs" label="Hostnames" value={draft.hostnamePattern} onChange={(e) => setDraft({ ...draft, hostnamePattern: e.currentTarget.value })} w={110} />
          <TextInput size="xs" label="Interface" value={draft.iface} onChange={(e) => setDraft({ ...draft, iface: e.currentTarget.value })} w={80} />
          <TextInput size="xs" label="Pool from" placeholder="DHCP if empty" value={draft.poolFrom} onChange={(e) => setDraft({ ...draft, poolFrom: e.currentTarget.value })} w={120} />
          <TextInput size="xs" label="to" value={draft.poolTo} onChange={(e) => setDraft({ ...draft, poolTo: e.currentTarget.value })} w={120} />
          <TextInput size="xs" label="/prefix" value={draft.prefix} onChange={(e) => setDraft({ ...draft, prefix: e.currentTarget.value })} w={60} />
          <TextInput size="xs" label="Gateway" value={draft.gateway} onChange={(e) => setDraft({ ...draft, gateway: e.currentTarget.value })} w={120} />
          <Button size="xs" variant="default" disabled={!draft.name} onClick={() => void saveProfile()}>
            Save profile
          </Button>
        </Group>
        {plan && !result && (
          <Code block data-testid="console-plan-text">
            {planText(plan.actions)}
          </Code>
        )}
        {progress && busy && <Progress value={progress.total ? (100 * progress.done) / progress.total : 0} size="sm" title={progress.what} />}
        {progress && busy && (
          <Text size="xs" c="dimmed" ff="monospace">
            {progress.what}
          </Text>
        )}
        {result && (
          <Stack gap={4} data-testid="console-provision-result">
            {result.actions.map((a) => (
              <Group key={a.id} gap="xs">
                <Badge color={a.ok ? 'green' : 'red'}>{a.ok ? 'ok' : 'failed'}</Badge>
                <Text size="sm">
                  {a.title}
                  {a.error ? ` — ${a.error.message}` : ''}
                </Text>
              </Group>
            ))}
            {result.pinned.map((p) => (
              <Text key={p.host} size="xs" c="dimmed">
                pinned {p.host}:{p.port} {p.fingerprint} (read over the console): the Devices view reaches it over SSH now
              </Text>
            ))}
          </Stack>
        )}
        <Group align="end" gap="sm">
          <input type="file" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} aria-label="File to send" />
          <TextInput size="xs" label="To (on the device)" value={dest} onChange={(e) => setDest(e.currentTarget.value)} w={220} />
          <Button
            size="xs"
            variant="default"
            disabled={!file || Boolean(busy)}
            loading={busy === 'Sending'}
            onClick={() =>
              void run('Sending', async () => {
                if (!file) return;
                const to = dest.endsWith('/') ? `${dest}${file.name}` : dest;
                const r = await api.invoke('serial:send-file', { ...login(), data: bytesToBase64(new Uint8Array(await file.arrayBuffer())), to });
                setProgress({ what: `sent ${r.bytes} bytes to ${r.to}, sha256 verified on the device`, done: 1, total: 1 });
              })
            }
          >
            Send file over the console
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
