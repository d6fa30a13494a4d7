import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { FORWARD_PHASES, type DeployRecord, type RolloutPhase, type ServiceSpec } from '../../../shared/contract/workloads';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { Engine } from '../engines/registry';
import { LABEL_DEPLOY, LABEL_SERVICE, toCreateOptions } from './container-spec';
import { writeServiceState, type ServiceState } from './device-state';
import { bindsFixedHostPorts } from './edge-defaults';
import { judge, LABEL_PROBE, ownHealthcheckReason } from './readiness';

/** Where the old container waits once the candidate is healthy, until the candidate holds the service's name. */
export const oldName = (service: string) => `${service}.outpost-old`;
/** Where the candidate runs until it is judged healthy and promoted. */
export const nextName = (service: string) => `${service}.outpost-next`;
/** Before the forward-only ordering, the old container was renamed aside at the start under this name. */
export const legacyPrevName = (service: string) => `${service}.outpost-prev`;
/** `<svc>.outpost-{old,next,prev}` → the service and the role. */
export const ROLLOUT_NAME = /^\/?(.+)\.outpost-(old|next|prev)$/;

const OLD_STOP_SECONDS = 10;

export interface RolloutDeps {
  /** Saves a step on the laptop (SQLite) and announces it. */
  record(record: DeployRecord, spec: ServiceSpec): void;
  /** The device's address, for readiness probes from the laptop. */
  host: string;
}

export interface RolloutOptions {
  healthTimeoutMs: number;
  /** Without a healthcheck or probe: how long the new container must run without crashing. */
  stableMs?: number;
  pollMs?: number;
  bytesSent?: number;
  deployId?: string;
  /** The deploy this one replaces in the history chain; by default the old container's own deploy label. */
  previousDeployId?: string | null;
  /** Set by a rollback: the deploy it reinstates. */
  rollbackOf?: string | null;
  /**
   * Cancels the rollout at its next safe point: before the candidate is judged healthy it is undone (the old
   * version runs again); after, the signal is ignored and the rollout finishes — a healthy version is never thrown away.
   */
  signal?: AbortSignal;
  /** Called after each step is written down on both ends, before the next one is taken (fault injection in tests). */
  onPhase?: (phase: RolloutPhase, record: DeployRecord) => void | Promise<void>;
}

export async function findContainer(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  return docker
    .getContainer(name)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return undefined;
      throw err;
    });
}

async function removeQuietly(docker: Docker, name: string): Promise<void> {
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
}

async function startIfStopped(docker: Docker, name: string): Promise<void> {
  const info = await findContainer(docker, name);
  if (info && !info.State.Running) {
    await docker
      .getContainer(name)
      .start()
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 304) throw err;
      });
  }
}

