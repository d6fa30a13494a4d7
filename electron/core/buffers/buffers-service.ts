import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '../../../shared/contract';
import type { UpstreamReach } from '../../../shared/contract/app';
import type { EventBus, Router } from '../router';
import type { Db } from '../store/database';
import type { DevicesRepo } from '../store/devices-repo';
import type { JobRegistry } from '../jobs/job-registry';
import type { DeviceLinks } from '../transport/device-links';
import type { SshPool } from '../transport/ssh-pool';
import { BufferConfigs } from './device-config';
import { FlushEngine, throwIfFailed } from './flush-engine';
import { previewOf } from './preview';
import { SegmentStore, writeError } from './segment-store';
import { UpstreamForwarder } from './upstream/forwarder';
import { registerUpstreamService } from './upstream/upstream-service';

export interface BuffersDeps {
  router: Router;
  bus: EventBus;
  db: Db;
  devices: DevicesRepo;
  links: DeviceLinks;
  pool: SshPool;
  dataDir: string;
  jobs: JobRegistry;
  /** Check the upstream periodically and on interface changes (the app and browser mode; not a one-shot CLI run). */
  watchUpstream?: boolean;
  /** Told every change of upstream reachability (app:info reports the latest). */
  onReach?: (reach: UpstreamReach) => void;
}

export interface BuffersService {
  close(): void;
  store: SegmentStore;
  engine: FlushEngine;
  forwarder: UpstreamForwarder;
  configs: BufferConfigs;
}

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Buffers: device spools and outboxes → the laptop store → upstream. Registers buffers:*, store:* and upstream:*. */
export function registerBuffersService(core: BuffersDeps): BuffersService {
  const store = new SegmentStore(core.dataDir, core.db.name);
  const configs = new BufferConfigs(core.db);
  const engine = new FlushEngine({ links: core.links, pool: core.pool, configs, store, bus: core.bus, devices: core.devices });
  const forwarder = new UpstreamForwarder(core.db, store, core.devices);
  const { router } = core;

  router.handle('buffers:scan', ({ deviceId, link }) => engine.scan(core.devices.get(deviceId), link));
  router.handle('buffers:config', async ({ deviceId, check, link, ...change }) => {
    const device = core.devices.get(deviceId);
    const config = configs.set(device.id, change);
    const named = change.spools !== undefined || change.outboxes !== undefined;
    return { ...config, check: (check ?? named) ? await engine.check(device, link) : null };
  });
  router.handle('buffers:flush', async ({ devices, link, concurrency, stallTimeoutSeconds }) => {
    const list: Device[] = devices === 'all' ? core.devices.list().filter((d) => d.addresses.length > 0 || d.hostnames.length > 0) : devices.map((id) => core.devices.get(id));
    const label = list.length === 1 ? `flush of ${list[0]?.name ?? 'a device'}` : `flush of ${list.length} devices`;
    return core.jobs.run({ kind: 'flush', label, deviceIds: list.map((d) => d.id) }, async (job) => {
      const results = await engine.flush(list, { link, concurrency, stallTimeoutSeconds, job });
      throwIfFailed(results);
      return { devices: results };
    });
  });

  router.handle('store:list', (filter) => ({ segments: store.list(filter), totalBytes: store.usedBytes(), quotaBytes: store.quotaBytes() }));
  router.handle('store:get', ({ id, previewLines }) => {
    const segment = store.get(id);
    const head = readHead(store.blobPath(segment.sha256), Math.min(segment.bytes, 64 * 1024));
    return { segment, preview: previewOf(segment.segment, head, segment.bytes, previewLines) };
  });
  router.handle('store:export', ({ dir, ...filter }) => {
    let files = 0;
    let bytes = 0;
    const exported: number[] = [];
    for (const s of store.list(filter)) {
      // Names were validated at flush time (one safe path component each), so they are safe as file names here.
      const target = join(dir, s.deviceId, s.stream);
      try {
        mkdirSync(target, { recursive: true });
        copyFileSync(store.blobPath(s.sha256), join(target, s.segment));
        // An exported segment may be pruned from the laptop: its copy must be on the medium, not in a cache.
        const fd = openSync(join(target, s.segment), 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        throw writeError(err, `exporting to ${dir}`);
      }
      files++;
      bytes += s.bytes;
      exported.push(s.id);
    }
    store.markExported(exported);
    return { dir, files, bytes };
  });
  router.handle('store:quota', ({ bytes }) => {
    if (bytes !== undefined) store.setQuota(bytes);
    return { quotaBytes: store.quotaBytes(), usedBytes: store.usedBytes() };
  });

  router.handle('store:prune', (sel) => ({ ...store.prune(sel), usedBytes: store.usedBytes(), quotaBytes: store.quotaBytes() }));

  const upstream = registerUpstreamService({ router, bus: core.bus, db: core.db, forwarder, jobs: core.jobs, watch: core.watchUpstream ?? false, onReach: core.onReach ?? (() => undefined) });

  return {
    close: () => {
      upstream.close();
      store.close();
    },
    store,
    engine,
    forwarder,
    configs,
  };
}
