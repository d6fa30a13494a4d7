import type { Device } from '../../../shared/contract';
import { abortable, throwIfCancelled } from '../jobs/job-registry';
import { OutpostError } from '../../../shared/errors';
import type { Vault } from '../secrets/vault';
import type { DevicesRepo } from '../store/devices-repo';
import { dialAddress, type DeviceLinks } from '../transport/device-links';
import type { KnownHosts } from '../transport/known-hosts';
import type { LaptopKeyStore } from '../transport/laptop-key';
import { SshConnection } from '../transport/ssh-connection';
import type { SshPool } from '../transport/ssh-pool';
import { regenerateHostKeys } from './host-key-rotation';
import { probeSsh } from './probes';

export interface TrustDeps {
  devices: DevicesRepo;
  knownHosts: KnownHosts;
  pool: SshPool;
  links: DeviceLinks;
  vault: Vault;
  laptopKey: LaptopKeyStore;
  probeTimeoutMs?: number;
}

/**
 * Appends the key read from stdin to ~/.ssh/authorized_keys unless it is already there. A constant script: the key
 * travels on stdin, never inside the command line.
 */
export const INSTALL_KEY_SCRIPT =
  'umask 077; mkdir -p "$HOME/.ssh" || exit 1; IFS= read -r key || [ -n "$key" ] || exit 1; f="$HOME/.ssh/authorized_keys"; ' +
  'if [ -f "$f" ] && grep -qxF -- "$key" "$f"; then echo present; exit 0; fi; ' +
  'if [ -s "$f" ] && [ -n "$(tail -c1 "$f")" ]; then echo >> "$f"; fi; printf "%s\\n" "$key" >> "$f" && echo added';

/** A `<device>` reference from the inventory, or a bare address not yet in it. */
export function deviceOrAddress(devices: DevicesRepo, ref: string, portOf: (device?: Device) => number = (d) => d?.ssh.port ?? 22): { device?: Device; host: string; port: number } {
  const device = devices.find(ref);
  if (device) return { device, host: dialAddress(device), port: portOf(device) };
  if (/^[A-Za-z0-9.:_%-]+$/.test(ref)) return { host: ref, port: portOf() };
  throw new OutpostError('not-found', `no device matches ${JSON.stringify(ref)} (id, name, hostname or address)`);
}

function hostKeyChangedForYes(host: string, port: number, pinned: string, offered: string): OutpostError {
  const where = port === 22 ? host : `${host}:${port}`;
  return new OutpostError(
    'host-key-changed',
    `HOST KEY CHANGED for ${where}: pinned ${pinned}, now offered ${offered}. --yes accepts only a key never seen before, ` +
      `never a changed one. Check the key on the device's console, then re-pin it with: outpost trust ${host} --fingerprint ${offered}`,
    { host, port, expected: pinned, actual: offered },
  );
}

export class TrustService {
  constructor(private readonly deps: TrustDeps) {}

  /** The SSH port a device (or a bare address) is dialled on: its own, else the site's default, else 22. */
  private readonly portOf = (device?: Device): number => this.deps.links.effective(device ?? { ssh: {} }).port;

  /**
   * Reads the key the device offers now and pins it: an unknown key on `yes` or a matching `fingerprint`; a key
   * already pinned for this device at another address (it moved) at once; a **changed** key only with the matching
   * `fingerprint` — `yes` never replaces a pinned key.
   */
  async pin(ref: string, opts: { fingerprint?: string; yes: boolean; port?: number }): Promise<{ host: string; port: number; fingerprint: string; pinned: boolean; previous?: string }> {
    const { device, host, port: defaultPort } = deviceOrAddress(this.deps.devices, ref, this.portOf);
    const port = opts.port ?? defaultPort;
    const identity = await probeSsh(host, port, this.deps.probeTimeoutMs ?? 5_000);
    if (!identity.hostKey || !identity.hostKeyFingerprint) throw new OutpostError('unreachable', `no SSH host key from ${host}:${port} (is sshd running there?)`, { host, port });
    const offered = identity.hostKeyFingerprint;
    const atAddress = this.deps.knownHosts.get(host, port)?.fingerprint;
    const ofDevice = device ? this.deps.links.knownForDevice(device, port) : [];
    const moved = atAddress !== offered && ofDevice.includes(offered);
    // What the laptop trusted for this device before: the key pinned at this address, else at its other addresses.
    const previous = moved ? offered : (atAddress ?? ofDevice[0]);
    if (opts.fingerprint !== undefined && opts.fingerprint !== offered) {
      throw new OutpostError('host-key-changed', `${host}:${port} offers ${offered}, not the expected ${opts.fingerprint}; nothing pinned`, { host, port, expected: opts.fingerprint, actual: offered });
    }
    const changed = previous !== undefined && previous !== offered;
    if (changed && opts.fingerprint === undefined) {
      if (opts.yes) throw hostKeyChangedForYes(host, port, previous, offered);
      return { host, port, fingerprint: offered, pinned: false, previous };
    }
    if (!moved && opts.fingerprint === undefined && !opts.yes) return { host, port, fingerprint: offered, pinned: false, previous };
    this.deps.knownHosts.pin(host, port, identity.hostKey);
    // Connections made under the old key must not be reused.
    if (device) this.deps.pool.drop(this.deps.links.targetFor(device, { port }));
    if (device) {
      const current = this.deps.devices.find(device.id);
      if (current) this.deps.devices.save({ ...current, ssh: { ...current.ssh, hostKeyFingerprint: offered } });
    }
    return { host, port, fingerprint: offered, pinned: true, previous };
  }