const nameOf = (info: Docker.ContainerInspectInfo) => info.Name.replace(/^\//, '');

const cancelled = () => new OutpostError('cancelled', 'cancelled by the technician');

/** Step bookkeeping shared by rollout, undo and finish: the device's state file first (it is the authority), then SQLite. */
class Steps {
  constructor(
    private readonly engine: Engine,
    private readonly deps: RolloutDeps,
    readonly state: ServiceState,
    private readonly onPhase?: RolloutOptions['onPhase'],
  ) {}

  async to(phase: RolloutPhase, message: string, opts: { device?: boolean } = {}): Promise<DeployRecord> {
    this.state.record = { ...this.state.record, phase, message, updatedAt: new Date().toISOString() };
    if (opts.device !== false) await writeServiceState(this.engine.ssh, this.state);
    this.deps.record(this.state.record, this.state.spec);
    if (opts.device !== false) await this.onPhase?.(phase, this.state.record);
    return this.state.record;
  }
}

/**
 * Health-gated rollout of one service. The candidate starts as `<svc>.outpost-next` beside the old container (or,
 * when the service binds fixed host ports, after the old one is stopped — it keeps its name and stays stopped).
 * Until the candidate is judged healthy, any failure or a cancel puts the old one back; once it is, the rollout only
 * moves forward: old renamed `<svc>.outpost-old`, candidate renamed `<svc>`, old removed. At every instant one
 * complete version exists under a known name, and each step is written to the device's state file before the next is
 * taken, so an interruption (dockerd restart, dropped link) leaves a state that `reconcileService` settles.
 */
export async function rollout(engine: Engine, spec: ServiceSpec, image: { ref: string; id: string }, deps: RolloutDeps, opts: RolloutOptions): Promise<DeployRecord> {
  const docker = engine.docker;
  const service = spec.name;
  for (const leftover of [nextName(service), oldName(service), legacyPrevName(service)]) {
    if (await findContainer(docker, leftover)) {
      throw new OutpostError('conflict', `${engine.deviceName}: an earlier rollout of ${service} was interrupted (${leftover} exists); run reconcile first`);
    }
  }
  if (opts.signal?.aborted) throw cancelled();
  const old = await findContainer(docker, service);
  const fixedPorts = bindsFixedHostPorts(spec);
  const now = new Date().toISOString();
  const steps = new Steps(
    engine,
    deps,
    {
      record: {
        id: opts.deployId ?? randomUUID(),
        deviceId: engine.deviceId,
        service,
        image: image.ref,
        imageId: image.id,
        previousImageId: old?.Image ?? null,
        phase: 'started',
        message: old ? `replacing ${old.Id.slice(0, 12)}` : 'first deploy',
        bytesSent: opts.bytesSent ?? 0,
        startedAt: now,
        updatedAt: now,
        previousDeployId: opts.previousDeployId !== undefined ? opts.previousDeployId : (old?.Config.Labels?.[LABEL_DEPLOY] ?? null),
        rollbackOf: opts.rollbackOf ?? null,
      },
      spec,
      fixedPorts,
      oldStopped: false,
      oldId: old?.Id ?? null,
      oldRunning: old?.State.Running ?? false,
      candidateId: null,
    },
    opts.onPhase,
  );
  const checkpoint = () => {
    if (opts.signal?.aborted) throw cancelled();
  };

  // Nothing has changed on the device yet: if even this first write fails, the rollout simply did not happen.
  await steps.to('started', steps.state.record.message);
  let healthy = false;
  try {
    checkpoint();
    if (old && fixedPorts && old.State.Running) {
      steps.state.oldStopped = true;
      await docker
        .getContainer(old.Id)
        .stop({ t: OLD_STOP_SECONDS })
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 304) throw err;
        });
      await steps.to('old-stopped', 'the service binds fixed host ports: old container stopped, kept under its name until the new one is healthy');
      checkpoint();
    }
    const labels = { [LABEL_SERVICE]: service, [LABEL_DEPLOY]: steps.state.record.id };
    const created = await docker.createContainer(toCreateOptions(spec, nextName(service), image.id, labels));
    steps.state.candidateId = created.id;
    await created.start();
    const startedAt = Date.now();
    await steps.to('new-started', `candidate ${created.id.slice(0, 12)} started as ${nextName(service)}`);

    const ownHealthcheck = ownHealthcheckReason(engine.found);
    const verdict = await waitForVerdict(docker, created.id, { host: deps.host, probeLabel: spec.labels[LABEL_PROBE], stableMs: opts.stableMs ?? 3000, startedAt, ownHealthcheck, ownState: ownHealthcheck ? { failures: 0, lastRunAt: 0 } : undefined }, opts);
    if (verdict.status !== 'ready') return await undo(engine, steps, `new version not healthy: ${verdict.reason}`);
    checkpoint();

    // From here on the device's state says "healthy": whoever resumes (this call, reconcile) goes forward only.
    await steps.to('healthy', `candidate healthy${ownHealthcheck ? ` (${ownHealthcheck} itself)` : ''}; promoting it`);
    healthy = true;
    return await finishForward(engine, steps, `${image.ref} running as ${service}`);
  } catch (err) {
    const reason = toErrorBody(err).message;
    if (healthy) {
      // Forward only: one more try (the engine may have answered again), else the device's state says `healthy`
      // and reconcile finishes it the next time the engine is reached.
      try {
        return await finishForward(engine, steps, `${image.ref} running as ${service} (finished after: ${reason})`);
      } catch {
        await steps.to('failed', `interrupted after the new version was judged healthy (${reason}); it will be finished, not undone, when the engine is reached again`, { device: false });
        throw err;
      }
    }
    const why = err instanceof OutpostError && err.kind === 'cancelled' ? 'cancelled by the technician before the new version was judged healthy' : `rollout interrupted: ${reason}`;
    try {
      return await undo(engine, steps, why);
    } catch {
      await steps.to('failed', `${why}; the old version could not be put back yet: it will be when the engine is reached again`, { device: false });
      throw err;
    }
  }
}

