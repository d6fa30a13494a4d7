import type { Command } from 'commander';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';
import { table } from '../table';
import { resolveDevice } from '../resolve-device';
import { withLinkFlags, type LinkFlags } from '../link-flags';

export function registerTrust(program: Command, io: CliIo): void {
  const trust = leaf(program, 'trust <device>', 'show a device’s SSH host key and pin it (trust on first use)')
    .option('--fingerprint <SHA256:...>', 'pin only if the device offers exactly this key (checked on its console)')
    .option('--yes', 'pin whatever key the device offers now')
    .option('--port <port>', 'SSH port', parseIntOption('--port'))
    .action(
      runWith(io, async (ctx, ref: string, opts: { fingerprint?: string; yes?: boolean; port?: number }) => {
        const device = await resolveDevice(ctx, ref, { port: opts.port });
        const r = await ctx.api.invoke('trust:pin', { device: device.id, fingerprint: opts.fingerprint, yes: Boolean(opts.yes), port: opts.port });
        const where = `${r.host}${r.port === 22 ? '' : `:${r.port}`}`;
        const human = r.pinned
          ? `pinned ${where} ${r.fingerprint}${r.previous && r.previous !== r.fingerprint ? ` (was ${r.previous})` : ''}`
          : `${where} offers ${r.fingerprint}${r.previous ? ` (pinned: ${r.previous})` : ' (not pinned)'}\ncheck it on the device, then: outpost trust ${ref} --fingerprint ${r.fingerprint}`;
        return { data: r, human };
      }),
    );
  // `outpost trust regenerate <device>`: commander takes a first word naming a subcommand as that subcommand.
  withLinkFlags(leaf(trust, 'regenerate <device>', 'regenerate a device’s SSH host keys (e.g. cloned from one image) and pin the new key'), {
    yes: 'trust the device’s current host key on first contact (never a changed one) before regenerating',
  }).action(
    runWith(io, async (ctx, ref: string, opts: LinkFlags) => {
      const device = await resolveDevice(ctx, ref, opts);
      // New keys are made only over a trusted link: an unknown key is pinned first only on --yes / --fingerprint.
      if (opts.yes || opts.fingerprint) await ctx.api.invoke('trust:pin', { device: device.id, yes: Boolean(opts.yes), fingerprint: opts.fingerprint, port: opts.port });
      ctx.log(`regenerating the host keys of ${device.name} over its pinned connection…`);
      const r = await ctx.api.invoke('trust:regenerate', { device: device.id, user: opts.user, port: opts.port, identityFile: opts.identity });
      const where = `${r.host}${r.port === 22 ? '' : `:${r.port}`}`;
      return { data: r, human: `${r.name} (${where}) has new host keys; sshd restarted ${r.restartedVia}\nwas    ${r.previous}\npinned ${r.fingerprint}` };
    }),
  );

  const hosts = program.command('trust-store').description('pinned SSH host keys');
  leaf(hosts, 'list', 'list pinned host keys').action(
    runWith(io, async ({ api }) => {
      const list = await api.invoke('trust:list', {});
      return { data: list, human: list.length ? table(['HOST', 'PORT', 'TYPE', 'FINGERPRINT', 'PINNED'], list.map((k) => [k.host, k.port, k.keyType, k.fingerprint, k.pinnedAt])) : 'No pinned host keys.' };
    }),
  );
  leaf(hosts, 'forget <device>', 'forget a pinned host key')
    .option('--port <port>', 'SSH port', parseIntOption('--port'))
    .action(
      runWith(io, async ({ api }, ref: string, opts: { port?: number }) => {
        const r = await api.invoke('trust:forget', { device: ref, port: opts.port });
        return { data: r, human: r.forgotten ? `forgot the key of ${ref}` : `no key pinned for ${ref}` };
      }),
    );
}
