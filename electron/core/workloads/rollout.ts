import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import type { DeployRecord, RolloutPhase, ServiceSpec } from '../../../shared/contract/workloads';
import { OutpostError } from '../../../shared/errors';
import type { Engine } from '../engines/registry';
import { LABEL_DEPLOY, LABEL_SERVICE, toCreateOptions } from './container-spec';
import { writeServiceState, type ServiceState } from './device-state';
import { bindsFixedHostPorts } from './edge-defaults';
import { judge, LABEL_PROBE } from './readiness';

export const prevName = (service: string) => `${service}.outpost-prev`;
export const nextName = (service: string) => `${service}.outpost-next`;

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
  if (info && !info.State.Running) await docker.getContainer(name).start();
}

/** Step bookkeeping shared by rollout, undo and finish: SQLite on the laptop and the state file on the device. */
class Steps {
  constructor(
    private readonly engine: Engine,
    private readonly deps: RolloutDeps,
    readonly state: ServiceState,
  ) {}

  async to(phase: RolloutPhase, message: string, opts: { device?: boolean } = {}): Promise<DeployRecord> {
    this.state.record = { ...this.state.record, phase, message, updatedAt: new Date().toISOString() };
    this.deps.record(this.state.record, this.state.spec);
    if (opts.device !== false) await writeServiceState(this.engine.ssh, this.state);
    return this.state.record;
  }
}

/**
 * Health-gated rollout of one service. The new container starts beside the old one (or, when the service binds
 * fixed host ports, after the old one is stopped and renamed aside); only a healthy new container replaces the old,
 * anything else puts the old one back. Every step is written down on both ends before it is taken, so an
 * interruption (dockerd restart, dropped link) leaves a state `reconcile` can finish or undo.
 */
export async function rollout(engine: Engine, spec: ServiceSpec, image: { ref: string; id: string }, deps: RolloutDeps, opts: RolloutOptions): Promise<DeployRecord> {
  const docker = engine.docker;
  const service = spec.name;
  if ((await findContainer(docker, nextName(service))) || (await findContainer(docker, prevName(service)))) {
    throw new OutpostError('conflict', `${engine.deviceName}: an earlier rollout of ${service} was interrupted; run reconcile first`);
  }
  const old = await findContainer(docker, service);
  const fixedPorts = bindsFixedHostPorts(spec);
  const now = new Date().toISOString();
  const steps = new Steps(engine, deps, {
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
    },
    spec,
    fixedPorts,
    oldStopped: false,
  });
  await steps.to('started', steps.state.record.message);

  try {
    if (old) {
      await docker.getContainer(old.Id).rename({ name: prevName(service) });
      if (fixedPorts && old.State.Running) {
        steps.state.oldStopped = true;
        await steps.to('old-stopped', 'the service binds fixed host ports: old container stopped and kept aside');
        await docker.getContainer(old.Id).stop({ t: 10 }).catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 304) throw err;
        });
      }
    }
    const labels = { [LABEL_SERVICE]: service, [LABEL_DEPLOY]: steps.state.record.id };
    const created = await docker.createContainer(toCreateOptions(spec, nextName(service), image.id, labels));
    await created.start();
    const startedAt = Date.now();
    await steps.to('new-started', `candidate ${created.id.slice(0, 12)} started`);

    const verdict = await waitForVerdict(docker, created.id, { host: deps.host, probeLabel: spec.labels[LABEL_PROBE], stableMs: opts.stableMs ?? 3000, startedAt }, opts);
    if (verdict.status !== 'ready') return await undo(engine, steps, `new version not healthy: ${verdict.reason}`);

    await steps.to('healthy', 'candidate healthy; retiring the old container');
    await removeQuietly(docker, prevName(service));
    await docker.getContainer(created.id).rename({ name: service });
    return await steps.to('done', `${image.ref} running as ${service}`);
  } catch (err) {
    // The engine or the link failed mid-way: try to put the old version back; if even that fails, the device's
    // state file still says where we stopped, and reconcile will finish the job.
    const reason = err instanceof Error ? err.message : String(err);
    try {
      return await undo(engine, steps, `rollout interrupted: ${reason}`);
    } catch {
      await steps.to('failed', `rollout interrupted and the old version could not be restored yet (${reason}); run reconcile`, { device: false });
      throw err;
    }
  }
}

async function waitForVerdict(docker: Docker, id: string, judgeOpts: Parameters<typeof judge>[2], opts: RolloutOptions) {
  const deadline = Date.now() + opts.healthTimeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const verdict = await judge(docker, id, judgeOpts);
    if (verdict.status !== 'waiting') return verdict;
    last = verdict.reason;
    if (Date.now() >= deadline) return { status: 'failed' as const, reason: `not ready within ${opts.healthTimeoutMs} ms (${last})` };
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}

/** Removes the candidate and puts the old container back under the service's name, running. */
async function undo(engine: Engine, steps: Steps, reason: string): Promise<DeployRecord> {
  const docker = engine.docker;
  const service = steps.state.spec.name;
  await steps.to('rolling-back', reason);
  await removeQuietly(docker, nextName(service));
  if (await findContainer(docker, prevName(service))) {
    await docker.getContainer(prevName(service)).rename({ name: service });
  }
  await startIfStopped(docker, service);
  return steps.to('rolled-back', reason);
}

/**
 * Brings a service left mid-rollout to exactly one running version: finishes when the device's state says the
 * candidate was judged healthy, otherwise undoes. Services with nothing pending are left alone.
 */
export async function reconcileService(engine: Engine, state: ServiceState | undefined, service: string, deps: RolloutDeps): Promise<DeployRecord | undefined> {
  const docker = engine.docker;
  const next = await findContainer(docker, nextName(service));
  const prev = await findContainer(docker, prevName(service));
  if (!next && !prev) return undefined;
  if (!state) throw new OutpostError('conflict', `${engine.deviceName}: ${service} has leftover rollout containers but no deploy state; inspect them by hand`);
  const steps = new Steps(engine, deps, state);
  const current = await findContainer(docker, service);
  if (next && (state.record.phase === 'healthy' || state.record.phase === 'done') && !current) {
    await removeQuietly(docker, prevName(service));
    await docker.getContainer(next.Id).rename({ name: service });
    await startIfStopped(docker, service);
    return steps.to('done', 'reconciled: finished the interrupted rollout (candidate had been judged healthy)');
  }
  if (next) await removeQuietly(docker, nextName(service));
  if (prev && !current) await docker.getContainer(prev.Id).rename({ name: service });
  else if (prev && current) await removeQuietly(docker, prevName(service));
  await startIfStopped(docker, service);
  return steps.to('rolled-back', 'reconciled: undid the interrupted rollout; the previous version runs');
}
