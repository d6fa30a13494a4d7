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

  leaf(store, 'quota [size]', 'show or set the store quota: bytes, or with a unit (500M, 20G); "none" removes it').action(
    runWith(io, async (ctx, value: string | undefined) => {
      const bytes = value === undefined ? undefined : value === 'none' ? null : parseSize(value);
      const q = await ctx.api.invoke('store:quota', { bytes });
      return { data: q, human: `${formatBytes(q.usedBytes)} used, quota ${q.quotaBytes === null ? 'none' : formatBytes(q.quotaBytes)}` };
    }),
  );

  leaf(store, 'prune', 'delete stored segments: by default only those forwarded upstream or exported')
    .option('--device <device>', 'only this device (id, name, hostname or address)')
    .option('--stream <stream>', 'only this stream')
    .option('--older-than <age>', 'only segments stored here longer ago than this: 30m, 12h, 7d, 2w')
    .option('--all-forwarded', 'every segment forwarded upstream or exported, whatever its device, stream or age')
    .option('--force', 'also delete segments never forwarded or exported (this laptop may hold their only copy)')
    .option('--dry-run', 'say what would go and what it would free; delete nothing')
    .action(
      runWith(io, async (ctx, flags: { device?: string; stream?: string; olderThan?: string; allForwarded?: boolean; force?: boolean; dryRun?: boolean }) => {
        const { deviceId } = filters(ctx, { device: flags.device });
        const olderThanSeconds = flags.olderThan === undefined ? undefined : parseAge(flags.olderThan);
        if (deviceId === undefined && flags.stream === undefined && olderThanSeconds === undefined && !flags.allForwarded) {
          throw new OutpostError('invalid-input', 'say what to prune: --device, --stream, --older-than, or --all-forwarded');
        }
        const r = await ctx.api.invoke('store:prune', { deviceId, stream: flags.stream, olderThanSeconds, allForwarded: flags.allForwarded, force: flags.force, dryRun: flags.dryRun });
        const names = new Map(ctx.core.devices.list().map((d) => [d.id, d.name]));
        const rows = r.groups.map((g) => [names.get(g.deviceId) ?? g.deviceId, g.stream, String(g.segments), formatBytes(g.bytes), g.keptSegments ? `${g.keptSegments} (${formatBytes(g.keptBytes)})` : '-']);
        const lines = [rows.length ? table(['DEVICE', 'STREAM', r.dryRun ? 'WOULD DELETE' : 'DELETED', 'BYTES', 'KEPT: NOT FORWARDED'], rows) : 'nothing stored matches'];
        lines.push(`${r.dryRun ? 'would delete' : 'deleted'} ${r.segments} segments (${formatBytes(r.bytes)}), ${r.dryRun ? 'freeing' : 'freed'} ${formatBytes(r.freedBytes)} on disk; ${formatBytes(r.usedBytes)} stored${r.quotaBytes !== null ? ` of ${formatBytes(r.quotaBytes)} quota` : ''}`);
        if (r.keptSegments) lines.push(`kept ${r.keptSegments} segments never forwarded or exported; --force deletes them too`);
        return { data: r, human: lines.join('\n') };
      }),
    );
}

const AGE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `7d` → seconds; a bare number is seconds. */
export function parseAge(value: string): number {
  const m = /^(\d+)\s*([smhdw]?)$/.exec(value.trim());
  if (!m) throw new OutpostError('invalid-input', `--older-than wants an age such as 30m, 12h, 7d or 2w, got ${JSON.stringify(value)}`);
  return Number(m[1]) * (AGE_UNITS[m[2] || 's'] ?? 1);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };

/** `20G` → bytes (binary units, as the rest of Outpost prints them). */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new OutpostError('invalid-input', `quota must be a size such as 500000000, 500M or 20G, or "none"; got ${JSON.stringify(value)}`);
  return Math.floor(Number(m[1]) * unit);
}
