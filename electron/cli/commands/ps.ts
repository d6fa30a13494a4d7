import type { Command } from 'commander';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';
import { table } from '../table';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';
import { FLEET_PARALLEL } from '../../core/engines/registry';
import { dialAhead, resolveDeviceIds } from '../resolve-device';

const uptime = (s: number | null) => (s === null ? '-' : s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`);

export function registerPs(program: Command, io: CliIo): void {
  withLinkFlags(leaf(program, 'ps <device...>', 'containers on each device: state, health, restarts, image, uptime'))
    .option('--timeout <ms>', 'per-device deadline', parseIntOption('--timeout'), 8000)
    .action(
      runWith(io, async (ctx, refs: string[], opts: LinkFlags & { timeout: number }) => {
        const devices = await resolveDeviceIds(ctx, refs, opts);
        // The handshakes run while the Workloads service loads; its fleet call joins them (as many as it dials at once).
        dialAhead(ctx, devices, opts, FLEET_PARALLEL);
        const results = await ctx.api.invoke('workloads:ps', { devices, link: linkFrom(opts), timeoutMs: opts.timeout });
        const rows = results.flatMap((r) =>
          r.ok ? (r.value ?? []).map((c) => [r.deviceName, c.name, c.state, c.health ?? '-', String(c.restarts), c.image, uptime(c.uptimeSeconds)]) : [[r.deviceName, '-', `${r.error?.kind}`, '-', '-', r.error?.message ?? '', '-']],
        );
        if (results.some((r) => !r.ok)) io.setExitCode(4);
        return { data: results, human: table(['DEVICE', 'CONTAINER', 'STATE', 'HEALTH', 'RESTARTS', 'IMAGE', 'UP'], rows) };
      }),
    );
}
