import type { Device } from '../../../shared/contract';
import type { LinkOptions } from '../../../shared/contract';
import { SETTLED_PHASES, type DeployRecord, type PendingRollout, type RolloutPhase } from '../../../shared/contract/workloads';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { Engine, EngineRegistry } from '../engines/registry';
import { readServiceStates } from './device-state';
import type { DeployHistory } from './history-repo';
import { reconcileService, resolutionFor, ROLLOUT_NAME, type RolloutDeps } from './rollout';

const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 30_000;

interface Pending {
  link?: LinkOptions;
  attempts: number;
  timer?: NodeJS.Timeout;
  lastError: string | null;
}

const key = (deviceId: string, service: string) => `${deviceId}\u0000${service}`;

/**
 * Settles rollouts that an interruption left half-done, by itself: when a device's engine link is (re)established,
 * when a call reaches an engine whose device has an unsettled rollout in this laptop's history, on a backoff timer
 * while one is pending, and before every deploy or rollback. One reconcile per device at a time; never while this
 * process is rolling a service out on that device.
 */
export class Reconciler {
  private readonly inflight = new Map<string, Promise<DeployRecord[]>>();
  private readonly pending = new Map<string, Pending>();
  private readonly active = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly engines: EngineRegistry,
    private readonly history: DeployHistory,
    private readonly depsFor: (device: Device) => RolloutDeps,
    /**
     * Holds the device in the store while a reconcile of its own runs (another process — the CLI, a second window —
     * may be rolling out there: its steps on the device must not be taken for an interruption). Kind `busy` skips it.
     */
    private readonly lock: <T>(device: Device, work: () => Promise<T>) => Promise<T> = (_d, work) => work(),
  ) {}

  /**
   * The engine registry reached the device's engine (whoever asked: Workloads, a terminal, the PKI, latency): on a
   * fresh link the device is checked for anything an interruption left, and while this laptop's history holds an
   * unsettled rollout of the device, any reach settles it. Hooked on the registry by the core (app.ts), so it runs
   * even when the Workloads service was not built yet. Never throws; a failure is retried on a backoff timer.
   */
  reached(device: Device, fresh: boolean): void {
    if (this.closed || this.inflight.has(device.id) || this.busy(device.id)) return;
    if (fresh || this.pending.has(device.id) || this.unsettled(device.id).length > 0) this.run(device, this.pending.get(device.id)?.link ?? {}).catch(() => undefined);
  }

  /** Runs `fn` as a rollout of `service` on `device`: auto-reconcile keeps off it, and an interruption it leaves is retried. */
  async guard<T>(device: Device, service: string, link: LinkOptions | undefined, fn: () => Promise<T>): Promise<T> {
    const k = key(device.id, service);
    this.active.set(k, (this.active.get(k) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (this.active.get(k) ?? 1) - 1;
      if (n > 0) this.active.set(k, n);
      else this.active.delete(k);
      if (this.unsettled(device.id).length > 0) this.schedule(device, link, null);
    }
  }

  /** Resolves once a reconcile of this process running on the device (if any) has ended, however it ended. */
  async settled(deviceId: string): Promise<void> {
    await this.inflight.get(deviceId)?.catch(() => undefined);
  }

  /**
   * Reconciles every service of one device (shared by concurrent callers). `held`: the caller already holds the
   * device's lock (a deploy, a rollback, an explicit reconcile job); otherwise the reconcile takes it itself.
   */
  run(device: Device, link: LinkOptions | undefined, opts: { held?: boolean } = {}): Promise<DeployRecord[]> {
    const running = this.inflight.get(device.id);
    if (running) return running;
    if (this.busy(device.id)) {
      return Promise.reject(new OutpostError('conflict', `${device.name}: a rollout is running on this device right now; reconcile after it ends`));
    }
    const reconcile = () => this.engines.call(device, (engine) => this.reconcileOn(device, engine), { link, timeoutMs: 120_000, what: 'reconciling interrupted rollouts' });
    const work = (opts.held ? reconcile() : this.lock(device, reconcile))
      .then(
        (records) => {
          const p = this.pending.get(device.id);
          clearTimeout(p?.timer);
          this.pending.delete(device.id);
          return records;
        },
        (err: unknown) => {
          if (this.unsettled(device.id).length > 0) this.schedule(device, link, toErrorBody(err).message);
          throw err;
        },
      )
      .finally(() => this.inflight.delete(device.id));
    this.inflight.set(device.id, work);
    return work;
  }

  /** Services whose newest rollout in this laptop's history is not settled, with what reconcile will do. */
  list(deviceId?: string): PendingRollout[] {
    return this.history.unsettled(deviceId).map(({ record }) => {
      const phases = this.history.steps(record.id).map((s) => s.phase as RolloutPhase);
      // `failed` is the laptop's word; the device stopped at the last step it wrote.
      const devicePhase = phases.filter((p) => p !== 'failed').at(-1) ?? record.phase;
      let deviceName = record.deviceId;
      try {
        deviceName = this.engines.device(record.deviceId).name;
      } catch {
        // The device was removed from the inventory since; its id still names it.
      }
      return {
        deviceId: record.deviceId,
        deviceName,
        service: record.service,
        record,
        inProgress: this.active.has(key(record.deviceId, record.service)),
        devicePhase,
        resolution: resolutionFor(devicePhase),
        lastError: this.pending.get(record.deviceId)?.lastError ?? null,
      };
    });
  }

  /** Stops retrying; a reconcile already running is let finish (bounded), so a closing CLI does not cut it mid-step. */
  async close(waitMs = 15_000): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    const running = [...this.inflight.values()].map((w) => w.catch(() => undefined));
    if (!running.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(running), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  private busy(deviceId: string): boolean {
    for (const k of this.active.keys()) if (k.startsWith(`${deviceId}\u0000`)) return true;
    return false;
  }

  private unsettled(deviceId: string) {
    return this.history.unsettled(deviceId).filter((e) => !this.active.has(key(deviceId, e.record.service)));
  }

  private schedule(device: Device, link: LinkOptions | undefined, lastError: string | null): void {
    if (this.closed) return;
    const p = this.pending.get(device.id) ?? { link, attempts: 0, lastError: null };
    clearTimeout(p.timer);
    p.link = link;
    if (lastError !== null) p.lastError = lastError;
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** p.attempts);
    p.attempts += 1;
    p.timer = setTimeout(() => {
      if (!this.closed && !this.busy(device.id)) this.run(device, p.link).catch(() => undefined);
    }, delay);
    p.timer.unref();
    this.pending.set(device.id, p);
  }

  private async reconcileOn(device: Device, engine: Engine): Promise<DeployRecord[]> {
    const deps = this.depsFor(device);
    const states = await readServiceStates(engine.ssh);
    const names = new Set(states.map((s) => s.record.service));
    for (const c of await engine.docker.listContainers({ all: true })) {
      const m = ROLLOUT_NAME.exec(c.Names[0] ?? '');
      if (m?.[1]) names.add(m[1]);
    }
    const out: DeployRecord[] = [];
    for (const name of names) {
      if (this.active.has(key(device.id, name))) continue;
      const rec = await reconcileService(engine, states.find((s) => s.record.service === name), name, deps);
      if (rec) out.push(rec);
    }
    // The laptop's own unsettled records that the device settled without us (another laptop, an earlier reconcile)
    // or superseded: the device is the authority, the history follows it.
    for (const { record, spec } of this.unsettled(device.id)) {
      if (out.some((r) => r.id === record.id)) continue;
      const onDevice = states.find((s) => s.record.service === record.service);
      const settledThere = onDevice?.record.id === record.id && SETTLED_PHASES.includes(onDevice.record.phase);
      const next: DeployRecord = settledThere
        ? { ...record, phase: onDevice.record.phase, message: `reconciled: the device had already settled it (${onDevice.record.message})`, updatedAt: new Date().toISOString() }
        : { ...record, phase: 'rolled-back', message: 'reconciled: the device holds no unfinished step of this rollout (a later rollout superseded it); nothing of it runs', updatedAt: new Date().toISOString() };
      deps.record(next, spec);
      out.push(next);
    }
    return out;
  }
}