  /** Regenerates the device's host keys over its pinned link and pins the new key (see host-key-rotation.ts). */
  async regenerate(ref: string, link: { user?: string; port?: number; identityFile?: string }) {
    const device = this.deps.devices.find(ref);
    if (!device) throw new OutpostError('not-found', `no device matches ${JSON.stringify(ref)}; add or discover it first`);
    return regenerateHostKeys(this.deps, device, link);
  }

  list(): Array<{ host: string; port: number; keyType: string; fingerprint: string; pinnedAt: string }> {
    return this.deps.knownHosts.list().map(({ host, port, keyType, fingerprint, pinnedAt }) => ({ host, port, keyType, fingerprint, pinnedAt }));
  }

  /**
   * Forgets the pinned key. For a device in the inventory, at every address and hostname it is known by (its own key
   * pinned at an old DHCP address would otherwise still be accepted), and its pooled connection is closed, so the
   * next connection asks again as on first contact.
   */
  forget(ref: string, port?: number): { forgotten: boolean } {
    const target = deviceOrAddress(this.deps.devices, ref, this.portOf);
    const p = port ?? target.port;
    const hosts = target.device ? [...new Set([target.host, ...target.device.addresses, ...target.device.hostnames])] : [target.host];
    let forgotten = false;
    for (const host of hosts) forgotten = this.deps.knownHosts.forget(host, p) || forgotten;
    if (target.device) this.deps.pool.drop(this.deps.links.targetFor(target.device, { port: p }));
    return { forgotten };
  }

  /**
   * Installs the laptop's public key on the device over a connection the technician can already open (a password,
   * an identity file), then proves it by logging in with the laptop key alone.
   */
  /**
   * ssh-copy-id: appends the laptop's public key to the device user's authorized_keys (once), then proves a login with
   * it. A cancel while connecting ends at once and changes nothing; a cancel after the key went in says so.
   */
  async installKey(args: { device: string; user?: string; port?: number; password?: string; identityFile?: string; rememberPassword: boolean }, signal?: AbortSignal) {
    const device = this.deps.devices.find(args.device);
    if (!device) throw new OutpostError('not-found', `no device matches ${JSON.stringify(args.device)}; add or discover it first`);
    if (args.rememberPassword && args.password !== undefined) await this.deps.vault.assertReady();
    const user = this.deps.links.effective(device, { user: args.user }).user;
    const secretName = `ssh-password:${device.id}:${user}`;
    const password = args.password ?? (args.identityFile ? undefined : await this.deps.vault.get(secretName));
    // Installing needs only the public half; a key made now is made encrypted (so it needs the vault).
    const publicKey = this.deps.laptopKey.publicKey() ?? (await this.deps.laptopKey.ensure()).publicKey;
    const connecting = this.deps.links.ssh(device, { user, port: args.port, password, identityFile: args.identityFile });
    const conn = await abortable(connecting, signal, `installing the key on ${device.name} (nothing was changed on the device)`);
    throwIfCancelled(signal, `installing the key on ${device.name} (nothing was changed on the device)`);
    // One append on the device; cancelled while it runs, the outcome is unknown, and a re-run is idempotent.
    const run = await abortable(conn.run(['sh', '-c', INSTALL_KEY_SCRIPT], { input: `${publicKey}\n`, maxBytes: 4096 }), signal, `installing the key on ${device.name} (it may or may not be in place: install again, which adds it at most once)`);
    if (run.code !== 0) throw new OutpostError('protocol', `installing the key on ${device.name} failed (exit ${run.code}): ${run.stderr.slice(0, 500)}`);
    if (args.rememberPassword && args.password !== undefined) await this.deps.vault.put(secretName, args.password);
    const target = { ...this.deps.links.targetFor(device, { user, port: args.port }), password: undefined, identityFile: undefined };
    const alreadyPresent = run.stdout.toString('utf8').includes('present');
    if (signal?.aborted) throw new OutpostError('cancelled', `cancelled after the key was ${alreadyPresent ? 'found already installed' : 'installed'} on ${device.name}; the login with it was not verified`, { installed: !alreadyPresent, alreadyPresent });
    // Proving the login needs the private half; while the vault is locked the key is installed but not yet proven.
    const privateKey = await this.deps.laptopKey.privateKey();
    if (!privateKey) return { installed: !alreadyPresent, alreadyPresent, publicKey, verified: false };
    const verified = await abortable(SshConnection.open(target, { knownHosts: this.deps.knownHosts, laptopPrivateKey: privateKey, useAgent: false, readyTimeoutMs: 10_000 }).then(
      (c) => {
        c.close();
        return true;
      },
      () => false,
    ), signal, `verifying the key installed on ${device.name} (the key is installed)`);
    return { installed: !alreadyPresent, alreadyPresent, publicKey, verified };
  }
}
