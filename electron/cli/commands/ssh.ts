import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OutpostError } from '../../../shared/errors';
import { leaf, runWith, type CliIo } from '../context';
import { withLinkFlags, type LinkFlags } from '../link-flags';
import { resolveDevice } from '../resolve-device';

export function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new OutpostError('invalid-input', `cannot read ${what} file ${path}: ${(err as Error).message}`);
  }
}

export function registerSsh(program: Command, io: CliIo): void {
  const ssh = program.command('ssh').description('SSH credentials for devices');

  withLinkFlags(leaf(ssh, 'install-key <device>', "install this laptop's ed25519 key in the device's authorized_keys (then log in with it alone)"))
    .option('--password-file <file>', "the device user's password, read from a file (or set OUTPOST_DEVICE_PASSWORD)")
    .option('--remember', 'keep the password in the encrypted vault (needs --passphrase-file or OUTPOST_PASSPHRASE)')
    .option('--passphrase-file <file>', 'passphrase that encrypts stored secrets')
    .action(
      runWith(
        io,
        async (
          ctx,
          ref: string,
          opts: LinkFlags & { passwordFile?: string; remember?: boolean; passphraseFile?: string },
        ) => {
          const device = await resolveDevice(ctx, ref, opts);
          const password = opts.passwordFile ? readSecretFile(opts.passwordFile, 'password') : io.env.OUTPOST_DEVICE_PASSWORD;
          if (opts.passphraseFile) process.env.OUTPOST_PASSPHRASE_FILE = opts.passphraseFile;
          if (opts.yes || opts.fingerprint) await ctx.api.invoke('trust:pin', { device: device.id, yes: Boolean(opts.yes), fingerprint: opts.fingerprint, port: opts.port });
          const r = await ctx.api.invoke('ssh:install-key', {
            device: device.id,
            user: opts.user,
            port: opts.port,
            password,
            identityFile: opts.identity,
            rememberPassword: Boolean(opts.remember),
          });
          const human = r.alreadyPresent ? `the laptop key was already installed on ${device.name}` : `installed the laptop key on ${device.name}${r.verified ? ' and logged in with it' : ''}`;
          return { data: r, human };
        },
      ),
    );
}
