import { Button, Checkbox, Code, Group, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { effectiveLink, siteDefaultsFor, type ArgsOf, type Device, type ResultOf } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { CancelJobButton } from '../../components/cancel-job-button';

/** Puts the laptop's public key on the device, logging in once with a password or another identity file. */
export function InstallKeyForm({ device }: { device: Device }) {
  const installLaptopKey = useOutpost((s) => s.installLaptopKey);
  const site = siteDefaultsFor(useOutpost((s) => s.linkDefaults), device);
  const [user, setUser] = useState(() => effectiveLink(device, {}, site).user);
  const [password, setPassword] = useState('');
  const [identityFile, setIdentityFile] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ResultOf<'ssh:install-key'> | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const args: ArgsOf<'ssh:install-key'> = { device: device.id, user: user.trim() || undefined, rememberPassword: remember };
    if (password) args.password = password;
    if (identityFile.trim()) args.identityFile = identityFile.trim();
    setBusy(true);
    setResult(await installLaptopKey(args));
    setBusy(false);
    setPassword('');
  }

  return (
    <form onSubmit={(e) => void submit(e)} data-testid="install-key-form">
      <Stack gap="xs">
        <Group gap="sm" grow>
          <TextInput label="User" value={user} onChange={(e) => setUser(e.currentTarget.value)} />
          <PasswordInput label="Password (once)" value={password} onChange={(e) => setPassword(e.currentTarget.value)} autoComplete="off" />
        </Group>
        <TextInput label="…or an identity file on this laptop" placeholder="~/.ssh/id_ed25519" value={identityFile} onChange={(e) => setIdentityFile(e.currentTarget.value)} />
        <Group justify="space-between">
          <Checkbox size="xs" label="Remember the password in the encrypted vault" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} />
          <Button type="submit" size="xs" variant="light" loading={busy} data-testid="install-key-submit">
            Install laptop key
          </Button>
          <CancelJobButton kind="key-install" deviceId={device.id} />
        </Group>
        {result && (
          <Text size="xs" c={result.verified ? 'teal' : 'red'} data-testid="install-key-result">
            {result.alreadyPresent ? 'Already installed' : 'Installed'}; {result.verified ? 'login with the laptop key works.' : 'login with the laptop key failed.'} <Code>{result.publicKey.slice(0, 48)}…</Code>
          </Text>
        )}
      </Stack>
    </form>
  );
}
