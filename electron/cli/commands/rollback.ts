import type { Command } from 'commander';
import { leaf, runWith, type CliIo } from '../context';
import { resolveDevice } from '../resolve-device';
import { linkArgs, withLinkFlags, type LinkFlags } from './deploy';

export function registerRollback(program: Command, io: CliIo): void {
  withLinkFlags(leaf(program, 'rollback <device> <service>', 'go back to the previous successfully deployed version of a service (health-gated)')).action(
    runWith(io, async (ctx, ref: string, service: string, opts: LinkFlags) => {
      const device = await resolveDevice(ctx, ref, { addIfMissing: false });
      const record = await ctx.api.invoke('workloads:rollback', { device: device.id, service, link: linkArgs(opts) });
      if (record.phase !== 'done') io.setExitCode(1);
      return { data: record, human: `${device.name} ${service}: ${record.phase} — ${record.message}` };
    }),
  );
  withLinkFlags(leaf(program, 'reconcile <device>', 'finish or undo a rollout that a dropped link or an engine restart interrupted')).action(
    runWith(io, async (ctx, ref: string, opts: LinkFlags) => {
      const device = await resolveDevice(ctx, ref, { addIfMissing: false });
      const records = await ctx.api.invoke('workloads:reconcile', { device: device.id, link: linkArgs(opts) });
      return { data: records, human: records.length ? records.map((r) => `${r.service}: ${r.phase} — ${r.message}`).join('\n') : 'nothing to reconcile' };
    }),
  );
}
