import { randomUUID } from 'node:crypto';
import type { Device, ParsedArgsOf } from '../../../shared/contract';
import type { AbReport, PayloadOf } from '../../../shared/contract';
import type { LinkOptions } from '../../../shared/contract';
import { roundSummary, summarize } from '../../../shared/latency/stats';
import { OutpostError } from '../../../shared/errors';
import type { EngineRegistry } from '../engines/registry';
import { loadCompose, type Deployer } from '../workloads/deploy';
import { findContainer } from '../workloads/rollout';
import { bootstrapDifference } from './bootstrap';
import type { Series } from './monitor';

/** The label that picks which service of a multi-service variant is the one measured (others are neighbours). */
export const AB_TARGET_LABEL = 'outpost.latency-ab';
const RESAMPLES = 2000;

type AbArgs = ParsedArgsOf<'latency:ab'>;
type AbVariant = AbReport['variants'][number];

export interface AbDeps {
  device: Device;
  engines: EngineRegistry;
  deployer: Deployer;
  measure(args: { device: string; target: string; onDevice: boolean; intervalMs: number; timeoutMs: number; link?: LinkOptions; durationS: number }): Promise<{ series: Series; values: Float64Array }>;
  progress(p: PayloadOf<'latency:ab-progress'>): void;
  save(report: AbReport): void;
}

/** The service both variants share and the test measures: the one labelled `outpost.latency-ab: target`, else the first in common. */
export function measuredService(a: AbArgs['variants'][0], b: AbArgs['variants'][1]): string {
  const sa = loadCompose(a).services;
  const namesB = new Set(loadCompose(b).services.map((s) => s.name));
  const common = sa.filter((s) => namesB.has(s.name));
  if (common.length === 0) throw new OutpostError('invalid-input', 'the two variants share no service: the A/B lab compares two deploys of the same service');
  const labelled = common.find((s) => s.labels[AB_TARGET_LABEL] === 'target');
  return (labelled ?? (common[0] as (typeof common)[0])).name;
}

const answered = (values: Float64Array) => values.filter((v) => !Number.isNaN(v));

/**
 * The latency lab: deploys variant A through the Workloads path, probes it, deploys variant B on the same device,
 * probes it the same way for the same time, then reports B − A of the medians and of the p95s with 95 % bootstrap
 * intervals. Variant B is left running; redeploy A (or roll back) if A won.
 */
export async function runAbTest(args: AbArgs, deps: AbDeps): Promise<AbReport> {
  const { device } = deps;
  const service = measuredService(args.variants[0], args.variants[1]);
  const results: AbVariant[] = [];
  const samples: Float64Array[] = [];
  for (const [i, compose] of args.variants.entries()) {
    const name = i === 0 ? 'A' : 'B';
    const label = compose.name ?? compose.path ?? `variant ${name}`;
    deps.progress({ deviceId: device.id, variant: name, phase: 'deploying', message: `deploying ${label}` });
    const { results: deployed } = await deps.deployer.deploy({ devices: [device.id], compose, link: args.link, healthTimeoutMs: args.healthTimeoutMs });
    const r = deployed[0];
    const record = r?.value?.find((x) => x.service === service);
    if (!r?.ok || !record) throw new OutpostError('conflict', `${device.name}: variant ${name} (${label}) did not deploy: ${r?.error?.message ?? r?.value?.map((x) => `${x.service} ${x.phase}: ${x.message}`).join('; ') ?? 'no result'}`);
    const inspect = await deps.engines.call(device, (e) => findContainer(e.docker, service), { link: args.link, what: `inspecting ${service}` });
    if (!inspect?.State.Running) throw new OutpostError('conflict', `${device.name}: ${service} is not running after deploying variant ${name}`);
    const probe = { device: device.id, target: args.target, onDevice: args.onDevice, intervalMs: args.intervalMs, timeoutMs: args.timeoutMs, link: args.link };
    if (args.warmupS > 0) {
      deps.progress({ deviceId: device.id, variant: name, phase: 'warming-up', message: `warming up for ${args.warmupS} s` });
      await deps.measure({ ...probe, durationS: args.warmupS });
    }
    deps.progress({ deviceId: device.id, variant: name, phase: 'probing', message: `probing ${args.target} for ${args.durationS} s` });
    const startedAt = new Date().toISOString();
    const { values } = await deps.measure({ ...probe, durationS: args.durationS });
    const after = await deps.engines.call(device, (e) => findContainer(e.docker, service), { link: args.link, what: `inspecting ${service}` });
    if (after?.Id !== inspect.Id || !after.State.Running) throw new OutpostError('conflict', `${device.name}: ${service} restarted or stopped while variant ${name} was probed; the figures would mix two runs`);
    samples.push(answered(values));
    results.push({
      name: `${name}: ${label}`,
      container: { id: inspect.Id, image: inspect.Config.Image, networkMode: inspect.HostConfig.NetworkMode ?? '', cpuset: inspect.HostConfig.CpusetCpus ?? '', startedAt: inspect.State.StartedAt },
      deploy: { id: record.id, phase: record.phase, message: record.message },
      startedAt,
      summary: roundSummary(summarize(values)),
    });
    deps.progress({ deviceId: device.id, variant: name, phase: 'done', message: `${values.length} probes, p50 ${results[i]?.summary.p50} ms` });
  }
  const [a, b] = samples as [Float64Array, Float64Array];
  if (a.length < 5 || b.length < 5) throw new OutpostError('unreachable', `${device.name}: too few answered probes to compare (A ${a.length}, B ${b.length}); is ${args.target} reachable in both variants?`);
  const round = (d: { value: number; ci95: [number, number] }) => ({ value: Number(d.value.toFixed(3)), ci95: [Number(d.ci95[0].toFixed(3)), Number(d.ci95[1].toFixed(3))] as [number, number] });
  const median = round(bootstrapDifference(a, b, 0.5, RESAMPLES, 1));
  const p95 = round(bootstrapDifference(a, b, 0.95, RESAMPLES, 2));
  const winner = median.ci95[0] > 0 ? 'A' : median.ci95[1] < 0 ? 'B' : 'none';
  const verdict =
    winner === 'none'
      ? `no clear winner: B − A median ${median.value} ms, 95% CI [${median.ci95[0]}, ${median.ci95[1]}] includes 0`
      : `${winner} is faster: B − A median ${median.value} ms (95% CI [${median.ci95[0]}, ${median.ci95[1]}]), p95 ${p95.value} ms (95% CI [${p95.ci95[0]}, ${p95.ci95[1]}])`;
  const report: AbReport = {
    id: randomUUID(),
    deviceId: device.id,
    deviceName: device.name,
    service,
    target: args.target,
    onDevice: args.onDevice,
    intervalMs: args.intervalMs,
    durationS: args.durationS,
    createdAt: new Date().toISOString(),
    variants: [results[0] as AbVariant, results[1] as AbVariant],
    difference: { median, p95, resamples: RESAMPLES },
    winner,
    verdict,
  };
  deps.save(report);
  return report;
}
