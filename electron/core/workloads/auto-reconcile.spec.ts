import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Device } from '../../../shared/contract';
import type { DeployRecord, ServiceSpec } from '../../../shared/contract/workloads';
import { createCore, type Core } from '../app';
import type { Engine, EngineRegistry } from '../engines/registry';
import { openDatabase } from '../store/database';
import { DeployHistory } from './history-repo';
import { Reconciler } from './reconciler';

const spec: ServiceSpec = { name: 'web', image: 'outpost/app:2', environment: {}, envFiles: [], ports: [], volumes: [], capAdd: [], devices: [], labels: {} };
const record = (deviceId: string, phase: DeployRecord['phase']): DeployRecord => ({
  id: `dep-${phase}`,
  deviceId,
  service: 'web',
  image: 'outpost/app:2',
  imageId: 'sha256:2',
  previousImageId: 'sha256:1',
  phase,
  message: '',
  bytesSent: 0,
  startedAt: '2026-11-30T10:00:00.000Z',
  updatedAt: '2026-11-30T10:00:00.000Z',
  previousDeployId: null,
  rollbackOf: null,
});

/** A registry that records which reconciles were asked for (each fails: no engine behind it). */
function fakeRegistry() {
  const calls: string[] = [];
  const registry = {
    call: async (device: Device, _fn: unknown, opts: { what?: string }) => {
      calls.push(`${device.id}: ${opts.what}`);
      throw new Error('no engine in a unit test');
    },
    device: (id: string) => ({ id, name: id }) as Device,
  } as unknown as EngineRegistry;
  return { registry, calls };
}

const device = { id: 'gw-1', name: 'gw-1' } as Device;
const tick = () => new Promise((r) => setTimeout(r, 10));

let core: Core | undefined;
afterEach(async () => {
  await core?.close();
  core = undefined;
});

describe('automatic reconcile, hooked on the engine registry', () => {
  it('runs on a fresh link, and on any reach while the history holds an unsettled rollout of the device; not otherwise', async () => {
    const history = new DeployHistory(openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-auto-')), 'o.db')));
    const { registry, calls } = fakeRegistry();
    const reconciler = new Reconciler(registry, history, () => ({ host: '127.0.0.1', record: () => undefined }));
    reconciler.reached(device, false);
    await tick();
    expect(calls).toEqual([]);
    reconciler.reached(device, true);
    await tick();
    expect(calls).toEqual(['gw-1: reconciling interrupted rollouts']);
    // An interrupted rollout in this laptop's history (e.g. from before the app restarted): any reach settles it.
    history.save(record('gw-1', 'new-started'), spec);
    reconciler.reached(device, false);
    await tick();
    expect(calls.length).toBe(2);
    await reconciler.close();
    reconciler.reached(device, true);
    await tick();
    expect(calls.length).toBe(2);
  });

  it('the core runs it when the engine is reached by a path other than Workloads, building the Workloads service for it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-auto-core-'));
    core = createCore({ dataDir: home, transport: 'in-process' });
    // Port 9 on loopback: nothing listens, the reconcile's connection is refused at once.
    const dev = core.devices.add({ name: 'gw-1', host: '127.0.0.1', sshPort: 9 });
    new DeployHistory(core.db).save(record(dev.id, 'new-started'), spec);
    expect(() => core!.workloads).toThrow(/not built yet/);
    // What a terminal, the PKI or a latency probe does: reach the engine through the registry alone.
    const registry = core.engines as unknown as { reached(d: Device, e: Engine, fresh: boolean): void };
    registry.reached(dev, {} as Engine, true);
    // The reconcile was tried (and failed: no device there); its error is what the pending rollout shows.
    const pending = async () => (await core!.router.dispatch('workloads:pending', { device: dev.id })) as { result?: Array<{ lastError: string | null }> };
    for (let i = 0; i < 200 && !(await pending()).result?.[0]?.lastError; i++) await tick();
    expect((await pending()).result?.[0]?.lastError).toMatch(/127\.0\.0\.1:9/);
    expect(core.workloads.deployer.reconciler).toBeDefined();
  });
});
