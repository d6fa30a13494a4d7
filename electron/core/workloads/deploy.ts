import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Device } from '../../../shared/contract';
import type { AppliedDefault, DeployPlan, DeployRecord, LinkOptions, ServiceSpec } from '../../../shared/contract';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { EventBus } from '../router';
import { engineError } from '../engines/engine-errors';
import type { EngineRegistry, DeviceResult } from '../engines/registry';
import { dialAddress } from '../transport/device-links';
import { parseCompose } from './compose';
import { LABEL_DEPLOY } from './container-spec';
import { applyEdgeDefaults } from './edge-defaults';
import type { DeployHistory } from './history-repo';
import type { ImageCache } from './image-cache';
import { ensureNetwork } from './networks';
import { planLayers, transferImage } from './image-transfer';
import { Reconciler } from './reconciler';
import { findContainer, rollout, type RolloutDeps, type RolloutOptions } from './rollout';
import { standingDecision } from '../buffers/compression';

export interface DeployArgs {
  devices: string[];
  compose: { path?: string; text?: string; name?: string };
  link?: LinkOptions;
  healthTimeoutMs: number;
}

export function loadCompose(source: DeployArgs['compose']): { services: ServiceSpec[]; applied: AppliedDefault[] } {
  let text = source.text;
  const fileName = source.name ?? (source.path ? basename(source.path) : 'compose.yml');
  if (text === undefined) {
    try {
      text = readFileSync(source.path as string, 'utf8');
    } catch (err) {
      throw new OutpostError('not-found', `cannot read ${source.path}: ${(err as Error).message}`);
    }
  }
  const base = source.path ? dirname(resolve(source.path)) : undefined;
  const raw = parseCompose(text, {
    fileName,
    readEnvFile: base ? (p) => readFileSync(isAbsolute(p) ? p : resolve(base, p), 'utf8') : undefined,
  });
  const services: ServiceSpec[] = [];
  const applied: AppliedDefault[] = [];
  for (const s of raw) {
    const out = applyEdgeDefaults(s);
    services.push(out.spec);
    applied.push(...out.applied);
  }
  return { services, applied };
}

/** Runs `work` holding the device's lock (kind `busy` at once when another operation, in any process, holds it). */
export type HoldDevice = <T>(device: Device, work: () => Promise<T>) => Promise<T>;

/** How one deploy or rollback run may be steered from outside: cancelled, held per device, or watched step by step (tests). */
export interface RunOptions {
  signal?: AbortSignal;
  onPhase?: RolloutOptions['onPhase'];
  /** Holds each device for the whole of its deploy (the service passes the job's per-device lock). */
  hold?: HoldDevice;
}

const unheld: HoldDevice = (_device, work) => work();

/** Plans, transfers and rolls out a compose file on each device; devices proceed independently. */
export class Deployer {
  readonly reconciler: Reconciler;

  constructor(
    private readonly engines: EngineRegistry,
    private readonly cache: ImageCache,
    private readonly history: DeployHistory,
    private readonly bus: EventBus,
    /** Holds a device in the store for a reconcile that runs by itself (see Reconciler). */
    lock?: HoldDevice,
  ) {
    this.reconciler = new Reconciler(engines, history, (device) => this.deps(device), lock);
  }

  devicesFor(refs: string[]): Device[] {
    return refs.map((r) => this.engines.device(r));
  }

  async plan(args: DeployArgs): Promise<DeployPlan> {
    const { services, applied } = loadCompose(args.compose);
    const images = services.map((s) => ({ service: s, image: this.cache.get(s.image) }));
    const devices = this.devicesFor(args.devices);
    const results = await this.engines.fleet(
      devices,
      async (engine) => Promise.all(images.map(async ({ service, image }) => ({ service: service.name, image: service.image, imageId: image.id, layersTotal: image.layers.length, ...(await planLayers(engine.docker, image)) }))),
      { link: args.link, what: 'planning the image transfer' },
    );
    const plans = results.flatMap((r) =>
      r.ok && r.value
        ? r.value.map((p) => ({ deviceId: r.deviceId, service: p.service, image: p.image, imageId: p.imageId, layersTotal: p.layersTotal, layersToSend: p.layersToSend, bytesToSend: p.bytesToSend }))
        : images.map(({ service, image }) => ({ deviceId: r.deviceId, service: service.name, image: service.image, imageId: image.id, layersTotal: image.layers.length, layersToSend: 0, bytesToSend: 0, error: r.error })),
    );
    return { services, applied, devices: plans };
  }

  private deps(device: Device): RolloutDeps {
    return {
      host: dialAddress(device),
      record: (record, spec) => {
        this.history.save(record, spec);
        this.bus.emit('workloads:rollout', record);
      },
    };
  }

  async deploy(args: DeployArgs, run: RunOptions = {}): Promise<{ plan: DeployPlan; results: Array<DeviceResult<DeployRecord[]>> }> {
    const plan = await this.plan(args);
    const devices = this.devicesFor(args.devices);
    const settled = await Promise.allSettled(devices.map((device) => this.deployOne(device, plan.services, args, run)));
    const results = settled.map((s, i) => {
      const d = devices[i] as Device;
      if (s.status === 'fulfilled') return { deviceId: d.id, deviceName: d.name, ok: s.value.every((r) => r.phase === 'done'), value: s.value };
      const body = toErrorBody(s.reason);
      return { deviceId: d.id, deviceName: d.name, ok: false, error: { kind: body.kind, message: body.message } };
    });
    return { plan, results };
  }

