import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Device, ResultOf } from '../../../shared/contract';
import type { Thresholds, TargetSuggestion } from '../../../shared/contract/latency';
import type { LinkOptions } from '../../../shared/contract';
import { formatTarget } from '../../../shared/latency/targets';
import { roundSummary, summarize } from '../../../shared/latency/stats';
import { OutpostError } from '../../../shared/errors';
import type { EngineRegistry } from '../engines/registry';
import type { EventBus, Router } from '../router';
import type { Db } from '../store/database';
import type { DeviceLinks } from '../transport/device-links';
import type { DeviceLocks } from '../jobs/device-locks';
import type { Deployer } from '../workloads/deploy';
import type { DeployHistory } from '../workloads/history-repo';
import { runAbTest } from './ab-lab';
import { LatencyRepo, recordingCsv, type RecordedSeries } from './latency-repo';
import { Monitor, type Series } from './monitor';
import { createProbe, parseTargetOrThrow } from './probe-factory';

export interface LatencyDeps {
  router: Router;
  bus: EventBus;
  db: Db;
  links: DeviceLinks;
  engines: EngineRegistry;
  deployer: Deployer;
  history: DeployHistory;
  /** The store's per-device locks: an A/B run holds its device from the first deploy to the last probe. */
  locks?: () => DeviceLocks;
}

export interface LatencyHandle {
  monitor: Monitor;
  /** Starts a series in process (tests, benchmarks) exactly as `latency:start` does. */
  start(args: StartArgs): Promise<Series>;
  close(): Promise<void>;
}

interface StartArgs {
  device: string;
  target: string;
  onDevice: boolean;
  intervalMs: number;
  timeoutMs: number;
  link?: LinkOptions;
  thresholds?: Thresholds;
  quiet?: boolean;
}

