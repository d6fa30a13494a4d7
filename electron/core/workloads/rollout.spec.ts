import { describe, expect, it } from 'vitest';
import type { DeployRecord, RolloutPhase, ServiceSpec } from '../../../shared/contract/workloads';
import { LABEL_DEPLOY, LABEL_SERVICE } from './container-spec';
import { ServiceState } from './device-state';
import { FakeEngine } from './fake-engine';
import { reconcileService, rollout, type RolloutDeps } from './rollout';

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  name: 'web',
  image: 'app:2',
  environment: {},
  envFiles: [],
  ports: [],
  volumes: [],
  capAdd: [],
  devices: [],
  labels: {},
  ...over,
});
const fixed = () => spec({ networkMode: 'host' });

function setup() {
  const fake = new FakeEngine();
  fake.healthyImages.add('sha256:v1');
  fake.healthyImages.add('sha256:v2');
  const old = fake.add('web', 'sha256:v1', { [LABEL_SERVICE]: 'web', [LABEL_DEPLOY]: 'd1' });
  const records: DeployRecord[] = [];
  const deps: RolloutDeps = { host: '127.0.0.1', record: (r) => void records.push(r) };
  const phases = () => records.map((r) => r.phase);
  const state = (): ServiceState => ServiceState.parse(JSON.parse(fake.stateFiles.get('/var/lib/outpost/deploys/web.json') ?? 'null'));
  return { fake, old, records, deps, phases, state };
}

const v2 = { ref: 'app:2', id: 'sha256:v2' };
const opts = { healthTimeoutMs: 2000, pollMs: 5 };
const engineDown = () => Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ECONNRESET' });

describe('rollout ordering', () => {
  it('keeps the old container under its name until the candidate is healthy, then promotes it forward', async () => {
    const { fake, phases, deps } = setup();
    const seen: string[][] = [];
    fake.afterChange = () => seen.push(fake.names());
    const rec = await rollout(fake.engine(), spec(), v2, deps, opts);
    expect(rec).toMatchObject({ phase: 'done', previousDeployId: 'd1', previousImageId: 'sha256:v1' });
    expect(phases()).toEqual(['started', 'new-started', 'healthy', 'old-aside', 'promoted', 'done']);
    expect(seen).toEqual([
      ['web', 'web.outpost-next'], // created
      ['web', 'web.outpost-next'], // started
      ['web.outpost-next', 'web.outpost-old'],
      ['web', 'web.outpost-old'],
      ['web'],
    ]);
    expect(fake.byName('web')?.Image).toBe('sha256:v2');
  });

  it('a fixed-port service: the old one is stopped first and started again when the candidate is unhealthy', async () => {
    const { fake, old, phases, deps } = setup();
    fake.unhealthyImages.add('sha256:bad');
    const rec = await rollout(fake.engine(), fixed(), { ref: 'app:bad', id: 'sha256:bad' }, deps, opts);
    expect(rec.phase).toBe('rolled-back');
    expect(phases()).toEqual(['started', 'old-stopped', 'new-started', 'rolling-back', 'rolled-back']);
    expect(fake.names()).toEqual(['web']);
    expect(fake.byName('web')).toMatchObject({ Id: old.Id, State: { Running: true } });
  });

  it('after healthy, a failed rename is finished forward: the healthy candidate is never removed', async () => {
    const { fake, deps, phases } = setup();
    let fails = 1;
    fake.fault = (op, target) => (op === 'rename' && target.startsWith('c002') && fails-- > 0 ? engineDown() : undefined);
    const rec = await rollout(fake.engine(), spec(), v2, deps, opts);
    expect(rec.phase).toBe('done');
    expect(phases()).not.toContain('rolling-back');
    expect(fake.names()).toEqual(['web']);
    expect(fake.byName('web')?.Image).toBe('sha256:v2');
  });

  it('after healthy, with the engine gone for good: the rollout stops as failed, every instant keeps the candidate, and reconcile finishes it', async () => {
    const { fake, deps, records, state } = setup();
    let healthySeen = false;
    const broken: string[][] = [];
    fake.afterChange = () => {
      if (healthySeen && !fake.names().some((n) => fake.byName(n)?.Image === 'sha256:v2')) broken.push(fake.names());
    };
    fake.fault = (op, target) => (healthySeen && op === 'rename' && target.startsWith('c002') ? engineDown() : undefined);
    await expect(
      rollout(fake.engine(), spec(), v2, deps, {
        ...opts,
        onPhase: (p) => {
          if (p === 'healthy') healthySeen = true;
        },
      }),
    ).rejects.toThrow(/ENOENT/);
    expect(records.at(-1)).toMatchObject({ phase: 'failed', message: expect.stringMatching(/finished, not undone/) });
    expect(state().record.phase).toBe('old-aside');
    expect(fake.names()).toEqual(['web.outpost-next', 'web.outpost-old']);

    fake.fault = () => undefined;
    const settled = await reconcileService(fake.engine(), state(), 'web', deps);
    expect(settled).toMatchObject({ phase: 'done', message: expect.stringMatching(/^reconciled: finished/) });
    expect(fake.names()).toEqual(['web']);
    expect(fake.byName('web')?.Image).toBe('sha256:v2');
    expect(broken).toEqual([]);
  });
});

