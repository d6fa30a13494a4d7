import { Command, CommanderError } from 'commander';
import { APP_VERSION } from '../core/version';
import { toErrorBody } from '../../shared/errors';
import { exitCodeFor, processIo, type CliIo } from './context';

export type RegisterCommands = (program: Command, io: CliIo) => void;

/**
 * Every top-level command, by the module that registers it (help lists them in this order). A run loads only the
 * module of the command it names: `outpost info` never compiles the code of `deploy` or `pki`. Help, a bare
 * `outpost` and an unknown name load them all. program.spec.ts checks each module registers exactly these names.
 */
export const COMMAND_MODULES: ReadonlyArray<{ names: readonly string[]; load: () => Promise<RegisterCommands> }> = [
  { names: ['info', 'serve'], load: async () => (await import('./commands/app')).registerApp },
  { names: ['devices'], load: async () => (await import('./commands/devices')).registerDevices },
  { names: ['buffers'], load: async () => (await import('./commands/buffers')).registerBuffers },
  { names: ['flush'], load: async () => (await import('./commands/flush')).registerFlush },
  { names: ['store'], load: async () => (await import('./commands/store')).registerStore },
  { names: ['upstream'], load: async () => (await import('./commands/upstream')).registerUpstream },
  { names: ['discover'], load: async () => (await import('./commands/discover')).registerDiscover },
  { names: ['trust', 'trust-store'], load: async () => (await import('./commands/trust')).registerTrust },
  { names: ['ssh'], load: async () => (await import('./commands/ssh')).registerSsh },
  { names: ['vault'], load: async () => (await import('./commands/vault')).registerVault },
  { names: ['serial', 'console'], load: async () => (await import('./commands/serial')).registerSerial },
  { names: ['images'], load: async () => (await import('./commands/images')).registerImages },
  { names: ['deploy'], load: async () => (await import('./commands/deploy')).registerDeploy },
  { names: ['ps'], load: async () => (await import('./commands/ps')).registerPs },
  { names: ['logs'], load: async () => (await import('./commands/logs')).registerLogs },
  { names: ['rollback', 'reconcile'], load: async () => (await import('./commands/rollback')).registerRollback },
  { names: ['diag'], load: async () => (await import('./commands/diag')).registerDiag },
  { names: ['latency'], load: async () => (await import('./commands/latency')).registerLatency },
  { names: ['ca', 'cert', 'clock'], load: async () => (await import('./commands/pki')).registerPki },
  { names: ['link'], load: async () => (await import('./commands/link')).registerLink },
];

/** Options of the root command that take a value (the word after them is not a command name). */
const ROOT_OPTIONS_WITH_VALUE = new Set(['--passphrase-file']);

/** The top-level command `argv` names, if it is one of ours (else undefined: help, a bare call, a typo). */
export function commandNamed(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (ROOT_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (arg === '--') return undefined;
    else if (!arg.startsWith('-')) return COMMAND_MODULES.some((m) => m.names.includes(arg)) ? arg : undefined;
  }
  return undefined;
}

/** The root command alone: name, version, global options and hooks. */
function rootProgram(io: CliIo): Command {
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
  return program;
}

/**
 * `outpost <noun> <verb>`: each area registers its own commands. With `only`, just the module of that top-level
 * command is loaded and registered (what a run needs); without, all of them (help, and tests of the whole tree).
 */
export async function buildProgram(io: CliIo = processIo, only?: string): Promise<Command> {
  const program = rootProgram(io);
  const modules = only ? COMMAND_MODULES.filter((m) => m.names.includes(only)) : COMMAND_MODULES;
  const registers = await Promise.all(modules.map((m) => m.load()));
  for (const register of registers) register(program, io);
  return program;
}

export async function runCli(argv: string[], io: CliIo = processIo): Promise<void> {
  const program = await buildProgram(io, commandNamed(argv));
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
