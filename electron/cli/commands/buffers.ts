import type { Command } from 'commander';
import type { BufferSshOptions } from '../../../shared/contract/buffers';
import { OutpostError } from '../../../shared/errors';
import { collect, leaf, parseIntOption, runWith, type CliIo } from '../context';
import { resolveDevice } from '../resolve-device';
import { table } from '../table';

export interface SshFlags {
  user?: string;
  port?: number;
  identity?: string;
  yes?: boolean;
}

/** Adds the SSH options every device-contacting command takes. */
export function withSshFlags(cmd: Command): Command {
  return cmd
    .option('--user <user>', 'SSH user (default: the device\'s, else root)')
    .option('--port <port>', 'SSH port', parseIntOption('--port'))
    .option('--identity <file>', 'SSH private key file')
    .option('--yes', 'trust a device\'s new host key');
}

export function sshOptionsFrom(flags: SshFlags): BufferSshOptions {
  return { user: flags.user, port: flags.port, identityFile: flags.identity, acceptNew: flags.yes };
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}
export { formatBytes };

function parseOutbox(value: string): { file: string; table: string } {
  const colon = value.lastIndexOf(':');
  if (colon > 0) return { file: value.slice(0, colon), table: value.slice(colon + 1) };
  return { file: value, table: 'outbox' };
}

export function registerBuffers(program: Command, io: CliIo): void {
  const buffers = program.command('buffers').description('offline buffers on devices: spool directories and SQLite outboxes');

  withSshFlags(leaf(buffers, 'scan <device>', 'list a device\'s buffered streams (segments, bytes, oldest)')).action(
    runWith(io, async (ctx, ref: string, flags: SshFlags) => {
      const device = await resolveDevice(ctx, ref, { sshPort: flags.port, sshUser: flags.user });
      const scan = await ctx.api.invoke('buffers:scan', { deviceId: device.id, ssh: sshOptionsFrom(flags) });
      const lines = [
        scan.streams.length
          ? table(['STREAM', 'KIND', 'SEGMENTS', 'BYTES', 'OLDEST', 'SOURCE'], scan.streams.map((s) => [s.stream, s.kind, String(s.segments), formatBytes(s.bytes), s.oldest ?? '-', s.source]))
          : `no buffered data on ${device.name}`,
        ...scan.refused.map((r) => `refused ${r.path}: ${r.reason}`),
        ...scan.missing.map((m) => `not found on the device: ${m}`),
      ];
      return { data: scan, human: lines.join('\n') };
    }),
  );

  leaf(buffers, 'config <device>', 'set where a device keeps its buffers (replaces the auto-detected defaults)')
    .option('--spool <dir>', 'spool root directory (repeatable)', collect)
    .option('--outbox <file[:table]>', 'SQLite outbox file and table (repeatable; table defaults to outbox)', collect)
    .option('--ack <mode>', 'after a durable flush: delete (default) or move to <stream>/acked/')
    .option('--reset', 'forget this device\'s settings and use the defaults again')
    .action(
      runWith(io, async (ctx, ref: string, flags: { spool?: string[]; outbox?: string[]; ack?: string; reset?: boolean }) => {
        const device = await resolveDevice(ctx, ref, { addIfMissing: false });
        if (flags.ack !== undefined && flags.ack !== 'delete' && flags.ack !== 'move') throw new OutpostError('invalid-input', '--ack takes delete or move');
        const config = await ctx.api.invoke('buffers:config', {
          deviceId: device.id,
          spools: flags.spool,
          outboxes: flags.outbox?.map(parseOutbox),
          ack: flags.ack as 'delete' | 'move' | undefined,
          reset: flags.reset,
        });
        const human = [`spools:   ${config.spools.join(', ') || '-'}`, `outboxes: ${config.outboxes.map((o) => `${o.file}:${o.table}`).join(', ') || '-'}`, `ack:      ${config.ack}${config.defaults ? ' (defaults)' : ''}`].join('\n');
        return { data: config, human };
      }),
    );
}
