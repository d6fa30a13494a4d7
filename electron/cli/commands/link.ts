import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import type { LinkDefaultsTable, SiteLinkDefaults } from '../../../shared/contract/link';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';

const NOTE = 'A device\'s own settings (outpost devices update) come first; --user/--port/--identity override both for one run.';

function describeSet(d: SiteLinkDefaults, inherit: string): string[] {
  return [`  user: ${d.user ?? inherit + (inherit === 'built-in' ? ' (root)' : '')}`, `  port: ${d.port ?? inherit + (inherit === 'built-in' ? ' (22)' : '')}`, `  key:  ${d.identityFile ?? inherit + (inherit === 'built-in' ? ' (the laptop key)' : '')}`];
}

function describeDefaults(d: SiteLinkDefaults, site?: string): string {
  return [site === undefined ? 'every site:' : `site ${site} (devices tagged site=${site}):`, ...describeSet(d, site === undefined ? 'built-in' : 'every site\'s'), NOTE].join('\n');
}

function describeTable(t: LinkDefaultsTable): string {
  const lines = ['every site:', ...describeSet(t.all, 'built-in')];
  for (const [site, d] of Object.entries(t.sites).sort(([a], [b]) => a.localeCompare(b))) lines.push(`site ${site} (devices tagged site=${site}):`, ...describeSet(d, 'every site\'s'));
  return [...lines, NOTE].join('\n');
}

/** A relative key path is kept as the absolute path it names now (later runs start elsewhere); `~/…` stays as typed. */
function keyPath(file: string): string {
  return file.startsWith('~') || isAbsolute(file) ? file : resolve(file);
}

/**
 * `outpost link defaults [set|clear]`: the site's SSH user, port and key, used for every device without its own
 * (and for an address met for the first time).
 */
export function registerLink(program: Command, io: CliIo): void {
  const link = program.command('link').description('how this laptop reaches devices');
  const defaults = link.command('defaults').description('site-wide SSH defaults: user, port and key for devices without their own');
  defaults.option('--json', 'print one JSON document on stdout (logs go to stderr)').action(
    runWith(io, async ({ api }) => {
      const t = await api.invoke('link:defaults-all', {});
      return { data: t, human: describeTable(t) };
    }),
  );
  leaf(defaults, 'set', 'set the defaults for every site, or with --site for the devices tagged site=<name> (only the options given change)')
    .option('--site <name>', 'only for devices tagged site=<name> (what it leaves unset comes from every site\'s)')
    .option('--user <user>', 'SSH user for devices without their own')
    .option('--port <port>', 'SSH port for devices without their own', parseIntOption('--port'))
    .option('--identity <file>', 'SSH private key file on this laptop for devices without their own')
    .action(
      runWith(io, async ({ api }, opts: { site?: string; user?: string; port?: number; identity?: string }) => {
        const d = await api.invoke('link:defaults-set', { site: opts.site, user: opts.user, port: opts.port, identityFile: opts.identity === undefined ? undefined : keyPath(opts.identity) });
        return { data: d, human: describeDefaults(d, opts.site) };
      }),
    );
  leaf(defaults, 'clear', 'remove defaults (all, or only the ones named) of every site, or with --site of one site')
    .option('--site <name>', 'the set of devices tagged site=<name>')
    .option('--user', 'only the user')
    .option('--port', 'only the port')
    .option('--identity', 'only the key')
    .action(
      runWith(io, async ({ api }, opts: { site?: string; user?: boolean; port?: boolean; identity?: boolean }) => {
        const all = !opts.user && !opts.port && !opts.identity;
        const d = await api.invoke('link:defaults-set', { site: opts.site, user: all || opts.user ? null : undefined, port: all || opts.port ? null : undefined, identityFile: all || opts.identity ? null : undefined });
        return { data: d, human: describeDefaults(d, opts.site) };
      }),
    );
}
