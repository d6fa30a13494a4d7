import type { Command } from 'commander';
import type { DeviceFlush } from '../../../shared/contract/buffers';
import { OutpostError } from '../../../shared/errors';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';
import { dialAhead, resolveDeviceIds } from '../resolve-device';
import { table } from '../table';
import { formatBytes } from './buffers';

function summary(results: DeviceFlush[], names: Map<string, string>): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const [stream, s] of Object.entries(r.streams)) {
      rows.push([names.get(r.deviceId) ?? r.deviceId, stream, String(s.segments), formatBytes(s.bytes), String(s.duplicatesSkipped), String(s.quarantined)]);
    }
  }
  const lines = [rows.length ? table(['DEVICE', 'STREAM', 'SEGMENTS', 'BYTES', 'DUPLICATES', 'QUARANTINED'], rows) : 'nothing to flush'];
  for (const r of results) {
    for (const q of r.quarantined) lines.push(`quarantined ${q.stream}/${q.segment} (${q.reason}); left on the device`);
    for (const x of r.refused) lines.push(`refused ${x.path}: ${x.reason}`);
  }
  return lines.join('\n');
}

export function registerFlush(program: Command, io: CliIo): void {
  withLinkFlags(leaf(program, 'flush [devices...]', 'drain devices\' offline buffers onto this laptop, then acknowledge them on the device'))
    .option('--all', 'every device in the inventory')
    .option('--concurrency <n>', 'devices flushed in parallel (default 4)', parseIntOption('--concurrency'))
    .option('--stall-timeout <seconds>', 'give up on a transfer that moves nothing for this long (default 20)', parseIntOption('--stall-timeout'))
    .action(
      runWith(io, async (ctx, refs: string[], flags: LinkFlags & { all?: boolean; concurrency?: number; stallTimeout?: number }) => {
        if (!flags.all && !refs.length) throw new OutpostError('invalid-input', 'name devices to flush, or --all');
        const devices = flags.all ? 'all' : await resolveDeviceIds(ctx, refs, flags);
        if (devices !== 'all') dialAhead(ctx, devices, flags, flags.concurrency ?? 4);
        const names = new Map(ctx.core.devices.list().map((d) => [d.id, d.name]));
        const bar = process.stderr.isTTY ? progressBar(io) : null;
        const unsubscribe = bar ? ctx.api.on('flush:progress', bar.update) : () => undefined;
        try {
          const result = await ctx.api.invoke('buffers:flush', { devices, link: linkFrom(flags), concurrency: flags.concurrency, stallTimeoutSeconds: flags.stallTimeout });
          return { data: result, human: summary(result.devices, names) };
        } finally {
          unsubscribe();
          bar?.done();
        }
      }),
    );
}

/** One stderr line, redrawn in place: bytes done of total across devices, rate and ETA. */
function progressBar(io: CliIo): { update: (p: { deviceId: string; stream: string; bytesDone: number; bytesTotal: number; rate: number }) => void; done: () => void } {
  const state = new Map<string, { done: number; total: number; rate: number }>();
  const rates = new Map<string, number>();
  return {
    update(p) {
      state.set(`${p.deviceId}/${p.stream}`, { done: p.bytesDone, total: p.bytesTotal, rate: p.rate });
      rates.set(p.deviceId, p.rate);
      let done = 0;
      let total = 0;
      for (const s of state.values()) {
        done += s.done;
        total += s.total;
      }
      const rate = [...rates.values()].reduce((a, b) => a + b, 0);
      const pct = total ? done / total : 1;
      const width = 30;
      const filled = Math.round(pct * width);
      const eta = rate > 0 ? Math.ceil((total - done) / rate) : null;
      io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${eta === null ? '?' : `${eta}s`}   `);
    },
    done() {
      io.stderr('\n');
    },
  };
}
