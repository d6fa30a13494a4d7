import { Autocomplete, Badge, Button, Card, Group, NumberInput, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { effectiveLink, siteDefaultsFor, type Device, type LinkDefaultsTable } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';

const baseName = (path: string) => path.split('/').pop() ?? path;

/**
 * The site's SSH defaults: a technician sets the login, port and key once for every device of this site that has
 * none of its own (a device's own, set in its drawer, comes first; a view's Connection override comes before both).
 */
export function SiteLinkDefaultsCard() {
  const table = useOutpost((s) => s.linkDefaults);
  const save = useOutpost((s) => s.saveLinkDefaults);
  const devices = useOutpost((s) => s.devices);
  // Which set is edited: every site (empty), or one site as the devices' `site` tag names it.
  const [scope, setScope] = useState('');
  const site = scope.trim() || undefined;
  const defaults = site === undefined ? table.all : (table.sites[site] ?? {});
  const knownSites = useMemo(() => [...new Set([...devices.map((d) => d.tags.site).filter((s): s is string => Boolean(s)), ...Object.keys(table.sites)])].sort(), [devices, table.sites]);
  const [user, setUser] = useState(defaults.user ?? '');
  const [port, setPort] = useState<number | string>(defaults.port ?? '');
  const [key, setKey] = useState(defaults.identityFile ?? '');
  const [busy, setBusy] = useState(false);

  // The form follows the stored set of the chosen scope (loaded at start, changed by another window or the CLI).
  const stored = site === undefined ? table.all : table.sites[site];
  useEffect(() => {
    setUser(stored?.user ?? '');
    setPort(stored?.port ?? '');
    setKey(stored?.identityFile ?? '');
  }, [stored]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    // An emptied field removes that default (back to built-in root / 22 / the laptop key).
    await save({ site, user: user.trim() || null, port: typeof port === 'number' ? port : null, identityFile: key.trim() || null });
    setBusy(false);
  }

  async function clearAll() {
    setBusy(true);
    await save({ site, user: null, port: null, identityFile: null });
    setBusy(false);
  }

  return (
    <Card withBorder padding="md" data-testid="site-link-defaults">
      <form onSubmit={(e) => void submit(e)}>
        <Stack gap="sm">
          <div>
            <Title order={4}>Site defaults for SSH</Title>
            <Text size="sm" c="dimmed">
              How to log in to a device that has no login, port or key of its own: every device of this site, and an address met for the first time. A device&apos;s own
              settings (its drawer in Devices) come first; a view&apos;s <b>Connection</b> button overrides both for one run.
            </Text>
          </div>
          <Autocomplete
            label="Applies to"
            description="Empty: every site. A site name: only devices tagged site=<name> (tag them in Devices); what it leaves empty comes from every site's."
            placeholder="every site"
            data={knownSites}
            value={scope}
            onChange={setScope}
            data-testid="site-scope"
          />
          <Group gap="sm" grow align="flex-start">
            <TextInput label="SSH user" placeholder="root (built-in)" value={user} onChange={(e) => setUser(e.currentTarget.value)} data-testid="site-user" />
            <NumberInput label="SSH port" placeholder="22 (built-in)" min={1} max={65535} value={port} onChange={setPort} data-testid="site-port" />
          </Group>
          <TextInput
            label="SSH key file on this laptop"
            description="The laptop's own key (and ssh-agent) are always tried too."
            placeholder="the laptop key (built-in), e.g. ~/.ssh/site_ed25519"
            value={key}
            onChange={(e) => setKey(e.currentTarget.value)}
            data-testid="site-identity"
          />
          <Group justify="flex-end" gap="xs">
            <Button variant="default" size="xs" onClick={() => void clearAll()} disabled={busy || Object.keys(defaults).length === 0} data-testid="site-clear">
              Clear all
            </Button>
            <Button type="submit" size="xs" loading={busy} data-testid="site-save">
              {site === undefined ? 'Save for every site' : `Save for site ${site}`}
            </Button>
          </Group>
          {devices.length > 0 && <WhatDevicesUse devices={devices} table={table} />}
        </Stack>
      </form>
    </Card>
  );
}

/** Per device: what a connection will use now, and where each part comes from. */
function WhatDevicesUse({ devices, table }: { devices: Device[]; table: LinkDefaultsTable }) {
  const shown = devices.filter((d) => d.addresses.length > 0 || d.hostnames.length > 0).slice(0, 50);
  return (
    <Table fz="xs" verticalSpacing={2} data-testid="site-devices">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Device</Table.Th>
          <Table.Th>Site</Table.Th>
          <Table.Th>Login</Table.Th>
          <Table.Th>Key</Table.Th>
          <Table.Th>From</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {shown.map((d) => {
          const e = effectiveLink(d, {}, siteDefaultsFor(table, d));
          const sources = [...new Set(Object.values(e.from))];
          return (
            <Table.Tr key={d.id} data-testid="site-device-row" data-device-id={d.id}>
              <Table.Td>{d.name}</Table.Td>
              <Table.Td>{d.tags.site ?? '—'}</Table.Td>
              <Table.Td ff="monospace" data-testid="site-device-login">
                {e.user}@{d.addresses[0] ?? d.hostnames[0]}:{e.port}
              </Table.Td>
              <Table.Td>{e.identityFile ? baseName(e.identityFile) : 'laptop key'}</Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {sources.map((s) => (
                    <Badge key={s} size="xs" variant="light" color={s === 'site default' ? 'blue' : s === 'device' ? 'teal' : 'gray'}>
                      {s}
                    </Badge>
                  ))}
                </Group>
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
