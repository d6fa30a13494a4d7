import { InvalidArgumentError, type Command } from 'commander';
import type { Api } from '../../shared/contract';
import { toErrorBody } from '../../shared/errors';
import type { Core } from '../core/app';
import { defaultDataDir } from '../core/config';

export interface GlobalOptions {
  json?: boolean;
}

export interface CommandContext {
  core: Core;
  api: Api;
  json: boolean;
  /** Human-readable progress and logs; always stderr so `--json` stdout stays one document. */
  log(message: string): void;
}

/** What a command returns: the JSON document, and how to show it to a person. */
export interface CommandOutput<T = unknown> {
  data: T;
  human?: string;
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  setExitCode: (code: number) => void;
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/** Adds a leaf command that accepts `--json` and runs inside a core opened on `$OUTPOST_HOME`. */
export function leaf(parent: Command, spec: string, description: string): Command {
  return parent.command(spec).description(description).option('--json', 'print one JSON document on stdout (logs go to stderr)');
}

export function runWith<A extends unknown[]>(
  io: CliIo,
  action: (ctx: CommandContext, ...args: A) => Promise<CommandOutput>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as Command;
    // With globals: `trust regenerate` sits under `trust <device>`, which takes `--json` itself.
    const opts = command.optsWithGlobals<GlobalOptions>();
    const json = Boolean(opts.json);
    let core: Core | undefined;
    const interrupt = cancelOnInterrupt(io, () => core);
    try {
      // Loaded here, not at the top: `outpost --help` and usage errors never open the core.
      const { createCore, inProcessApi } = await import('../core/app');
      core = createCore({ dataDir: defaultDataDir(io.env), transport: 'in-process' });
      const ctx: CommandContext = { core, api: inProcessApi(core), json, log: (m) => io.stderr(`${m}\n`) };
      const out = await action(ctx, ...(args.slice(0, -1) as A));
      if (json) io.stdout(`${JSON.stringify(out.data, null, 2)}\n`);
      else io.stdout(`${out.human ?? JSON.stringify(out.data, null, 2)}\n`);
    } catch (err) {
      const body = toErrorBody(err);
      if (json) io.stdout(`${JSON.stringify({ error: { kind: body.kind, message: body.message, ...(body.details ? { details: body.details } : {}) } }, null, 2)}\n`);
      else io.stderr(`outpost: ${body.kind}: ${body.message}\n`);
      io.setExitCode(exitCodeFor(body.kind));
    } finally {
      interrupt.dispose();
      await core?.close();
    }
  };
}

/**
 * Ctrl-C cancels the command's running jobs: each stops at its next safe point and the command fails with kind
 * `cancelled` (exit 130). A second Ctrl-C quits at once. Commands that handle SIGINT themselves (logs --follow,
 * serve) keep doing so when no job runs.
 */
function cancelOnInterrupt(io: CliIo, core: () => Core | undefined): { dispose(): void } {
  let presses = 0;
  const onSigint = () => {
    presses++;
    const cancelled = presses === 1 ? (core()?.jobs.cancelAll() ?? []) : [];
    if (cancelled.length) {
      io.stderr('\noutpost: cancelling (Ctrl-C again to quit at once)\n');
      return;
    }
    if (presses === 1 && process.listenerCount('SIGINT') > 1) return;
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  return { dispose: () => process.off('SIGINT', onSigint) };
}

/**
 * Distinct exit codes let scripts branch without parsing: 2 bad input, 3 trust problems, 4 unreachable, 5 busy (another
 * process holds the device), 130 cancelled (Ctrl-C), 1 other.
 */
export function exitCodeFor(kind: string): number {
  if (kind === 'cancelled') return 130;
  if (kind === 'busy') return 5;
  if (kind === 'invalid-input' || kind === 'not-found') return 2;
  if (kind === 'host-key-changed' || kind === 'host-key-unknown' || kind === 'auth') return 3;
  if (kind === 'unreachable' || kind === 'timeout' || kind === 'engine-not-found') return 4;
  return 1;
}

export function parseIntOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
