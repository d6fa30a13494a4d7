import type { Command } from 'commander';
import { collect, leaf, parseIntOption, runWith, type CliIo } from '../context';
import { table } from '../table';
import type { Device, SiteLinkDefaults } from '../../../shared/contract';
import { describeLink, effectiveLink, siteDefaultsFor } from '../../../shared/contract/link-resolve';
import { OutpostError } from '../../../shared/errors';
import { resolveDevice } from '../resolve-device';
import { compressionText } from '../../../shared/format/compression';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';

function tagsFrom(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const tags: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new OutpostError('invalid-input', `--tag takes key=value, got ${JSON.stringify(item)}`);
    tags[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return tags;
}

function deviceTable(devices: Device[]): string {
  if (!devices.length) return 'No devices yet. Add one with `outpost devices add --host <address>` or run `outpost discover`.';
  return table(
    ['ID', 'NAME', 'ADDRESSES', 'SOURCES', 'STATE', 'LAST SEEN'],
    devices.map((d) => [d.id.slice(0, 8), `${d.name}${d.ssh.sharedHostKeyWith?.length ? ' [SHARED HOST KEY]' : ''}`, [...d.addresses, ...d.hostnames].join(','), d.sources.join(','), d.state, d.lastSeen]),
  );
}

/** One device as a technician reads it: addresses, how Outpost logs in, and where its engine answered. */
export function deviceDetails(d: Device, site: SiteLinkDefaults = {}): string {
  const link = effectiveLink(d, {}, site);
  const engine = d.docker?.engine;
  const lines = [
    `${d.name}  (${d.id})  ${d.state}`,
    `addresses: ${[...d.addresses, ...d.hostnames].join(', ') || '-'}`,
    `ssh:       ${describeLink(link, d.addresses[0] ?? d.hostnames[0] ?? '?')}${d.ssh.hostKeyFingerprint ? `  host key ${d.ssh.hostKeyFingerprint}` : ''}`,
    `link:      cipher ${d.ssh.cipher ?? 'chosen at first connection'}; flush compression ${compressionText(d.ssh.compression)}`,
    `engine:    ${engine ? `${engine.product} ${engine.version ?? ''} at ${engine.socket} (${engine.source}${engine.systemd === false ? ', no systemd' : ''}; found ${engine.foundAt})` : 'not looked for yet'}`,
  ];
  if (d.docker?.socket) lines.push(`engine socket setting: ${d.docker.socket}`);
  for (const t of engine?.tried ?? []) lines.push(`  passed over ${t.socket} (${t.source}): ${t.result}`);
  const missing = d.docker?.engineNotFound;
  if (missing) {
    lines.push(`no engine answered at ${missing.at}${engine ? ' (the engine above is what answered before)' : ''}; tried:`);
    for (const t of missing.tried) lines.push(`  ${t.socket} (${t.source}): ${t.result}`);
  }
  if (d.notes) lines.push(`notes:     ${d.notes}`);
  return lines.join('\n');
}

export function registerDevices(program: Command, io: CliIo): void {
  const devices = program.command('devices').description('the device inventory');

  leaf(devices, 'list', 'list devices in the inventory')
    .option('--query <text>', 'filter by name, address, hostname, tag or note')
    .action(
      runWith(io, async ({ api }, opts: { query?: string }) => {
        const list = await api.invoke('devices:list', { query: opts.query });
        return { data: list, human: deviceTable(list) };
      }),
    );

  leaf(devices, 'add', 'add a device by hand')
    .option('--name <name>', 'display name')
    .option('--host <host>', 'hostname or IP address')
    .option('--serial <path>', 'serial port path, for a device reachable only on a console cable')
    .option('--port <port>', 'SSH port', parseIntOption('--port'))
    .option('--user <user>', 'SSH user')
    .option('--identity <file>', 'SSH private key file on this laptop for this device (else the laptop key)')
    .option('--tag <key=value>', 'tag (repeatable), e.g. site=plant-3 role=gateway', collect)
    .option('--notes <text>', 'free-form notes')
    .action(
      runWith(io, async ({ api }, opts: { name?: string; host?: string; serial?: string; port?: number; user?: string; identity?: string; tag?: string[]; notes?: string }) => {
        const device = await api.invoke('devices:add', {
          name: opts.name,
          host: opts.host,
          serialPath: opts.serial,
          sshPort: opts.port,
          sshUser: opts.user,
          sshIdentityFile: opts.identity,
          tags: tagsFrom(opts.tag),
          notes: opts.notes,
        });
        return { data: device, human: `added ${device.name} (${device.id})` };
      }),
    );

  leaf(devices, 'get <device>', 'show one device (id, name, hostname or address): login, engine, services')
    .alias('show')
    .action(
      runWith(io, async (ctx, ref: string) => {
        const device = await resolveDevice(ctx, ref, {}, { addIfMissing: false });
        return { data: device, human: deviceDetails(device, siteDefaultsFor(await ctx.api.invoke('link:defaults-all', {}), device)) };
      }),
    );

  leaf(devices, 'update <device>', 'rename, tag or annotate a device; set how to log in to it (kept for every later command and view)')
    .option('--name <name>', 'new display name')
    .option('--tag <key=value>', 'replace tags (repeatable)', collect)
    .option('--notes <text>', 'replace notes')
    .option('--port <port>', 'SSH port', parseIntOption('--port'))
    .option('--no-port', 'forget the device\'s own port (use the site default, else 22)')
    .option('--user <user>', 'SSH user')
    .option('--no-user', 'forget the device\'s own user (use the site default, else root)')
    .option('--identity <file>', 'SSH private key file on this laptop for this device')
    .option('--no-identity', 'forget the device\'s key file (use the laptop key)')
    .option('--engine-socket <path>', 'where the device\'s container engine listens (tried before DOCKER_HOST and the usual places)')
    .option('--no-engine-socket', 'look for the engine in the usual places again')
    .action(
      runWith(io, async (ctx, ref: string, opts: { name?: string; tag?: string[]; notes?: string; port?: number | false; user?: string | false; identity?: string | false; engineSocket?: string | false }) => {
        const device = await resolveDevice(ctx, ref, {}, { addIfMissing: false });
        const updated = await ctx.api.invoke('devices:update', {
          id: device.id,
          name: opts.name,
          tags: tagsFrom(opts.tag),
          notes: opts.notes,
          sshPort: opts.port === false ? null : opts.port,
          sshUser: opts.user === false ? null : opts.user,
          sshIdentityFile: opts.identity === false ? null : opts.identity,
          engineSocket: opts.engineSocket === false ? null : opts.engineSocket,
        });
        return { data: updated, human: `updated ${updated.name}` };
      }),
    );

  withLinkFlags(leaf(devices, 'locate-engine <device>', 'look for the device\'s container engine now (its socket setting, DOCKER_HOST, the usual places) and record what answered')).action(
    runWith(io, async (ctx, ref: string, flags: LinkFlags) => {
      const device = await resolveDevice(ctx, ref, flags);
      const found = await ctx.api.invoke('workloads:locate-engine', { device: device.id, link: linkFrom(flags) });
      return { data: found, human: deviceDetails(await ctx.api.invoke('devices:get', { id: device.id })) };
    }),
  );

  leaf(devices, 'remove <device>', 'remove a device from the inventory').action(
    runWith(io, async (ctx, ref: string) => {
      const device = await resolveDevice(ctx, ref, {}, { addIfMissing: false });
      const result = await ctx.api.invoke('devices:remove', { id: device.id });
      return { data: { id: device.id, ...result }, human: `removed ${device.name}` };
    }),
  );
}