describe('reconcile decides by the step the device recorded', () => {
  const interruptAt = async (phase: RolloutPhase, service = fixed()) => {
    const ctx = setup();
    let down = false;
    ctx.fake.fault = (op) => (down && op !== 'ssh' ? engineDown() : undefined);
    await rollout(ctx.fake.engine(), service, v2, ctx.deps, {
      ...opts,
      onPhase: (p) => {
        if (p === phase) down = true;
      },
    }).catch(() => undefined);
    ctx.fake.fault = () => undefined;
    return ctx;
  };

  for (const phase of ['started', 'old-stopped', 'new-started'] as const) {
    it(`interrupted at ${phase}: undone, the old version runs again under its name`, async () => {
      const { fake, old, deps, state } = await interruptAt(phase);
      const rec = await reconcileService(fake.engine(), state(), 'web', deps);
      expect(rec?.phase).toBe('rolled-back');
      expect(fake.names()).toEqual(['web']);
      expect(fake.byName('web')).toMatchObject({ Id: old.Id, State: { Running: true } });
    });
  }

  for (const phase of ['healthy', 'old-aside', 'promoted'] as const) {
    it(`interrupted at ${phase}: finished forward, the new version runs under the name`, async () => {
      const { fake, deps, state } = await interruptAt(phase);
      const rec = await reconcileService(fake.engine(), state(), 'web', deps);
      expect(rec?.phase).toBe('done');
      expect(fake.names()).toEqual(['web']);
      expect(fake.byName('web')).toMatchObject({ Image: 'sha256:v2', State: { Running: true } });
    });
  }

  it('dockerd restarted during the health wait of a fixed-port service: the restarted candidate is removed and the old one started', async () => {
    const { fake, old, deps, state } = await interruptAt('new-started');
    // unless-stopped brought the unverified candidate back; the old one, stopped by us, stayed stopped.
    expect(fake.byName('web.outpost-next')?.State.Running).toBe(true);
    expect(fake.byName('web')?.State.Running).toBe(false);
    await reconcileService(fake.engine(), state(), 'web', deps);
    expect(fake.names()).toEqual(['web']);
    expect(fake.byName('web')).toMatchObject({ Id: old.Id, State: { Running: true } });
  });

  it('a settled service is left alone; leftovers with no state are a conflict', async () => {
    const { fake, deps, state } = setup();
    await rollout(fake.engine(), spec(), v2, deps, opts);
    expect(await reconcileService(fake.engine(), state(), 'web', deps)).toBeUndefined();
    fake.add('api.outpost-next', 'sha256:v2');
    await expect(reconcileService(fake.engine(), undefined, 'api', deps)).rejects.toMatchObject({ kind: 'conflict' });
  });

  it('a device left by an older Outpost (old renamed .outpost-prev at the start, no ids recorded) is undone too', async () => {
    const { fake, deps, state } = await interruptAt('new-started', spec());
    const legacy = state();
    const old = fake.byName('web')!;
    old.Name = '/web.outpost-prev';
    const raw = { ...legacy, oldId: undefined, candidateId: undefined, oldRunning: undefined };
    const rec = await reconcileService(fake.engine(), ServiceState.parse(JSON.parse(JSON.stringify(raw))), 'web', deps);
    expect(rec?.phase).toBe('rolled-back');
    expect(fake.names()).toEqual(['web']);
    expect(fake.byName('web')?.Id).toBe(old.Id);
  });
});

describe('cancellation honours only safe points', () => {
  it('cancelled during the health wait: undone cleanly, the old version keeps running', async () => {
    const { fake, old, deps, phases } = setup();
    fake.healthyImages.delete('sha256:v2'); // stays "starting"
    const ac = new AbortController();
    const rec = await rollout(fake.engine(), spec(), v2, deps, {
      ...opts,
      healthTimeoutMs: 60_000,
      signal: ac.signal,
      onPhase: (p) => {
        if (p === 'new-started') setTimeout(() => ac.abort(), 20);
      },
    });
    expect(rec).toMatchObject({ phase: 'rolled-back', message: expect.stringMatching(/cancelled/) });
    expect(phases()).not.toContain('healthy');
    expect(fake.names()).toEqual(['web']);
    expect(fake.byName('web')).toMatchObject({ Id: old.Id, State: { Running: true } });
  });

  it('cancelled before anything changed: refused with kind cancelled, nothing touched', async () => {
    const { fake, deps, records } = setup();
    const ac = new AbortController();
    ac.abort();
    await expect(rollout(fake.engine(), spec(), v2, deps, { ...opts, signal: ac.signal })).rejects.toMatchObject({ kind: 'cancelled' });
    expect(records).toEqual([]);
    expect(fake.names()).toEqual(['web']);
  });

  it('cancelled once healthy: ignored, the rollout finishes forward', async () => {
    const { fake, deps } = setup();
    const ac = new AbortController();
    const rec = await rollout(fake.engine(), fixed(), v2, deps, {
      ...opts,
      signal: ac.signal,
      onPhase: (p) => {
        if (p === 'healthy') ac.abort();
      },
    });
    expect(rec.phase).toBe('done');
    expect(fake.names()).toEqual(['web']);
    expect(fake.byName('web')?.Image).toBe('sha256:v2');
  });
});
