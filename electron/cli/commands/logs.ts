import type { Command } from 'commander';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';
import { resolveDevice } from '../resolve-device';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';

export function registerLogs(program: Command, io: CliIo): void {
  withLinkFlags(leaf(program, 'logs <device> <container>', 'a container’s logs'))
    .option('--follow', 'keep printing new lines until interrupted')
    .option('--since <when>', 'only lines since 10m, 2h, 1d or a date')
    .option('--tail <n>', 'last n lines', parseIntOption('--tail'), 1000)
    .option('--grep <pattern>', 'only lines matching (regular expression, case-insensitive)')
    .action(
      runWith(io, async (ctx, ref: string, container: string, opts: LinkFlags & { follow?: boolean; since?: string; tail: number; grep?: string }) => {
        const device = await resolveDevice(ctx, ref, opts);
        const link = linkFrom(opts);
        if (!opts.follow) {
          const out = await ctx.api.invoke('workloads:logs', { device: device.id, link, container, since: opts.since, tail: opts.tail, grep: opts.grep });
          return { data: out, human: out.lines.join('\n') };
        }
        let count = 0;
        const ended = new Promise<void>((resolve) => {
          const off = ctx.api.on('workloads:stream', (e) => {
            if (e.data) {
              count += e.data.split('\n').length - 1;
              if (ctx.json) io.stdout(`${JSON.stringify({ line: e.data.trimEnd() })}\n`);
              else io.stdout(e.data);
            }
            if (e.end) {
              off();
              resolve();
            }
          });
          process.once('SIGINT', () => {
            off();
            resolve();
          });
        });
        const { streamId } = await ctx.api.invoke('workloads:follow', { device: device.id, link, kind: 'logs', container, since: opts.since, grep: opts.grep });
        await ended;
        await ctx.api.invoke('workloads:unfollow', { streamId });
        return { data: { followed: count }, human: '' };
      }),
    );
}
