import type { Command } from 'commander';
import { OutpostError } from '../../../shared/errors';
import { collect, leaf, runWith, type CliIo } from '../context';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';
import { dialAhead, resolveDevice } from '../resolve-device';
import { table } from '../table';

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

  withLinkFlags(leaf(buffers, 'scan <device>', 'list a device\'s buffered streams (segments, bytes, oldest)')).action(
    runWith(io, async (ctx, ref: string, flags: LinkFlags) => {
      const device = await resolveDevice(ctx, ref, flags);
      dialAhead(ctx, [device.id], flags, 1);
      const scan = await ctx.api.invoke('buffers:scan', { deviceId: device.id, link: linkFrom(flags) });
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

  withLinkFlags(leaf(buffers, 'config <device>', 'set where a device keeps its buffers (replaces the auto-detected defaults); checks they exist there'))
    .option('--spool <dir>', 'spool root directory (repeatable)', collect)
    .option('--outbox <file[:table]>', 'SQLite outbox file and table (repeatable; table defaults to outbox)', collect)
    .option('--ack <mode>', 'after a durable flush: delete (default) or move to <stream>/acked/')
    .option('--reset', 'forget this device\'s settings and use the defaults again')
    .option('--no-check', 'do not check on the device that the spool directories and outbox files exist')
    .action(
      runWith(io, async (ctx, ref: string, flags: LinkFlags & { spool?: string[]; outbox?: string[]; ack?: string; reset?: boolean; check: boolean }) => {
        const device = await resolveDevice(ctx, ref, flags);
        if (flags.ack !== undefined && flags.ack !== 'delete' && flags.ack !== 'move') throw new OutpostError('invalid-input', '--ack takes delete or move');
        const config = await ctx.api.invoke('buffers:config', {
          deviceId: device.id,
          spools: flags.spool,
          outboxes: flags.outbox?.map(parseOutbox),
          ack: flags.ack as 'delete' | 'move' | undefined,
          reset: flags.reset,
          check: flags.check ? undefined : false,
          link: linkFrom(flags),
        });
        const lines = [`spools:   ${config.spools.join(', ') || '-'}`, `outboxes: ${config.outboxes.map((o) => `${o.file}:${o.table}`).join(', ') || '-'}`, `ack:      ${config.ack}${config.defaults ? ' (defaults)' : ''}`];
        const check = config.check;
        if (check && !check.reached) lines.push(`not checked: ${device.name} could not be reached (${check.error?.kind}: ${check.error?.message}); the settings are saved`);
        for (const m of check?.missing ?? []) lines.push(`warning: not found on ${device.name}: ${m} (saved anyway; nothing will be flushed from it until it exists)`);
        if (check?.missing.length) ctx.log(`warning: ${check.missing.length} configured location(s) do not exist on ${device.name}: ${check.missing.join(', ')}`);
        const human = lines.join('\n');
        return { data: config, human };
      }),
    );
}
