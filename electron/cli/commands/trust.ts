import type { Command } from 'commander';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';
import { table } from '../table';
import { resolveDevice } from '../resolve-device';

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
  void trust;

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
