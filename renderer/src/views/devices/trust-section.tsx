import { Alert, Badge, Button, Checkbox, Code, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { effectiveLink, siteDefaultsFor, type Device } from '../../../../shared/contract';
import { compressionText } from '../../../../shared/format/compression';
import { useOutpost } from '../../store/context';
import type { HostKeyAlert, HostKeyCheck, PinnedKey } from '../../store/discovery-slice';
import { ForgetHostKeyButton } from './forget-host-key';
import { RegenerateHostKeysButton, SharedHostKeyAlert } from './regenerate-host-keys';

/** The pinned key for the address the laptop dials (first address, else hostname) on the device's SSH port. */
export function pinnedKeyFor(device: Device, pinned: readonly PinnedKey[], port: number = device.ssh.port ?? 22): PinnedKey | undefined {
  const hosts = [...device.addresses, ...device.hostnames];
  return pinned.find((k) => k.port === port && hosts.includes(k.host));
}

/** A pinned key that differs from the one discovery last saw, or a refused connection reported by the core. */
export function keyChange(device: Device, pinned: PinnedKey | undefined, alert: HostKeyAlert | null): { expected: string; actual: string } | null {
  if (alert && [...device.addresses, ...device.hostnames].includes(alert.host)) return { expected: alert.expected, actual: alert.actual };
  const seen = device.ssh.hostKeyFingerprint;
  if (pinned && seen && pinned.fingerprint !== seen) return { expected: pinned.fingerprint, actual: seen };
  return null;
}

/** The SSH cipher chosen for the device's CPU, and why (Outpost reads /proc/cpuinfo at first connection). */
export function cipherText(device: Device): string {
  const { cipher, cpuAes } = device.ssh;
  if (!cipher) return 'chosen at first connection';
  const why = cpuAes === false ? 'no AES instructions on the device' : cpuAes ? 'the device has AES instructions' : 'CPU features unknown';
  return `${cipher} (${why})`;
}

export function TrustSection({ device }: { device: Device }) {
  const pinnedKeys = useOutpost((s) => s.pinnedKeys);
  const alert = useOutpost((s) => s.hostKeyAlert);
  const checkHostKey = useOutpost((s) => s.checkHostKey);
  const site = siteDefaultsFor(useOutpost((s) => s.linkDefaults), device);
  const [check, setCheck] = useState<HostKeyCheck | null>(null);
  const [checking, setChecking] = useState(false);
  const pinned = pinnedKeyFor(device, pinnedKeys, effectiveLink(device, {}, site).port);
  const changed = keyChange(device, pinned, alert);

  async function openCheck() {
    setChecking(true);
    setCheck(await checkHostKey(device));
    setChecking(false);
  }

  return (
    <Stack gap="xs" data-testid="device-trust">
      {changed && <KeyChangedAlert expected={changed.expected} actual={changed.actual} />}
      <SharedHostKeyAlert device={device} />
      <Field label="Banner" value={device.ssh.banner ?? '—'} testId="device-ssh-banner" />
      <Field label="Host key seen" value={device.ssh.hostKeyFingerprint ?? 'not read yet'} testId="device-fingerprint" />
      <Field label="Cipher" value={cipherText(device)} testId="device-cipher" />
      <Field label="Flush compression" value={compressionText(device.ssh.compression)} testId="device-compression" />
      <Group gap="xs">
        <Text size="sm" c="dimmed" w={120}>
          Pinned
        </Text>
        {pinned ? (
          <Badge color={changed ? 'red' : 'teal'} variant="light" data-testid="device-pinned" data-pinned="true">
            {changed ? 'pinned key differs' : `pinned ${new Date(pinned.pinnedAt).toLocaleString()}`}
          </Badge>
        ) : (
          <Badge color="gray" variant="light" data-testid="device-pinned" data-pinned="false">
            not pinned
          </Badge>
        )}
      </Group>
      <Group gap="xs" mt={4}>
        <Button size="xs" variant={changed ? 'filled' : 'light'} color={changed ? 'red' : undefined} loading={checking} onClick={() => void openCheck()} data-testid="trust-open">
          {pinned ? 'Re-pin host key…' : 'Trust host key…'}
        </Button>
        {/* Always mounted: the key it changes re-renders this section, and its dialog must stay to show the result. */}
        <RegenerateHostKeysButton device={device} disabled={!pinned || Boolean(changed)} />
        {pinned && <ForgetHostKeyButton device={device} pinned={pinned} />}
      </Group>
      {check && <PinDialog device={device} check={check} onClose={() => setCheck(null)} />}
    </Stack>
  );
}

export function KeyChangedAlert({ expected, actual }: { expected: string; actual: string }) {
  return (
    <Alert color="red" variant="filled" title="HOST KEY CHANGED" data-testid="host-key-changed">
      <Text size="sm">This device now offers a different SSH host key than the one pinned. It may have been re-imaged, or something is in the middle. Connections are refused until you re-pin after checking the device.</Text>
      <Stack gap={4} mt={8}>
        <FingerprintLine label="pinned" value={expected} testId="host-key-old" />
        <FingerprintLine label="now" value={actual} testId="host-key-new" />
      </Stack>
    </Alert>
  );
}

function FingerprintLine({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Group gap={8} wrap="nowrap" align="baseline">
      <Text size="xs" fw={700} w={50} tt="uppercase" style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <Text size="sm" ff="monospace" fw={600} className="outpost-fingerprint-on-alert" data-testid={testId}>
        {value}
      </Text>
    </Group>
  );
}

function PinDialog({ device, check, onClose }: { device: Device; check: HostKeyCheck; onClose: () => void }) {
  const pinHostKey = useOutpost((s) => s.pinHostKey);
  const [confirmed, setConfirmed] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const replaces = check.pinned !== undefined && check.pinned !== check.offered;
  // A changed key is never replaced by a click of habit: the new fingerprint must be typed or pasted (from the
  // device's console), and it is that typed value the core checks against the wire.
  const typedOk = typed.trim() === check.offered;
  const ready = replaces ? confirmed && typedOk : confirmed;

  async function pin() {
    setBusy(true);
    const ok = await pinHostKey(device, replaces ? typed.trim() : check.offered);
    setBusy(false);
    if (ok) onClose();
  }

  return (
    <Modal opened onClose={onClose} title={`Trust ${device.name}'s host key`} size="lg" data-testid="trust-dialog">
      <Stack gap="sm">
        {replaces && <KeyChangedAlert expected={check.pinned ?? ''} actual={check.offered} />}
        <Text size="sm">
          {check.host}:{check.port} offers this key. Compare it with the device's own console (<Code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</Code>) before you trust it.
        </Text>
        <Code block fz="md" data-testid="trust-offered">
          {check.offered}
        </Code>
        {check.pinned === check.offered && (
          <Text size="sm" c="teal">
            This is the key already pinned.
          </Text>
        )}
        <Checkbox label="I compared this fingerprint with the device" checked={confirmed} onChange={(e) => setConfirmed(e.currentTarget.checked)} data-testid="trust-confirm-check" />
        {replaces && (
          <TextInput
            label="Type or paste the new fingerprint, as the device's console shows it"
            placeholder="SHA256:…"
            value={typed}
            onChange={(e) => setTyped(e.currentTarget.value)}
            error={typed.trim() && !typedOk ? 'This is not the key the device offers now' : undefined}
            autoComplete="off"
            spellCheck={false}
            ff="monospace"
            data-testid="trust-typed-fingerprint"
          />
        )}
        <Group justify="flex-end" gap="xs">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color={replaces ? 'red' : undefined} disabled={!ready} loading={busy} onClick={() => void pin()} data-testid="trust-pin">
            {replaces ? 'Replace the pinned key' : 'Pin this key'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function Field({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Text size="sm" c="dimmed" w={120} style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }} data-testid={testId}>
        {value}
      </Text>
    </Group>
  );
}
