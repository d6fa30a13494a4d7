import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeployRecord, RolloutPhase, ServiceSpec } from '../../../shared/contract/workloads';
import { openDatabase } from '../store/database';
import { DeployHistory } from './history-repo';

const spec = (image: string): ServiceSpec => ({ name: 'web', image, environment: { V: image }, envFiles: [], ports: [], volumes: [], capAdd: [], devices: [], labels: {} });

function history() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-history-')), 'o.db'));
  const h = new DeployHistory(db);
  let clock = 0;
  const save = (id: string, image: string, previousDeployId: string | null, opts: { phase?: RolloutPhase; rollbackOf?: string; previousImageId?: string | null } = {}): DeployRecord => {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
    const record: DeployRecord = {
      id,
      deviceId: 'dev',
      service: 'web',
      image,
      imageId: `sha256:${image}`,
      previousImageId: opts.previousImageId === undefined ? (previousDeployId ? `sha256:${h.get(previousDeployId)?.record.image}` : null) : opts.previousImageId,
      phase: opts.phase ?? 'done',
      message: '',
      bytesSent: 0,
      startedAt: at,
      updatedAt: at,
      previousDeployId,
      rollbackOf: opts.rollbackOf ?? null,
    };
    h.save(record, spec(image));
    return record;
  };
  /** What a rollback from the newest version records, as Deployer.rollback does. */
  const rollBack = (id: string): string | undefined => {
    const step = h.rollbackTarget('dev', 'web');
    if (!step) return undefined;
    save(id, step.target.record.image, step.previousDeployId, { rollbackOf: step.target.record.id, previousImageId: `sha256:${h.lastDone('dev', 'web')?.record.image}` });
    return step.target.record.image;
  };
  return { h, save, rollBack };
}

describe('rollback follows the history chain', () => {
  it('v1 → v2 → v3, then rollbacks walk back v2, v1, and stop: never flipping between the last two', () => {
    const { save, rollBack } = history();
    save('d1', 'v1', null);
    save('d2', 'v2', 'd1');
    save('d3', 'v3', 'd2');
    save('d4', 'v4-bad', 'd3', { phase: 'rolled-back' }); // an unhealthy try changes nothing
    expect(rollBack('r1')).toBe('v2');
    expect(rollBack('r2')).toBe('v1');
    expect(rollBack('r3')).toBeUndefined();
  });

  it('a rollback reinstates the spec the earlier version ran with, and a new deploy after it chains from it', () => {
    const { h, save, rollBack } = history();
    save('d1', 'v1', null);
    save('d2', 'v2', 'd1');
    expect(rollBack('r1')).toBe('v1');
    expect(h.get('r1')?.spec.environment).toEqual({ V: 'v1' });
    save('d3', 'v3', 'r1');
    expect(rollBack('r2')).toBe('v1');
    expect(rollBack('r3')).toBeUndefined();
  });

  it('starts from what runs on the device when given (another laptop may have rolled back meanwhile)', () => {
    const { h, save } = history();
    save('d1', 'v1', null);
    save('d2', 'v2', 'd1');
    save('d3', 'v3', 'd2');
    expect(h.rollbackTarget('dev', 'web', 'd2')?.target.record.id).toBe('d1');
  });

  it('a record from before the chain was kept falls back to its previous image', () => {
    const { h, save } = history();
    save('d1', 'v1', null);
    save('d2', 'v2', null, { previousImageId: 'sha256:v1' });
    expect(h.rollbackTarget('dev', 'web')?.target.record.id).toBe('d1');
    save('d3', 'v3', null, { previousImageId: 'sha256:hand-made' });
    expect(h.rollbackTarget('dev', 'web')?.target).toMatchObject({ record: { imageId: 'sha256:hand-made' }, spec: { image: 'v3' } });
  });

  it('lists each service whose newest rollout is unsettled', () => {
    const { h, save } = history();
    save('d1', 'v1', null);
    save('d2', 'v2', 'd1', { phase: 'failed' });
    expect(h.unsettled('dev').map((e) => e.record.id)).toEqual(['d2']);
    save('d2', 'v2', 'd1', { phase: 'rolled-back' });
    expect(h.unsettled('dev')).toEqual([]);
  });
});