const NO_LIMITS: Thresholds = { p95Ms: null, lossPct: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers `latency:*`: live probes, thresholds, recordings and the A/B lab. */
export function registerLatencyService(deps: LatencyDeps): LatencyHandle {
  const { router, bus, links, engines } = deps;
  const repo = new LatencyRepo(deps.db);
  const monitor = new Monitor({
    samples: (batch) => bus.emit('latency:samples', batch),
    threshold: (s, previous) =>
      bus.emit('latency:threshold', {
        seriesId: s.id,
        deviceId: s.spec.deviceId,
        deviceName: s.spec.deviceName,
        target: s.spec.target,
        state: s.state,
        previous,
        message: thresholdMessage(s),
      }),
  });

  const device = (ref: string): Device => engines.device(ref);
  const series = (id: string): Series => {
    const s = monitor.get(id);
    if (!s) throw new OutpostError('not-found', `no latency series ${id}`);
    return s;
  };

  async function start(args: StartArgs): Promise<Series> {
    const dev = device(args.device);
    const target = parseTargetOrThrow(args.target);
    const canonical = formatTarget(target);
    if (args.timeoutMs < 1) throw new OutpostError('invalid-input', 'timeout must be positive');
    const probe = await createProbe({ links, engines }, dev, target, args.onDevice, args.link);
    const thresholds = args.thresholds ?? repo.thresholds(dev.id, canonical, args.onDevice) ?? NO_LIMITS;
    if (args.thresholds) repo.saveThresholds(dev.id, canonical, args.onDevice, args.thresholds);
    const s = monitor.start({ deviceId: dev.id, deviceName: dev.name, target: canonical, onDevice: args.onDevice, intervalMs: args.intervalMs, timeoutMs: args.timeoutMs, thresholds, quiet: args.quiet }, probe);
    if (!args.quiet) bus.emit('latency:series-changed', {});
    return s;
  }

  /** Probes for `durationS`, waits for the last answers (or their timeouts), and summarises every sample. */
  async function measureFor(args: StartArgs & { durationS: number }): Promise<{ series: Series; values: Float64Array }> {
    const s = await start({ ...args, quiet: true });
    try {
      await sleep(args.durationS * 1000);
    } finally {
      await monitor.stop(s.id);
      monitor.remove(s.id);
    }
    return { series: s, values: Float64Array.from(s.buffer.view().values) };
  }

  router.handle('latency:start', async (args) => monitor.info(await start(args)));
  router.handle('latency:stop', async ({ seriesId }) => {
    const s = monitor.get(seriesId);
    if (!s) return { stopped: false };
    await monitor.stop(seriesId);
    bus.emit('latency:series-changed', {});
    return { stopped: true };
  });
  router.handle('latency:remove', ({ seriesId }) => {
    const removed = monitor.remove(seriesId);
    if (removed) bus.emit('latency:series-changed', {});
    return { removed };
  });
  router.handle('latency:list', () => monitor.all().filter((s) => !s.spec.quiet).map((s) => monitor.info(s)));
  router.handle('latency:window', ({ seriesId, sinceMs }) => {
    const s = series(seriesId);
    const from = sinceMs === undefined ? 0 : s.buffer.indexAtOrAfter(sinceMs);
    const { times, values } = s.buffer.view();
    return { seriesId, t: Array.from(times.subarray(from)), v: Array.from(values.subarray(from), (v) => (Number.isNaN(v) ? null : v)) };
  });
  router.handle('latency:measure', async (args): Promise<ResultOf<'latency:measure'>> => {
    const { series: s, values } = await measureFor(args);
    const ttfb = s.ttfb ? roundSummary(summarize(s.ttfb.view().values)) : null;
    return { device: s.spec.deviceName, target: s.spec.target, onDevice: s.spec.onDevice, method: s.probe.method, intervalMs: s.spec.intervalMs, summary: roundSummary(summarize(values)), ttfb, lastError: s.lastError };
  });
  router.handle('latency:thresholds', ({ seriesId, thresholds }) => {
    const s = series(seriesId);
    s.spec.thresholds = thresholds;
    repo.saveThresholds(s.spec.deviceId, s.spec.target, s.spec.onDevice, thresholds);
    monitor.refreshStats(s);
    return monitor.info(s);
  });
  router.handle('latency:suggest', ({ device: ref }) => suggestTargets(device(ref), deps.history, deps.links.effective(device(ref)).port));

  router.handle('latency:recording-save', ({ name, seriesIds }) => {
    const recorded: RecordedSeries[] = seriesIds.map((id) => {
      const s = series(id);
      const { times, values } = s.buffer.view();
      const info = monitor.info(s);
      return { meta: { deviceId: info.deviceId, deviceName: info.deviceName, target: info.target, onDevice: info.onDevice, label: info.label, points: times.length, stats: roundSummary(summarize(values)) }, times: Float64Array.from(times), values: Float64Array.from(values) };
    });
    return repo.saveRecording(name, recorded);
  });
  router.handle('latency:recordings', () => repo.recordings());
  const recording = (id: string) => {
    const r = repo.recording(id);
    if (!r) throw new OutpostError('not-found', `no latency recording ${id}`);
    return r;
  };
  router.handle('latency:recording-open', ({ id }) => {
    const r = recording(id);
    return { info: r.info, series: r.series.map((s) => ({ label: s.meta.label, t: Array.from(s.times), v: Array.from(s.values, (v) => (Number.isNaN(v) ? null : v)) })) };
  });
  router.handle('latency:recording-export', ({ id, out }) => {
    const { csv, rows } = recordingCsv(recording(id).series);
    if (out) writeFileSync(out, csv);
    return { path: out ?? null, rows, csv: out ? '' : csv };
  });
  router.handle('latency:recording-delete', ({ id }) => ({ deleted: repo.deleteRecording(id) }));

  router.handle('latency:ab', (args) => {
    const d = device(args.device);
    const run = () =>
      runAbTest(args, {
        device: d,
        engines,
        deployer: deps.deployer,
        measure: (probeArgs) => measureFor(probeArgs),
        progress: (p) => bus.emit('latency:ab-progress', p),
        save: (report) => repo.saveAb(report),
      });
    // Another deploy (this window, the CLI) in the middle would mix two runs in the figures: kind busy instead.
    return deps.locks ? deps.locks().hold(d.id, 'latency A/B test', randomUUID(), run, d.name) : run();
  });
  router.handle('latency:ab-history', ({ device: ref, limit }) => repo.abRuns(ref ? device(ref).id : undefined, limit));

  return { monitor, start, close: () => monitor.close() };
}

function thresholdMessage(s: Series): string {
  const where = `${s.spec.deviceName} ${s.spec.target}${s.spec.onDevice ? ' (on device)' : ''}`;
  if (s.state === 'p95') return `${where}: p95 ${s.stats.p95} ms is over the ${s.spec.thresholds.p95Ms} ms limit`;
  if (s.state === 'loss') return `${where}: ${s.stats.lossPct}% of probes lost (limit ${s.spec.thresholds.lossPct ?? 0}%)`;
  if (s.state === 'ok') return `${where}: back within its limits (p95 ${s.stats.p95} ms, loss ${s.stats.lossPct}%)`;
  return `${where}: no samples yet`;
}

const WELL_KNOWN: Record<string, { port: number; kind: 'tcp' | 'http' | 'mqtt' }> = {
  '_http._tcp': { port: 80, kind: 'http' },
  '_mqtt._tcp': { port: 1883, kind: 'mqtt' },
};

/** What a technician may want to probe on a device: its SSH and engine, what discovery saw, what our deploys publish. */
export function suggestTargets(device: Device, history: DeployHistory, sshPort: number = device.ssh.port ?? 22): TargetSuggestion[] {
  const out: TargetSuggestion[] = [{ target: 'ssh', label: 'SSH round trip', source: 'ssh', onDevice: false }];
  if (device.addresses[0]) out.push({ target: 'icmp', label: 'ICMP echo', source: 'ssh', onDevice: false });
  out.push({ target: `tcp:${sshPort}`, label: 'sshd TCP connect', source: 'ssh', onDevice: false });
  if (device.docker || device.services.some((s) => s.type === '_docker._tcp')) out.push({ target: 'docker', label: 'Docker /_ping', source: 'engine', onDevice: false });
  for (const svc of device.services) {
    const known = WELL_KNOWN[svc.type];
    if (svc.port <= 0 || svc.type === '_ssh._tcp' || svc.type === '_sftp-ssh._tcp' || svc.type === '_docker._tcp') continue;
    const target = known?.kind === 'http' ? `http:${svc.port}/` : known?.kind === 'mqtt' ? `mqtt:${svc.port}` : `tcp:${svc.port}`;
    out.push({ target, label: `${svc.type} (discovered)`, source: 'discovery', onDevice: false });
  }
  const seen = new Set<string>();
  for (const record of history.list(device.id, 200)) {
    if (seen.has(record.service)) continue;
    seen.add(record.service);
    const last = history.lastDone(device.id, record.service);
    if (!last) continue;
    const probe = last.spec.labels['outpost.probe'];
    const m = probe ? /^(http|tcp):(\d{1,5})(\/.*)?$/.exec(probe) : null;
    if (m) {
      const target = m[1] === 'http' ? `http:${m[2]}${m[3] ?? '/'}` : `tcp:${m[2]}`;
      out.push({ target, label: `${record.service} readiness probe`, source: 'probe-label', onDevice: false });
      out.push({ target, label: `${record.service} readiness probe, from the device`, source: 'probe-label', onDevice: true });
    }
    for (const p of last.spec.ports) {
      if (p.protocol !== 'tcp') continue;
      const port = last.spec.networkMode === 'host' ? p.container : p.host;
      if (port !== undefined) out.push({ target: `tcp:${port}`, label: `${record.service} port ${port}`, source: 'published-port', onDevice: false });
    }
  }
  const unique = new Map(out.map((s) => [`${s.target}|${s.onDevice}`, s]));
  return [...unique.values()];
}