  private async deployOne(device: Device, services: ServiceSpec[], args: DeployArgs, run: RunOptions): Promise<DeployRecord[]> {
    // A reconcile of this process already running on the device ends first (it holds the device briefly).
    await this.reconciler.settled(device.id);
    return (run.hold ?? unheld)(device, () => this.deployHeld(device, services, args, run));
  }

  private async deployHeld(device: Device, services: ServiceSpec[], args: DeployArgs, run: RunOptions): Promise<DeployRecord[]> {
    // Whatever an earlier interruption left on this device is settled before anything new is rolled out.
    await this.reconciler.run(device, args.link, { held: true });
    const records: DeployRecord[] = [];
    for (const spec of services) {
      if (run.signal?.aborted) {
        if (records.length === 0) throw new OutpostError('cancelled', `${device.name}: deploy cancelled before anything changed`);
        // Services already rolled out stay (each one healthy, in the history); the rest are not started.
        throw new OutpostError('cancelled', `${device.name}: deploy cancelled after ${records.map((r) => `${r.service} (${r.phase})`).join(', ')}; ${services.slice(records.length).map((s) => s.name).join(', ')} not started`, { records });
      }
      const image = this.cache.get(spec.image);
      // The transfer is long on a slow link; the registry's per-call deadline guards connecting, not the copy.
      const engine = await this.engines.call(device, async (e) => e, { link: args.link, what: 'connecting' });
      const linkBps = standingDecision(device.ssh.compression)?.linkBps ?? null;
      const sent = await transferImage(engine, this.cache, image, spec.image, (phase, p) => this.bus.emit('workloads:progress', { deviceId: device.id, phase, ...p }), linkBps, run.signal).catch((err: unknown) => {
        if (toErrorBody(err).kind === 'unreachable' || toErrorBody(err).kind === 'timeout') this.engines.forget(device);
        throw err;
      });
      await ensureNetwork(engine.docker, spec.networkMode);
      const record = await this.reconciler.guard(device, spec.name, args.link, () =>
        rollout(engine, spec, { ref: spec.image, id: image.id }, this.deps(device), { healthTimeoutMs: args.healthTimeoutMs, bytesSent: sent.bytesSent, signal: run.signal, onPhase: run.onPhase }).catch(
          (err: unknown) => {
            throw engineError(device.name, err, `rolling out ${spec.name}`);
          },
        ),
      );
      // Cancelled before the new version was judged healthy: the old one runs again (the record says so).
      if (run.signal?.aborted && record.phase === 'rolled-back') throw new OutpostError('cancelled', `${device.name}: deploy of ${spec.name} cancelled — ${record.message}`, { records: [...records, record] });
      if (sent.note) {
        // What the transfer had to do differently on this engine belongs in the history beside the outcome.
        const noted = { ...record, message: `${record.message} — ${sent.note}` };
        this.deps(device).record(noted, spec);
        records.push(noted);
      } else records.push(record);
    }
    return records;
  }

  /**
   * Rolls a service back to the version that ran before the one running now, following the history chain: each
   * rollback continues from the reinstated deploy's own predecessor, so rollbacks in a row walk further back.
   */
  async rollback(deviceRef: string, service: string, link: LinkOptions | undefined, healthTimeoutMs = 60_000, run: RunOptions = {}): Promise<DeployRecord> {
    const device = this.engines.device(deviceRef);
    await this.reconciler.settled(device.id);
    return (run.hold ?? unheld)(device, () => this.rollbackHeld(device, service, link, healthTimeoutMs, run));
  }

  private async rollbackHeld(device: Device, service: string, link: LinkOptions | undefined, healthTimeoutMs: number, run: RunOptions): Promise<DeployRecord> {
    await this.reconciler.run(device, link, { held: true });
    if (run.signal?.aborted) throw new OutpostError('cancelled', `${device.name}: rollback of ${service} cancelled before anything changed`);
    const engine = await this.engines.call(device, async (e) => e, { link, what: 'connecting' });
    const running = await findContainer(engine.docker, service);
    const step = this.history.rollbackTarget(device.id, service, running?.Config.Labels?.[LABEL_DEPLOY]);
    if (!step) throw new OutpostError('not-found', `${device.name}: no earlier deploy of ${service} to roll back to`);
    const { target, previousDeployId } = step;
    const record = await this.reconciler.guard(device, service, link, () =>
      rollout(engine, target.spec, { ref: target.record.image, id: target.record.imageId }, this.deps(device), {
        healthTimeoutMs,
        previousDeployId,
        rollbackOf: target.record.id,
        signal: run.signal,
        onPhase: run.onPhase,
      }).catch((err: unknown) => {
        throw engineError(device.name, err, `rolling ${service} back`);
      }),
    );
    if (run.signal?.aborted && record.phase === 'rolled-back') throw new OutpostError('cancelled', `${device.name}: rollback of ${service} cancelled — ${record.message}`, { record });
    return record;
  }

  /** Settles every service left mid-rollout on one device; the outcome lands in the history. */
  async reconcile(deviceRef: string, link: LinkOptions | undefined, run: Pick<RunOptions, 'hold'> = {}): Promise<DeployRecord[]> {
    const device = this.engines.device(deviceRef);
    await this.reconciler.settled(device.id);
    return (run.hold ?? unheld)(device, () => this.reconciler.run(device, link, { held: true }));
  }

  close(): Promise<void> {
    return this.reconciler.close();
  }
}
