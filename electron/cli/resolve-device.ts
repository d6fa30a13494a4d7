import type { Device } from '../../shared/contract';
import { OutpostError } from '../../shared/errors';
import type { CommandContext } from './context';
import { linkFrom, type LinkFlags } from './link-flags';

const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:.%a-zA-Z]*)$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;

/**
 * Every `<device>` argument: an inventory id, name, hostname or IP address. An address (or a hostname) not in
 * the inventory is added on the fly — with the `--user`/`--port` given as the new device's own (a key file given
 * with `--identity` is for this run only: `devices update <device> --identity` keeps one) — so `outpost ps
 * 10.0.4.17` works on a device nobody has discovered yet. Only the inventory's own commands
 * (`devices show|update|remove`) pass `addIfMissing: false`.
 */
export async function resolveDevice(ctx: CommandContext, ref: string, link: LinkFlags = {}, opts: { addIfMissing?: boolean } = {}): Promise<Device> {
  const found = ctx.core.devices.find(ref);
  if (found) return found;
  if (opts.addIfMissing === false) throw new OutpostError('not-found', `no device matches ${JSON.stringify(ref)} (id, name, hostname or address)`);
  if (!ADDRESS.test(ref) && !HOSTNAME.test(ref)) {
    throw new OutpostError('invalid-input', `${JSON.stringify(ref)} is neither a device in the inventory nor a hostname or IP address`);
  }
  ctx.log(`adding ${ref} to the inventory`);
  return ctx.api.invoke('devices:add', { host: ref, sshPort: link.port, sshUser: link.user });
}

/** Several `<device>` arguments, in order; their ids. */
export async function resolveDeviceIds(ctx: CommandContext, refs: string[], link: LinkFlags = {}): Promise<string[]> {
  const out: string[] = [];
  for (const ref of refs) out.push((await resolveDevice(ctx, ref, link)).id);
  return out;
}

/**
 * Starts the SSH dial of the first `max` devices a command is about to reach (what its service starts at once), so
 * the handshake — and reading the laptop key from the vault — runs while the command's service loads. The service's
 * own dial joins it (SshPool shares a dial in progress with the same credentials and trust); a failure is the
 * service's to report, so here it is dropped.
 */
export function dialAhead(ctx: CommandContext, ids: readonly string[], flags: LinkFlags, max: number): void {
  for (const id of ids.slice(0, max)) {
    const device = ctx.core.devices.find(id);
    if (device) ctx.core.links.ssh(device, linkFrom(flags)).catch(() => undefined);
  }
}
