import { resolve } from 'node:path';
import type { Command } from 'commander';
import { leaf, runWith, type CliIo } from '../context';
import { resolveDevice } from '../resolve-device';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';

export function registerDiag(program: Command, io: CliIo): void {
  withLinkFlags(leaf(program, 'diag <device>', 'device facts and containers; --bundle writes a redacted support bundle for offline hand-off'))
    .option('--bundle <out.zip>', 'write a support bundle (zip) here')
    .action(
      runWith(io, async (ctx, ref: string, opts: LinkFlags & { bundle?: string }) => {
        const device = await resolveDevice(ctx, ref, opts);
        const link = linkFrom(opts);
        if (opts.bundle) {
          const out = await ctx.api.invoke('workloads:bundle', { device: device.id, link, out: resolve(opts.bundle) });
          return { data: out, human: `wrote ${out.path} (${out.entries.length} entries, ${out.bytes} bytes, secrets redacted)` };
        }
        const facts = await ctx.api.invoke('workloads:facts', { device: device.id, link });
        const [ps] = await ctx.api.invoke('workloads:ps', { devices: [device.id], link });
        const engine = facts.engine as { ServerVersion?: string; Containers?: number; Images?: number };
        const human = [
          `${device.name}: Docker ${engine.ServerVersion ?? '?'}, ${engine.Containers ?? '?'} containers, ${engine.Images ?? '?'} images`,
          `load: ${facts.loadAverage}   temperature: ${facts.temperatureC ?? 'n/a'} °C   clock skew vs laptop: ${facts.clockSkewMs} ms`,
          facts.memory,
          facts.diskFree,
          ...(ps?.value ?? []).map((c) => `${c.name}  ${c.state}  ${c.health ?? '-'}  restarts ${c.restarts}  ${c.image}`),
        ].join('\n');
        return { data: { facts, containers: ps }, human };
      }),
    );
}
