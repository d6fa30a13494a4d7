import { InvalidArgumentError, type Command } from 'commander';
import type { ResultOf } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { collect, leaf, parseIntOption, runWith, type CliIo } from '../context';
import { resolveDevice } from '../resolve-device';
import { table } from '../table';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';

function parseSeconds(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number of seconds, got ${JSON.stringify(value)}`);
    return n;
  };
}

const ms = (v: number | null) => (v === null ? '-' : v.toFixed(2));

type Measured = ResultOf<'latency:measure'>;
/** The one document a script reads: the figures at the top level, in milliseconds. */
const flat = (m: Measured) => ({ device: m.device, target: m.target, onDevice: m.onDevice, method: m.method, intervalMs: m.intervalMs, ...m.summary, ttfb: m.ttfb, lastError: m.lastError });

interface ProbeFlags extends LinkFlags {
  target: string[];
  onDevice?: boolean;
  interval: number;
  duration: number;
  timeout: number;
}

/** `outpost latency <device> --target …` (one summary per target) and `outpost latency ab|recordings|export`. */
export function registerLatency(program: Command, io: CliIo): void {
  const latency = program.command('latency').description('live latency probes, the latency lab (A/B) and recordings');
  // The default subcommand keeps `outpost latency <device> --target …` short, while `ab`, `recordings` and `export`
  // get options of their own (a parent with options would swallow theirs, `--json` included).
  withLinkFlags(
    latency.command('measure <device>', { isDefault: true }).description('measure latency to a device: tcp, ssh, docker, http, mqtt or icmp probes; summary in ms')
      .option('--json', 'print one JSON document on stdout (logs go to stderr)')
      .option('--target <spec>', 'tcp:[HOST:]PORT | ssh | docker | http:PORT/PATH | http:URL | mqtt[:URL] | icmp[:HOST] (repeatable)', collect, [])
      .option('--on-device', 'run the tcp/http probe on the device itself (tells link latency from workload latency)')
      .option('--interval <ms>', 'time between probes (50 ms or more)', parseIntOption('--interval'), 1000)
      .option('--duration <s>', 'how long to probe', parseSeconds('--duration'), 10)
      .option('--timeout <ms>', 'a probe unanswered for this long counts as lost', parseIntOption('--timeout'), 2000),
  ).action(
    runWith(io, async (ctx, ref: string, opts: ProbeFlags) => {
      if (opts.target.length === 0) throw new OutpostError('invalid-input', 'give at least one --target (tcp:PORT, ssh, docker, http:URL, mqtt:URL or icmp)');
      const device = await resolveDevice(ctx, ref, opts);
      ctx.log(`probing ${opts.target.join(', ')} on ${device.name} every ${opts.interval} ms for ${opts.duration} s`);
      const results = await Promise.all(
        opts.target.map((target) =>
          ctx.api.invoke('latency:measure', { device: device.id, target, onDevice: Boolean(opts.onDevice), intervalMs: opts.interval, durationS: opts.duration, timeoutMs: opts.timeout, link: linkFrom(opts) }),
        ),
      );
      const rows = results.map((r) => [r.target + (r.onDevice ? ' (device)' : ''), r.summary.count, `${r.summary.lossPct}%`, ms(r.summary.p50), ms(r.summary.p95), ms(r.summary.p99), ms(r.summary.max), ms(r.summary.jitter), r.lastError ? `${r.lastError.kind}: ${r.lastError.message}` : '']);
      // Every probe lost: the target is down (exit 4, as for an unreachable device); the figures are still printed.
      if (results.some((r) => r.summary.count > 0 && r.summary.lost === r.summary.count)) io.setExitCode(4);
      const data = results.length === 1 ? flat(results[0] as Measured) : results.map(flat);
      return { data, human: table(['TARGET', 'COUNT', 'LOSS', 'P50 ms', 'P95 ms', 'P99 ms', 'MAX ms', 'JITTER ms', 'LAST ERROR'], rows) };
    }),
  );

  withLinkFlags(
    leaf(latency, 'ab <device>', 'latency lab: deploy variant A, probe, deploy variant B, probe; B − A of median and p95 with 95% bootstrap CIs')
      .option('-f, --file <compose.yml>', 'a variant (give exactly two: A then B)', collect, [])
      .requiredOption('--target <spec>', 'the probe both variants are measured with (same forms as `outpost latency`)')
      .option('--on-device', 'probe from the device itself')
      .option('--interval <ms>', 'time between probes', parseIntOption('--interval'), 100)
      .option('--duration <s>', 'probing time per variant', parseSeconds('--duration'), 30)
      .option('--warmup <s>', 'probing time dropped before each measurement', Number, 2)
      .option('--timeout <ms>', 'a probe unanswered for this long counts as lost', parseIntOption('--timeout'), 2000)
      .option('--health-timeout <seconds>', 'how long each variant may take to become healthy', parseIntOption('--health-timeout'), 60),
  ).action(
    runWith(io, async (ctx, ref: string, opts: LinkFlags & { file: string[]; target: string; onDevice?: boolean; interval: number; duration: number; warmup: number; timeout: number; healthTimeout: number }) => {
      if (opts.file.length !== 2) throw new OutpostError('invalid-input', `give exactly two variants (-f a.yml -f b.yml), got ${opts.file.length}`);
      const device = await resolveDevice(ctx, ref, opts);
      const off = ctx.api.on('latency:ab-progress', (p) => ctx.log(`  ${p.variant}: ${p.message}`));
      const report = await ctx.api
        .invoke('latency:ab', {
          device: device.id,
          variants: [{ path: opts.file[0] as string }, { path: opts.file[1] as string }],
          target: opts.target,
          onDevice: Boolean(opts.onDevice),
          intervalMs: opts.interval,
          durationS: opts.duration,
          warmupS: opts.warmup,
          timeoutMs: opts.timeout,
          healthTimeoutMs: opts.healthTimeout * 1000,
          link: linkFrom(opts),
        })
        .finally(off);
      const rows = report.variants.map((v) => [v.name, v.container.networkMode, v.container.cpuset || '-', v.summary.count, `${v.summary.lossPct}%`, ms(v.summary.p50), ms(v.summary.p95)]);
      const d = report.difference;
      const human = `${table(['VARIANT', 'NETWORK', 'CPUSET', 'COUNT', 'LOSS', 'P50 ms', 'P95 ms'], rows)}\n\nB − A median ${d.median.value} ms [${d.median.ci95.join(', ')}]; p95 ${d.p95.value} ms [${d.p95.ci95.join(', ')}]\n${report.verdict}`;
      return { data: report, human };
    }),
  );

  leaf(latency, 'recordings', 'latency recordings saved in the laptop store').action(
    runWith(io, async (ctx) => {
      const list = await ctx.api.invoke('latency:recordings', {});
      return { data: list, human: table(['ID', 'NAME', 'CREATED', 'SERIES'], list.map((r) => [r.id.slice(0, 8), r.name, r.createdAt, r.series.map((s) => s.label).join('; ')])) };
    }),
  );

  leaf(latency, 'export <recording>', 'write a recording as CSV (one row per sample; lost samples have lost=1)')
    .option('--out <file.csv>', 'write here instead of stdout')
    .action(
      runWith(io, async (ctx, ref: string, opts: { out?: string }) => {
        const list = await ctx.api.invoke('latency:recordings', {});
        const match = list.filter((r) => r.id === ref || r.id.startsWith(ref) || r.name === ref);
        if (match.length !== 1) throw new OutpostError(match.length ? 'invalid-input' : 'not-found', match.length ? `${ref} matches ${match.length} recordings; give more of the id` : `no recording ${ref}`);
        const out = await ctx.api.invoke('latency:recording-export', { id: (match[0] as (typeof match)[0]).id, out: opts.out });
        return { data: { path: out.path, rows: out.rows }, human: out.path ? `wrote ${out.rows} rows to ${out.path}` : out.csv.trimEnd() };
      }),
    );
}
