import type { Device, FlushCompression, LinkOptions } from '../../../shared/contract';
import type { DevicesRepo } from '../store/devices-repo';
import type { BufferConfig, BufferScan, ConfigCheck, DeviceFlush, StreamScan } from '../../../shared/contract/buffers';
import { OutpostError, isErrorKind, toErrorBody } from '../../../shared/errors';
import { throwIfCancelled, type Job } from '../jobs/job-registry';
import type { EventBus } from '../router';
import type { DeviceLinks } from '../transport/device-links';
import type { SshConnection } from '../transport/ssh-connection';
import type { SshPool } from '../transport/ssh-pool';
import { outboxStream, type BufferConfigs } from './device-config';
import { runBounded, type DeviceFlushContext } from './device-ops';
import { flushOutbox, scanOutbox } from './outbox-flush';
import { FlushProgress, JobFlushProgress } from './progress';
import { PROBE_SOURCES, shArgv } from './remote-scripts';
import type { SegmentStore } from './segment-store';
import { flushSpool } from './spool-flush';
import { scanSpool } from './spool-scan';

export interface FlushEngineDeps {
  links: DeviceLinks;
  pool: SshPool;
  configs: BufferConfigs;
  store: SegmentStore;
  bus?: EventBus;
  /** Where a device's compression decision is kept (compression.ts); without it the decision lasts one flush. */
  devices?: DevicesRepo;
}

interface Sources {
  spools: string[];
  outboxes: Array<{ file: string; table: string }>;
  missing: string[];
}

/** Which configured spool dirs and outbox files exist on the device (an outbox also needs its sqlite3 CLI). */
async function probeSources(conn: SshConnection, deviceId: string, configs: BufferConfigs, timeoutMs: number): Promise<Sources> {
  const config = configs.get(deviceId);
  const res = await runBounded(conn, shArgv(PROBE_SOURCES, 'outpost-probe', [...config.spools, '--outbox', ...config.outboxes.map((o) => o.file)]), timeoutMs, 'probing buffers');
  return sourcesFrom(config, new Set(res.stdout.toString('utf8').split('\n')));
}

/** Reads PROBE_SOURCES' answer lines (`spool <dir>`, `outbox <file>`, `sqlite3`). */
function sourcesFrom(config: BufferConfig, lines: Set<string>): Sources {
  const missing: string[] = [];
  const spools = config.spools.filter((s) => lines.has(`spool ${s}`) || (missing.push(s), false));
  const outboxes = config.outboxes.filter((o) => {
    if (!lines.has(`outbox ${o.file}`)) return (missing.push(o.file), false);
    if (!lines.has('sqlite3')) return (missing.push(`${o.file} (the device has no sqlite3 command)`), false);
    return true;
  });
  return { spools, outboxes, missing };
}

/** Flushes devices in parallel (bounded), each over its one pooled SSH connection. */
export class FlushEngine {
  constructor(private readonly deps: FlushEngineDeps) {}

  async scan(device: Device, link: LinkOptions | undefined, timeoutMs = 30_000): Promise<BufferScan> {
    const conn = await this.deps.links.ssh(device, link);
    const sources = await probeSources(conn, device.id, this.deps.configs, timeoutMs);
    const streams = new Map<string, StreamScan>();
    const refused: BufferScan['refused'] = [];
    for (const root of sources.spools) {
      const scan = await scanSpool(conn, root, timeoutMs);
      if (!scan) continue;
      refused.push(...scan.listing.refused);
      for (const e of scan.entries) {
        const key = `${root}\0${e.stream}`;
        const s = streams.get(key) ?? { stream: e.stream, kind: 'spool' as const, source: root, segments: 0, bytes: 0, oldest: null };
        s.segments++;
        s.bytes += e.size;
        if (s.oldest === null || e.mtime < s.oldest) s.oldest = e.mtime;
        streams.set(key, s);
      }
    }
    for (const spec of sources.outboxes) {
      const counted = await scanOutbox({ conn, stallMs: timeoutMs }, spec);
      streams.set(`${spec.file}\0${spec.table}`, { stream: outboxStream(spec), kind: 'outbox', source: spec.file, segments: counted.rows, bytes: counted.bytes, oldest: counted.oldest });
    }
    return { deviceId: device.id, streams: [...streams.values()], refused, missing: sources.missing };
  }

