import type { Device } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import type { DevicesRepo } from '../store/devices-repo';
import { dialAddress, type DeviceLinks } from '../transport/device-links';
import { sshFingerprint } from '../transport/fingerprint';
import type { KnownHosts } from '../transport/known-hosts';
import type { SshConnection } from '../transport/ssh-connection';
import type { SshPool } from '../transport/ssh-pool';
import { probeSsh } from './probes';

/**
 * Moves the device's host keys aside (kept until the new ones are proven), makes new ones with `ssh-keygen -A`,
 * checks sshd accepts its config with them (`sshd -t`), and prints the new public keys. Any failure puts the old keys
 * back. A constant script: nothing from the laptop is interpolated into it.
 */
export const REGENERATE_SCRIPT = [
  'umask 077',
  'd=$(mktemp -d /etc/ssh/outpost-old-host-keys.XXXXXX) || { echo "cannot write /etc/ssh (regenerating host keys needs root)" >&2; exit 10; }',
  'for f in /etc/ssh/ssh_host_*key /etc/ssh/ssh_host_*key.pub; do [ -e "$f" ] && mv -- "$f" "$d"/; done',
  'restore() { rm -f /etc/ssh/ssh_host_*key /etc/ssh/ssh_host_*key.pub; for f in "$d"/ssh_host_*; do [ -e "$f" ] && mv -- "$f" /etc/ssh/; done; rm -rf -- "$d"; }',
  'if ! ssh-keygen -A >/dev/null 2>"$d/err"; then cat "$d/err" >&2; restore; exit 11; fi',
  'sshd=$(command -v sshd || echo /usr/sbin/sshd)',
  'if ! "$sshd" -t 2>"$d/err"; then echo "sshd -t refused the new keys:" >&2; cat "$d/err" >&2; restore; exit 12; fi',
  'rm -f -- "$d/err"',
  'echo "backup $d"',
  'for f in /etc/ssh/ssh_host_*_key.pub; do [ -e "$f" ] && echo "key $(cat "$f")"; done',
  'exit 0',
].join('\n');

/** Restarts sshd through whatever manages it: systemd, else `service` / OpenRC, else the init script itself. */
export const RESTART_SSHD_SCRIPT = [
  'if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then',
  '  for u in ssh sshd; do if systemctl cat "$u.service" >/dev/null 2>&1; then echo "via systemctl restart $u"; exec systemctl restart "$u"; fi; done',
  'fi',
  'if command -v rc-service >/dev/null 2>&1; then',
  '  for s in sshd ssh; do if [ -x "/etc/init.d/$s" ]; then echo "via rc-service $s restart"; exec rc-service "$s" restart; fi; done',
  'fi',
  'if command -v service >/dev/null 2>&1; then',
  '  for s in ssh sshd; do if [ -x "/etc/init.d/$s" ]; then echo "via service $s restart"; exec service "$s" restart; fi; done',
  'fi',
  'for s in ssh sshd; do if [ -x "/etc/init.d/$s" ]; then echo "via /etc/init.d/$s restart"; exec "/etc/init.d/$s" restart; fi; done',
  'echo "found no service manager to restart sshd (systemctl, rc-service, service, /etc/init.d/ssh[d])" >&2',
  'exit 20',
].join('\n');

/** Puts the moved-aside keys back (after a restart that could not happen). `$1` is the backup directory. */
const RESTORE_SCRIPT = 'd="$1"; case "$d" in /etc/ssh/outpost-old-host-keys.*) ;; *) exit 2;; esac; rm -f /etc/ssh/ssh_host_*key /etc/ssh/ssh_host_*key.pub; for f in "$d"/ssh_host_*; do [ -e "$f" ] && mv -- "$f" /etc/ssh/; done; rm -rf -- "$d"';
const DROP_BACKUP_SCRIPT = 'd="$1"; case "$d" in /etc/ssh/outpost-old-host-keys.*) rm -rf -- "$d";; *) exit 2;; esac';

export interface RotationDeps {
  devices: DevicesRepo;
  knownHosts: KnownHosts;
  pool: SshPool;
  links: DeviceLinks;
  /** How long to wait for the restarted sshd to offer its new key. */
  restartTimeoutMs?: number;
}

export interface RotationResult {
  device: string;
  name: string;
  host: string;
  port: number;
  previous: string;
  fingerprint: string;
  /** Every new host key the device now has, by type. */
  keys: Array<{ type: string; fingerprint: string }>;
  restartedVia: string;
  pinned: boolean;
}

