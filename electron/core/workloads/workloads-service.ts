import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerSummary, Device } from '../../../shared/contract';
import type { LinkOptions } from '../../../shared/contract';
import type { EventBus, Router } from '../router';
import type { Engine, EngineRegistry } from '../engines/registry';
import type { Db } from '../store/database';
import type { DeviceLocks } from '../jobs/device-locks';
import type { Job, JobRegistry } from '../jobs/job-registry';
import { Deployer, type HoldDevice } from './deploy';
import { readDeviceHistory } from './device-state';
import { containerLogs, containerStats, demuxLogs, deviceFacts, grepFilter, listContainers, sinceSeconds, withoutUnset } from './diagnose';
import { DeployHistory } from './history-repo';
import { HEALTH_NOT_RUN, ownHealthcheckReason } from './readiness';
import type { ImageCache } from './image-cache';
import { redact, writeBundle, type BundleEntry } from './support-bundle';

export interface WorkloadsDeps {
  router: Router;
  bus: EventBus;
  db: Db;
  engines: EngineRegistry;
  cache: ImageCache;
  dataDir: string;
  onClose(close: () => Promise<void> | void): void;
  /** Deploy, rollback, reconcile and image import run as cancellable jobs; deploys hold their devices. */
  jobs: JobRegistry;
  locks: () => DeviceLocks;
}

export interface WorkloadsHandle {
  deployer: Deployer;
  history: DeployHistory;
  cache: ImageCache;
}

