import type { Command } from 'commander';
import { leaf, runWith, type CliIo } from '../context';
import { resolveDevice } from '../resolve-device';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';

export function registerRollback(program: Command, io: CliIo): void {
  withLinkFlags(leaf(program, 'rollback <device> <service>', 'go back to the version that ran before the current one (follows the history chain; health-gated)')).action(
    runWith(io, async (ctx, ref: string, service: string, opts: LinkFlags) => {
      const device = await resolveDevice(ctx, ref, opts);
      const record = await ctx.api.invoke('workloads:rollback', { device: device.id, service, link: linkFrom(opts) });
      if (record.phase !== 'done') io.setExitCode(1);
      return { data: record, human: `${device.name} ${service}: ${record.phase} — ${record.message}` };
    }),
  );
  withLinkFlags(
    leaf(program, 'reconcile <device>', 'settle rollouts a dropped link or an engine restart interrupted: finished if the new version was judged healthy, else undone'),
  ).action(
    runWith(io, async (ctx, ref: string, opts: LinkFlags) => {
      const device = await resolveDevice(ctx, ref, opts);
      const records = await ctx.api.invoke('workloads:reconcile', { device: device.id, link: linkFrom(opts) });
      return { data: records, human: records.length ? records.map((r) => `${device.name} ${r.service}: ${r.phase} — ${r.message}`).join('\n') : `${device.name}: nothing left mid-rollout` };
    }),
  );
}