/** Parses `key <type> <base64> [comment]` lines into blobs (what sshd offers) with their fingerprints. */
export function parseNewKeys(stdout: string): { backup: string | undefined; keys: Array<{ type: string; blob: Buffer; fingerprint: string }> } {
  const lines = stdout.split('\n');
  const backup = lines.find((l) => l.startsWith('backup '))?.slice('backup '.length).trim();
  const keys = lines
    .filter((l) => l.startsWith('key '))
    .map((l) => l.slice(4).trim().split(/\s+/))
    .filter((parts) => parts.length >= 2 && /^[A-Za-z0-9+/=]+$/.test(parts[1] ?? ''))
    .map(([type, b64]) => {
      const blob = Buffer.from(b64 as string, 'base64');
      return { type: type as string, blob, fingerprint: sshFingerprint(blob) };
    });
  return { backup, keys };
}

async function waitForKey(host: string, port: number, wanted: ReadonlySet<string>, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing';
  while (Date.now() < deadline) {
    const seen = await probeSsh(host, port, 2_000).catch(() => undefined);
    const fp = seen?.hostKeyFingerprint;
    if (fp && wanted.has(fp)) return fp;
    last = fp ?? 'no answer';
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new OutpostError('timeout', `sshd on ${host}:${port} did not offer one of its new keys within ${Math.round(timeoutMs / 1000)} s after the restart (last offered: ${last})`);
}

/**
 * Regenerates a device's SSH host keys over its still-pinned connection and pins the new key in the same step:
 * the new public keys are read over the authenticated old link before sshd restarts, and the key offered after the
 * restart must be one of them. The fix for devices flashed from one image (a shared host key).
 */
export async function regenerateHostKeys(deps: RotationDeps, device: Device, link: { user?: string; port?: number; identityFile?: string } = {}): Promise<RotationResult> {
  const host = dialAddress(device);
  const port = deps.links.effective(device, link).port;
  // The pinned connection: an unknown or changed key stops here (nothing is regenerated over an unproven link).
  const old: SshConnection = await deps.links.ssh(device, link);
  const previous = old.hostKeyFingerprint;
  const regen = await old.run(['sh', '-c', REGENERATE_SCRIPT], { maxBytes: 64 * 1024 });
  if (regen.code !== 0) {
    throw new OutpostError(regen.code === 10 ? 'auth' : 'protocol', `regenerating the host keys of ${device.name} failed (exit ${regen.code}); its old keys are kept: ${regen.stderr.trim().slice(0, 500)}`);
  }
  const { backup, keys } = parseNewKeys(regen.stdout.toString('utf8'));
  if (!backup || keys.length === 0) throw new OutpostError('protocol', `${device.name} printed no new host keys; nothing was restarted`);
  const wanted = new Set(keys.map((k) => k.fingerprint));

  const restart = await old.run(['sh', '-c', RESTART_SSHD_SCRIPT], { maxBytes: 64 * 1024 }).catch(() => undefined);
  const restartedVia = /via ([^\n]+)/.exec(restart?.stdout.toString('utf8') ?? '')?.[1]?.trim() ?? 'unknown (the link closed during the restart)';
  if (restart && restart.code !== 0 && restart.code !== null) {
    // sshd still runs with the old keys loaded: put them back on disk so both agree again.
    await old.run(['sh', '-c', RESTORE_SCRIPT, 'restore', backup]).catch(() => undefined);
    throw new OutpostError('unsupported', `could not restart sshd on ${device.name} (exit ${restart.code}): ${restart.stderr.trim().slice(0, 300)}; the old host keys were put back`);
  }

  const offered = await waitForKey(host, port, wanted, deps.restartTimeoutMs ?? 20_000);
  // Reconnect, accepting exactly the key read over the old link, and pin it.
  deps.pool.drop(deps.links.targetFor(device, link));
  const fresh = await deps.links.ssh(device, { ...link, expectedFingerprint: offered });
  if (fresh.hostKeyFingerprint !== offered) throw new OutpostError('host-key-changed', `${device.name} offered ${fresh.hostKeyFingerprint} on reconnecting, not the new ${offered}`);
  const newKey = keys.find((k) => k.fingerprint === offered);
  // The device's other addresses that carried the old pin now carry the new key.
  for (const other of [...device.addresses, ...device.hostnames]) {
    if (other !== host && deps.knownHosts.get(other, port)?.fingerprint === previous && newKey) deps.knownHosts.pin(other, port, newKey.blob);
  }
  await fresh.run(['sh', '-c', DROP_BACKUP_SCRIPT, 'drop', backup]).catch(() => undefined);
  const current = deps.devices.find(device.id);
  if (current) deps.devices.save({ ...current, ssh: { ...current.ssh, hostKeyFingerprint: offered } });
  return {
    device: device.id,
    name: device.name,
    host,
    port,
    previous,
    fingerprint: offered,
    keys: keys.map(({ type, fingerprint }) => ({ type, fingerprint })),
    restartedVia,
    pinned: deps.knownHosts.get(host, port)?.fingerprint === offered,
  };
}
