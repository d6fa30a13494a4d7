import type { Command } from 'commander';
import type { LinkOptions } from '../../shared/contract';
import { parseIntOption } from './context';

/** The flags every command that reaches a device takes, as commander hands them over. */
export interface LinkFlags {
  user?: string;
  port?: number;
  identity?: string;
  yes?: boolean;
  fingerprint?: string;
}

/**
 * Adds `--user`, `--identity`, `--port`, `--yes` and `--fingerprint`. Each overrides, for this run only, what the
 * inventory keeps for the device (`outpost devices update <device> --user … --identity …`) and the site defaults.
 */
export function withLinkFlags(cmd: Command, opts: { yes?: string } = {}): Command {
  return cmd
    .option('--user <user>', 'SSH user (default: the device’s, else the site’s, else root)')
    .option('--identity <file>', 'SSH private key file (default: the device’s, else the site’s; the laptop key is always tried)')
    .option('--port <port>', 'SSH port (default: the device’s, else 22)', parseIntOption('--port'))
    .option('--yes', opts.yes ?? 'trust a device’s host key on first contact (never a changed one)')
    .option('--fingerprint <SHA256:…>', 'trust the device’s host key only if it has this fingerprint');
}

/** The flags as the contract's one link shape. */
export function linkFrom(flags: LinkFlags): LinkOptions {
  // Built by hand, not through the contract's helpers: commands load no zod schema before they run (dist-cli chunks).
  const link: LinkOptions = {};
  if (flags.user) link.user = flags.user;
  if (flags.port !== undefined) link.port = flags.port;
  if (flags.identity) link.identityFile = flags.identity;
  if (flags.yes) link.acceptNewHostKey = true;
  if (flags.fingerprint) link.expectedFingerprint = flags.fingerprint;
  return link;
}