  /** Which of the device's configured locations exist there; an unreachable device is reported, not thrown. */
  async check(device: Device, link: LinkOptions | undefined, timeoutMs = 15_000): Promise<ConfigCheck> {
    try {
      const conn = await this.deps.links.ssh(device, link);
      const { missing } = await probeSources(conn, device.id, this.deps.configs, timeoutMs);
      return { reached: true, missing };
    } catch (err) {
      const body = toErrorBody(err);
      return { reached: false, missing: [], error: { kind: body.kind, message: body.message } };
    }
  }

  /**
   * With a job, each device is held (kind `busy` when another flush or rollout has it, in any process) and a cancel
   * stops at once: segments already acknowledged stay acknowledged, the rest stay on the device.
   */
  async flush(devices: Device[], opts: { link?: LinkOptions; concurrency: number; stallTimeoutSeconds: number; job?: Pick<Job, 'signal' | 'holdDevice' | 'progress'> }): Promise<DeviceFlush[]> {
    // Blobs of a flush killed between its renames and its index commit are unknown to the index: drop them.
    this.deps.store.sweepOrphans();
    const results: DeviceFlush[] = new Array<DeviceFlush>(devices.length);
    const job = opts.job;
    // The job's progress (the status bar's job list) is the bytes of all its devices.
    const sum = job ? new JobFlushProgress(this.deps.bus, (done, total) => job.progress(done, total, 'bytes')) : null;
    const progressFor = (deviceId: string) => (sum ? sum.forDevice(deviceId) : new FlushProgress(this.deps.bus, deviceId));
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        const device = devices[i];
        if (!device) return;
        const progress = progressFor(device.id);
        results[i] = job ? await job.holdDevice(device.id, () => this.flushOne(device, opts, progress, job.signal), device.name).catch((err: unknown) => failed(device, err)) : await this.flushOne(device, opts, progress);
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, devices.length) }, worker));
    return results;
  }

  private async flushOne(device: Device, opts: { link?: LinkOptions; stallTimeoutSeconds: number }, progress: FlushProgress, signal?: AbortSignal): Promise<DeviceFlush> {
    const result: DeviceFlush = { deviceId: device.id, streams: {}, refused: [], quarantined: [] };
    const { link } = opts;
    const stallMs = opts.stallTimeoutSeconds * 1000;
    try {
      throwIfCancelled(signal, `the flush of ${device.name}`);
      const conn = await this.deps.links.ssh(device, link);
      const recordCompression = (compression: FlushCompression) => {
        const current = this.deps.devices?.find(device.id);
        if (!current) return;
        this.deps.devices?.save({ ...current, ssh: { ...current.ssh, compression } });
        this.deps.bus?.emit('devices:changed', { ids: [device.id] });
      };
      const ctx: DeviceFlushContext = { device, conn, store: this.deps.store, ackMode: this.deps.configs.get(device.id).ack, stallMs, progress, result, signal, recordCompression };
      // The first spool's session also probes the outboxes (an exec saved); without spools the probe runs alone.
      const config = this.deps.configs.get(device.id);
      let probed: Set<string> | null = null;
      for (const [i, root] of config.spools.entries()) {
        throwIfCancelled(signal, `the flush of ${device.name}`);
        const lines = await flushSpool(ctx, root, i === 0 ? config.outboxes.map((o) => o.file) : []);
        probed ??= lines;
      }
      const outboxes = !config.outboxes.length ? [] : probed ? sourcesFrom(config, probed).outboxes : (await probeSources(conn, device.id, this.deps.configs, stallMs)).outboxes;
      for (const spec of outboxes) {
        throwIfCancelled(signal, `the flush of ${device.name}`);
        await flushOutbox(ctx, spec);
      }
    } catch (err) {
      const body = toErrorBody(err);
      result.error = { kind: body.kind, message: body.message };
      // A stalled or cut link leaves a half-dead connection in the pool; the next flush must dial afresh.
      if (body.kind === 'unreachable' || body.kind === 'timeout' || body.kind === 'protocol') this.deps.pool.drop(this.deps.links.targetFor(device, link));
    } finally {
      progress.finish();
    }
    return result;
  }
}

function failed(device: Device, err: unknown): DeviceFlush {
  const body = toErrorBody(err);
  return { deviceId: device.id, streams: {}, refused: [], quarantined: [], error: { kind: body.kind, message: body.message } };
}

/** A flush that failed anywhere is an error for the caller, with every device's partial result attached. */
export function throwIfFailed(results: DeviceFlush[]): void {
  const failed = results.filter((r) => r.error);
  if (!failed.length) return;
  const first = failed[0]?.error?.kind;
  const message = failed.map((r) => `${r.deviceId}: ${r.error?.message ?? ''}`).join('; ');
  throw new OutpostError(isErrorKind(first) ? first : 'internal', message, { devices: results });
}
