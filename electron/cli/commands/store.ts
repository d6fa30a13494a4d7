import type { Command } from 'commander';
import { resolve } from 'node:path';
import { OutpostError } from '../../../shared/errors';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';
import { table } from '../table';
import { formatBytes } from './buffers';

interface FilterFlags {
  device?: string;
  stream?: string;
  since?: string;
  until?: string;
  limit?: number;
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--device <device>', 'only this device (id, name, hostname or address)')
    .option('--stream <stream>', 'only this stream')
    .option('--since <time>', 'segments from this ISO time on')
    .option('--until <time>', 'segments before this ISO time')
    .option('--limit <n>', 'at most n segments (default 1000)', parseIntOption('--limit'));
}

export function registerStore(program: Command, io: CliIo): void {
  const store = program.command('store').description('the laptop\'s store of flushed segments');

  const filters = (ctx: { core: { devices: { find(ref: string): { id: string } | undefined } } }, f: FilterFlags) => {
    let deviceId: string | undefined;
    if (f.device) {
      const device = ctx.core.devices.find(f.device);
      // A device removed from the inventory keeps its flushed data: accept its raw id too.
      deviceId = device?.id ?? f.device;
    }
    return { deviceId, stream: f.stream, since: f.since, until: f.until, limit: f.limit };
  };

  withFilters(leaf(store, 'list', 'browse stored segments by device, stream and time')).action(
    runWith(io, async (ctx, flags: FilterFlags) => {
      const list = await ctx.api.invoke('store:list', filters(ctx, flags));
      const human = list.segments.length
        ? `${table(['ID', 'DEVICE', 'STREAM', 'SEGMENT', 'BYTES', 'TIME'], list.segments.map((s) => [String(s.id), s.deviceId.slice(0, 8), s.stream, s.segment, formatBytes(s.bytes), s.sourceTime ?? s.storedAt]))}\n${formatBytes(list.totalBytes)} stored${list.quotaBytes !== null ? ` of ${formatBytes(list.quotaBytes)} quota` : ''}`
        : 'the store is empty';
      return { data: list, human };
    }),
  );

  leaf(store, 'get <id>', 'inspect one stored segment (NDJSON, CSV, text or hex preview)')
    .option('--lines <n>', 'preview lines (default 20)', parseIntOption('--lines'))
    .action(
      runWith(io, async (ctx, id: string, flags: { lines?: number }) => {
        const n = Number(id);
        if (!Number.isInteger(n)) throw new OutpostError('invalid-input', `segment id must be an integer, got ${JSON.stringify(id)}`);
        const got = await ctx.api.invoke('store:get', { id: n, previewLines: flags.lines });
        const s = got.segment;
        return { data: got, human: [`${s.stream}/${s.segment}  ${formatBytes(s.bytes)}  sha256 ${s.sha256}`, `format: ${got.preview.format}`, ...got.preview.lines, got.preview.truncated ? '…' : ''].join('\n') };
      }),
    );

  withFilters(leaf(store, 'export <dir>', 'copy stored segments to <dir>/<device>/<stream>/<segment>')).action(
    runWith(io, async (ctx, dir: string, flags: FilterFlags) => {
      const out = await ctx.api.invoke('store:export', { ...filters(ctx, flags), dir: resolve(dir) });
      return { data: out, human: `exported ${out.files} segments (${formatBytes(out.bytes)}) to ${out.dir}` };
    }),
  );

  leaf(store, 'quota [bytes]', 'show or set the store quota in bytes ("none" removes it)').action(
    runWith(io, async (ctx, value: string | undefined) => {
      let bytes: number | null | undefined;
      if (value === 'none') bytes = null;
      else if (value !== undefined) {
        bytes = Number(value);
        if (!Number.isInteger(bytes) || bytes < 0) throw new OutpostError('invalid-input', `quota must be a byte count or "none", got ${JSON.stringify(value)}`);
      }
      const q = await ctx.api.invoke('store:quota', { bytes });
      return { data: q, human: `${formatBytes(q.usedBytes)} used, quota ${q.quotaBytes === null ? 'none' : formatBytes(q.quotaBytes)}` };
    }),
  );
}