async function waitForVerdict(docker: Docker, id: string, judgeOpts: Parameters<typeof judge>[2], opts: RolloutOptions) {
  const deadline = Date.now() + opts.healthTimeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (opts.signal?.aborted) throw cancelled();
    const verdict = await judge(docker, id, judgeOpts);
    if (verdict.status !== 'waiting') return verdict;
    last = verdict.reason;
    if (Date.now() >= deadline) return { status: 'failed' as const, reason: `not ready within ${opts.healthTimeoutMs} ms (${last})` };
    await pause(opts.pollMs ?? 500, opts.signal);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Removes the candidate and gives the old container back its name, running if it ran before. Idempotent: works
 * from any step before `healthy`, whatever part of it already happened.
 */
async function undo(engine: Engine, steps: Steps, reason: string): Promise<DeployRecord> {
  const docker = engine.docker;
  const { state } = steps;
  const service = state.spec.name;
  await steps.to('rolling-back', reason);
  if (state.candidateId) await removeQuietly(docker, state.candidateId);
  await removeQuietly(docker, nextName(service));
  const old = state.oldId ? await findContainer(docker, state.oldId) : undefined;
  if (old) {
    if (nameOf(old) !== service) {
      const holder = await findContainer(docker, service);
      if (holder) throw new OutpostError('conflict', `${engine.deviceName}: cannot give ${nameOf(old)} back its name: ${service} is held by ${holder.Id.slice(0, 12)}, which this rollout did not create`);
      await docker.getContainer(old.Id).rename({ name: service });
    }
    if (state.oldRunning || state.oldStopped) await startIfStopped(docker, old.Id);
  }
  return steps.to('rolled-back', old ? reason : `${reason} (first deploy: nothing ran before)`);
}

/**
 * Finishes a rollout whose candidate was judged healthy: old aside, candidate promoted to the service's name,
 * old removed. Idempotent, by container ID, from any step after `healthy`.
 */
async function finishForward(engine: Engine, steps: Steps, message: string): Promise<DeployRecord> {
  const docker = engine.docker;
  const { state } = steps;
  const service = state.spec.name;
  const candidate = state.candidateId ? await findContainer(docker, state.candidateId) : undefined;
  if (!candidate) throw new OutpostError('conflict', `${engine.deviceName}: the healthy candidate of ${service} is gone`);
  const holder = await findContainer(docker, service);
  if (holder && holder.Id !== candidate.Id) {
    const aside = await findContainer(docker, oldName(service));
    if (aside && aside.Id !== holder.Id) await removeQuietly(docker, aside.Id);
    await docker.getContainer(holder.Id).rename({ name: oldName(service) });
    await steps.to('old-aside', `old container ${holder.Id.slice(0, 12)} renamed ${oldName(service)}`);
  }
  if (nameOf(candidate) !== service) {
    await docker.getContainer(candidate.Id).rename({ name: service });
    await steps.to('promoted', `candidate ${candidate.Id.slice(0, 12)} now runs as ${service}`);
  }
  await startIfStopped(docker, candidate.Id);
  if (state.oldId && state.oldId !== candidate.Id) await removeQuietly(docker, state.oldId);
  await removeQuietly(docker, oldName(service));
  await removeQuietly(docker, legacyPrevName(service));
  return steps.to('done', message);
}

export type Resolution = 'finish' | 'undo';

/** What reconcile does with a rollout that stopped at `phase`. */
export function resolutionFor(phase: RolloutPhase): Resolution {
  return FORWARD_PHASES.includes(phase) ? 'finish' : 'undo';
}

/**
 * Brings a service left mid-rollout to exactly one running version, by the device's own record of the step it
 * reached: judged healthy (or later) → finish forward; before that → undo. Services with nothing pending are left
 * alone (undefined).
 */
export async function reconcileService(engine: Engine, state: ServiceState | undefined, service: string, deps: RolloutDeps): Promise<DeployRecord | undefined> {
  const docker = engine.docker;
  const leftovers = (await Promise.all([nextName(service), oldName(service), legacyPrevName(service)].map((n) => findContainer(docker, n)))).filter(
    (c): c is Docker.ContainerInspectInfo => c !== undefined,
  );
  const settled = state && (state.record.phase === 'done' || state.record.phase === 'rolled-back');
  if (settled && leftovers.length === 0) return undefined;
  if (!state) {
    if (leftovers.length === 0) return undefined;
    throw new OutpostError('conflict', `${engine.deviceName}: ${service} has leftover rollout containers (${leftovers.map(nameOf).join(', ')}) but no deploy state; inspect them by hand`);
  }
  const steps = new Steps(engine, deps, { ...state });
  if (!state.oldId) {
    // Written by an older Outpost: the old container was renamed aside at the start.
    const legacy = leftovers.find((c) => nameOf(c) === legacyPrevName(service));
    if (legacy) steps.state.oldId = legacy.Id;
    steps.state.oldRunning ||= state.oldStopped || Boolean(legacy?.State.Running);
  }
  if (state.record.phase === 'done') {
    // Settled, yet leftovers remain (e.g. written by an older Outpost): whatever does not hold the name goes.
    for (const c of leftovers) if (c.Id !== state.candidateId) await removeQuietly(docker, c.Id);
    return steps.to('done', `reconciled: removed leftover rollout containers (${leftovers.map(nameOf).join(', ')})`);
  }
  if (!state.candidateId) steps.state.candidateId = leftovers.find((c) => nameOf(c) === nextName(service))?.Id ?? null;
  if (resolutionFor(state.record.phase) === 'finish') {
    const candidate = steps.state.candidateId ? await findContainer(docker, steps.state.candidateId) : undefined;
    if (candidate) return finishForward(engine, steps, `reconciled: finished the interrupted rollout (the new version had been judged healthy); ${state.record.image} runs as ${service}`);
    return undo(engine, steps, 'reconciled: the healthy candidate is gone; the previous version runs');
  }
  return undo(engine, steps, `reconciled: undid the rollout interrupted at ${state.record.phase} (the new version was never judged healthy); the previous version runs`);
}
