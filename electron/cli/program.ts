import { Command, CommanderError } from 'commander';
import { APP_VERSION } from '../core/version';
import { toErrorBody } from '../../shared/errors';
import { exitCodeFor, processIo, type CliIo } from './context';
import { registerApp } from './commands/app';
import { registerDevices } from './commands/devices';
import { registerBuffers } from './commands/buffers';
import { registerFlush } from './commands/flush';
import { registerStore } from './commands/store';
import { registerUpstream } from './commands/upstream';
import { registerDiscover } from './commands/discover';
import { registerTrust } from './commands/trust';
import { registerSsh } from './commands/ssh';
import { registerVault } from './commands/vault';
import { registerSerial } from './commands/serial';
import { registerDeploy } from './commands/deploy';
import { registerDiag } from './commands/diag';
import { registerImages } from './commands/images';
import { registerLogs } from './commands/logs';
import { registerPs } from './commands/ps';
import { registerRollback } from './commands/rollback';
import { registerLatency } from './commands/latency';
import { registerPki } from './commands/pki';
import { registerLink } from './commands/link';

/** `outpost <noun> <verb>`: each area registers its own commands. */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('outpost')
    .description('Outpost: discover, provision, flush and deploy edge devices on an offline site')
    .version(APP_VERSION)
    .showHelpAfterError()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .option('--passphrase-file <file>', 'the vault passphrase (secrets, the laptop SSH key), read from a file; or set OUTPOST_PASSPHRASE');
  // Any command may need the vault (the laptop key lives in it): the flag works before or after the subcommand.
  program.hook('preAction', (_root, action) => {
    const file = (action.opts() as { passphraseFile?: string }).passphraseFile ?? program.opts<{ passphraseFile?: string }>().passphraseFile;
    if (file) io.env.OUTPOST_PASSPHRASE_FILE = file;
  });
  registerApp(program, io);
  registerDevices(program, io);
  registerBuffers(program, io);
  registerFlush(program, io);
  registerStore(program, io);
  registerUpstream(program, io);
  registerDiscover(program, io);
  registerTrust(program, io);
  registerSsh(program, io);
  registerVault(program, io);
  registerSerial(program, io);
  registerImages(program, io);
  registerDeploy(program, io);
  registerPs(program, io);
  registerLogs(program, io);
  registerRollback(program, io);
  registerDiag(program, io);
  registerLatency(program, io);
  registerPki(program, io);
  registerLink(program, io);
  return program;
}

export async function runCli(argv: string[], io: CliIo = processIo): Promise<void> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return;
      // Usage errors follow the same contract as every other failure.
      if (argv.includes('--json')) io.stdout(`${JSON.stringify({ error: { kind: 'invalid-input', message: err.message } })}\n`);
      io.setExitCode(2);
      return;
    }
    const body = toErrorBody(err);
    if (argv.includes('--json')) io.stdout(`${JSON.stringify({ error: { kind: body.kind, message: body.message } })}\n`);
    else io.stderr(`outpost: ${body.kind}: ${body.message}\n`);
    io.setExitCode(exitCodeFor(body.kind));
  }
}
