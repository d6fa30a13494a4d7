import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SiteLinkDefaults } from '../../../shared/contract/link';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';

function describeDefaults(d: SiteLinkDefaults): string {
  return [
    `user:     ${d.user ?? 'root (built-in)'}`,
    `port:     ${d.port ?? '22 (built-in)'}`,
    `key:      ${d.identityFile ?? 'the laptop key (built-in)'}`,
    'A device\'s own settings (outpost devices update) come first; --user/--port/--identity override both for one run.',
  ].join('\n');
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
      const d = await api.invoke('link:defaults', {});
      return { data: d, human: describeDefaults(d) };
    }),
  );
  leaf(defaults, 'set', 'set the site defaults (only the options given change)')
    .option('--user <user>', 'SSH user for devices without their own')
    .option('--port <port>', 'SSH port for devices without their own', parseIntOption('--port'))
    .option('--identity <file>', 'SSH private key file on this laptop for devices without their own')
    .action(
      runWith(io, async ({ api }, opts: { user?: string; port?: number; identity?: string }) => {
        const d = await api.invoke('link:defaults-set', { user: opts.user, port: opts.port, identityFile: opts.identity === undefined ? undefined : keyPath(opts.identity) });
        return { data: d, human: describeDefaults(d) };
      }),
    );
  leaf(defaults, 'clear', 'remove site defaults (all, or only the ones named) — back to root, 22 and the laptop key')
    .option('--user', 'only the user')
    .option('--port', 'only the port')
    .option('--identity', 'only the key')
    .action(
      runWith(io, async ({ api }, opts: { user?: boolean; port?: boolean; identity?: boolean }) => {
        const all = !opts.user && !opts.port && !opts.identity;
        const d = await api.invoke('link:defaults-set', { user: all || opts.user ? null : undefined, port: all || opts.port ? null : undefined, identityFile: all || opts.identity ? null : undefined });
        return { data: d, human: describeDefaults(d) };
      }),
    );
}