/** Registers every `workloads:*` channel; returns the deployer for in-process callers (tests, benchmarks). */
export function registerWorkloadsService(deps: WorkloadsDeps): WorkloadsHandle {
  const { router, bus, engines, cache } = deps;
  const history = new DeployHistory(deps.db);
  const { jobs } = deps;
  // A reconcile that runs by itself (link re-established, backoff timer) holds the device like any operation.
  const deployer = new Deployer(engines, cache, history, bus, (device, work) => deps.locks().hold(device.id, 'reconcile', randomUUID(), work, device.name));
  const holdFor = (job: Job): HoldDevice => (device, work) => job.holdDevice(device.id, work, device.name);
  const deviceIds = (refs: readonly string[]) => refs.map((r) => engines.device(r).id);
  deps.onClose(() => deployer.close());
  const on = <T>(device: string, link: LinkOptions | undefined, what: string, fn: (engine: Engine) => Promise<T>, timeoutMs?: number): Promise<T> =>
    engines.call(engines.device(device), fn, { link, what, timeoutMs });

  router.handle('workloads:images-import', ({ path }) =>
    jobs.run({ kind: 'image-import', label: `import ${basename(path)}` }, (job) => cache.import(path, { signal: job.signal, progress: (done, total) => job.progress(done, total) })).then((list) => list.map((i) => ({ ...i, devices: [] }))),
  );
  router.handle('workloads:images-list', () => {
    const byImage = history.devicesByImage();
    return cache.list().map((i) => ({ ...i, devices: byImage.get(i.id) ?? [] }));
  });
  router.handle('workloads:images-verify', ({ ref }) => cache.verify(ref));
  router.handle('workloads:images-remove', ({ ref }) => cache.remove(ref));
  router.handle('workloads:plan', (args) => deployer.plan(args));
  router.handle('workloads:deploy', (args) => {
    const ids = deviceIds(args.devices);
    const name = args.compose.name ?? (args.compose.path ? basename(args.compose.path) : 'compose');
    return jobs.run({ kind: 'deploy', label: `deploy ${name} to ${args.devices.length === 1 ? engines.device(args.devices[0] as string).name : `${args.devices.length} devices`}`, deviceIds: ids }, (job) =>
      deployer.deploy(args, { signal: job.signal, hold: holdFor(job) }),
    );
  });
  router.handle('workloads:rollback', ({ device, link, service }) => {
    const d = engines.device(device);
    return jobs.run({ kind: 'rollback', label: `roll ${service} back on ${d.name}`, deviceIds: [d.id] }, (job) => deployer.rollback(device, service, link, undefined, { signal: job.signal, hold: holdFor(job) }));
  });
  router.handle('workloads:reconcile', ({ device, link }) => {
    const d = engines.device(device);
    return jobs.run({ kind: 'reconcile', label: `reconcile ${d.name}`, deviceIds: [d.id] }, (job) => deployer.reconcile(device, link, { hold: holdFor(job) }));
  });
  router.handle('workloads:pending', ({ device }) => deployer.reconciler.list(device ? engines.device(device).id : undefined));
  router.handle('workloads:history', ({ device, limit }) => history.list(device ? engines.device(device).id : undefined, limit));
  router.handle('workloads:ps', ({ devices, link, timeoutMs }) =>
    engines.fleet(devices.map((d) => engines.device(d)), async (e) => healthAsRun(e, await listContainers(e.docker)), { link, timeoutMs, what: 'listing containers' }),
  );
  router.handle('workloads:logs', ({ device, link, container, since, tail, grep }) =>
    on(device, link, 'reading logs', async (e) => ({ lines: await containerLogs(e.docker, container, { since, tail, grep }) })),
  );
  router.handle('workloads:stats', ({ device, link, container }) => on(device, link, 'reading stats', (e) => containerStats(e.docker, container)));
  router.handle('workloads:inspect', ({ device, link, container }) =>
    on(device, link, 'inspecting', async (e) => redact(await e.docker.getContainer(container).inspect()) as Record<string, unknown>),
  );
  router.handle('workloads:facts', ({ device, link }) => on(device, link, 'reading device facts', (e) => deviceFacts(e)));
  router.handle('workloads:locate-engine', ({ device, link }) => engines.locate(engines.device(device), link));
  router.handle('workloads:bundle', ({ device, link, out }) => supportBundle(engines.device(device), link, out));

  const streams = new Map<string, () => void>();
  deps.onClose(() => {
    for (const stop of streams.values()) stop();
    streams.clear();
  });
  router.handle('workloads:follow', async ({ device, link, kind, container, since, grep }) => {
    const dev = engines.device(device);
    const streamId = randomUUID();
    const keep = grepFilter(grep);
    const stream = (await engines.call(
      dev,
      async (e) => {
        if (kind === 'events') return e.docker.getEvents(withoutUnset({ since: sinceSeconds(since) }));
        const c = e.docker.getContainer(container ?? '');
        if (kind === 'stats') return c.stats({ stream: true });
        return c.logs(withoutUnset({ follow: true as const, stdout: true, stderr: true, timestamps: true, since: sinceSeconds(since), tail: 100 }));
      },
      { link, what: `following ${kind}` },
    )) as unknown as Readable;
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const text = kind === 'logs' ? demuxLogs(chunk) : chunk.toString('utf8');
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      const kept = lines.filter((l) => l && keep(l));
      if (kept.length) bus.emit('workloads:stream', { streamId, deviceId: dev.id, kind, data: `${kept.join('\n')}\n` });
    });
    const stop = () => {
      streams.delete(streamId);
      stream.destroy();
    };
    stream.on('close', () => {
      if (streams.delete(streamId)) bus.emit('workloads:stream', { streamId, deviceId: dev.id, kind, data: '', end: true });
    });
    streams.set(streamId, stop);
    return { streamId };
  });
  router.handle('workloads:unfollow', ({ streamId }) => {
    const stop = streams.get(streamId);
    stop?.();
    return { stopped: Boolean(stop) };
  });

  /** An engine that never runs healthchecks reports "starting" for ever: say so instead of pretending to wait. */
  function healthAsRun(e: Engine, list: ContainerSummary[]): ContainerSummary[] {
    if (!ownHealthcheckReason(e.found)) return list;
    return list.map((c) => (c.health === 'starting' ? { ...c, health: HEALTH_NOT_RUN } : c));
  }

  async function supportBundle(device: Device, link: LinkOptions | undefined, out: string | undefined) {
    const entries: BundleEntry[] = [];
    const json = (name: string, v: unknown): void => void entries.push({ name, body: JSON.stringify(redact(v), null, 2) });
    const attempt = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        entries.push({ name: `${name}.error.txt`, body: String((err as Error).message ?? err) });
      }
    };
    await engines.call(
      device,
      async (e) => {
        const containers = await listContainers(e.docker);
        json('containers.json', containers);
        await attempt('facts', async () => {
            json('facts.json', await deviceFacts(e));
        });
        for (const c of containers) {
          await attempt(`containers/${c.name}/inspect`, async () => {
            json(`containers/${c.name}/inspect.json`, await e.docker.getContainer(c.id).inspect());
          });
          await attempt(`containers/${c.name}/logs`, async () => {
            entries.push({ name: `containers/${c.name}/logs.txt`, body: (await containerLogs(e.docker, c.id, { tail: 5000 })).join('\n') });
          });
          if (c.state === 'running') await attempt(`containers/${c.name}/stats`, async () => {
            json(`containers/${c.name}/stats.json`, await containerStats(e.docker, c.id));
          });
        }
        await attempt('events', async () => {
          const now = Math.floor(Date.now() / 1000);
          const raw = (await e.docker.getEvents({ since: now - 3600, until: now })) as unknown as Readable;
          const chunks: Buffer[] = [];
          for await (const chunk of raw) chunks.push(chunk as Buffer);
          entries.push({ name: 'events-last-hour.jsonl', body: Buffer.concat(chunks).toString('utf8') });
        });
        await attempt('device-deploy-history', async () => {
          entries.push({ name: 'device-deploy-history.jsonl', body: await readDeviceHistory(e.ssh) });
        });
      },
      { link, timeoutMs: 120_000, what: 'collecting the support bundle' },
    );
    json('deploy-history.json', history.list(device.id, 1000).map((r) => ({ ...r, steps: history.steps(r.id) })));
    json('device.json', device);
    const log = join(deps.dataDir, 'outpost.log');
    if (existsSync(log)) entries.push({ name: 'outpost.log', body: readFileSync(log, 'utf8').slice(-2_000_000) });
    if (out !== undefined) return writeBundle(out, entries);
    // For a download: written beside the store (0600), read back, removed.
    const tmp = join(deps.dataDir, `bundle-${process.pid}-${Date.now()}.zip.part`);
    try {
      const written = await writeBundle(tmp, entries);
      return { ...written, path: null, zipBase64: readFileSync(tmp).toString('base64') };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  return { deployer, history, cache };
}
