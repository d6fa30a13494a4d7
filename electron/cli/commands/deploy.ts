import type { Command } from 'commander';
import { exitCodeFor, leaf, parseIntOption, runWith, type CliIo } from '../context';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';
import { resolveDeviceIds } from '../resolve-device';
import { table } from '../table';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;

export function registerDeploy(program: Command, io: CliIo): void {
  withLinkFlags(leaf(program, 'deploy <device...>', 'roll out a compose file: only missing layers are sent, health-gated, rolled back on failure'))
    .requiredOption('-f, --file <compose.yml>', 'compose file (subset)')
    .option('--health-timeout <seconds>', 'how long the new version may take to become healthy', parseIntOption('--health-timeout'), 60)
    .action(
      runWith(io, async (ctx, refs: string[], opts: LinkFlags & { file: string; healthTimeout: number }) => {
        const args = { devices: await resolveDeviceIds(ctx, refs, opts), compose: { path: opts.file }, link: linkFrom(opts), healthTimeoutMs: opts.healthTimeout * 1000 };
        const plan = await ctx.api.invoke('workloads:plan', args);
        ctx.log('edge defaults applied (override any of them in the compose file):');
        for (const a of plan.applied) ctx.log(`  ${a.service}.${a.field} = ${JSON.stringify(a.value)}  — ${a.reason}`);
        for (const d of plan.devices) {
          ctx.log(d.error ? `  ${d.deviceId.slice(0, 8)} ${d.service}: ${d.error.kind}: ${d.error.message}` : `  ${d.deviceId.slice(0, 8)} ${d.service}: ${d.layersToSend}/${d.layersTotal} layers, ${mib(d.bytesToSend)} to send`);
        }
        if (!opts.yes && !ctx.json) ctx.log('(add --yes to skip this summary in scripts; deploying now)');
        const off = ctx.api.on('workloads:progress', (p) => {
          if (p.phase === 'staging') ctx.log(`  ${p.deviceId.slice(0, 8)} ${mib(p.bytesSent)} / ${mib(p.bytesTotal)}  ${(p.bytesPerSecond / 1024).toFixed(0)} KiB/s  eta ${p.etaSeconds ?? '?'} s`);
          else ctx.log(`  ${p.deviceId.slice(0, 8)} ${p.phase}`);
        });
        const result = await ctx.api.invoke('workloads:deploy', args).finally(off);
        const rows = result.results.flatMap((r) =>
          r.ok || r.value ? (r.value ?? []).map((rec) => [r.deviceName, rec.service, rec.phase, String(rec.bytesSent), rec.message]) : [[r.deviceName, '-', r.error?.kind ?? 'error', '0', r.error?.message ?? '']],
        );
        // Ctrl-C (cancelled: 130) and a device another operation holds (busy: 5) keep their exit codes; else 1.
        const failed = result.results.filter((r) => !r.ok).map((r) => r.error?.kind ?? 'rolled-back');
        if (failed.length) io.setExitCode(failed.includes('cancelled') ? 130 : failed.every((k) => k === 'busy') ? exitCodeFor('busy') : 1);
        return { data: result, human: table(['DEVICE', 'SERVICE', 'PHASE', 'BYTES SENT', 'MESSAGE'], rows) };
      }),
    );
}
