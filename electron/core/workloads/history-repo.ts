import { SETTLED_PHASES, type DeployRecord, type RolloutPhase, type ServiceSpec } from '../../../shared/contract/workloads';
import type { Db } from '../store/database';

interface Row {
  id: string;
  device_id: string;
  service: string;
  image: string;
  image_id: string;
  previous_image_id: string | null;
  phase: string;
  message: string;
  bytes_sent: number;
  spec: string;
  started_at: string;
  updated_at: string;
  previous_deploy_id: string | null;
  rollback_of: string | null;
}

function toRecord(r: Row): DeployRecord {
  return {
    id: r.id,
    deviceId: r.device_id,
    service: r.service,
    image: r.image,
    imageId: r.image_id,
    previousImageId: r.previous_image_id,
    phase: r.phase as RolloutPhase,
    message: r.message,
    bytesSent: r.bytes_sent,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    previousDeployId: r.previous_deploy_id,
    rollbackOf: r.rollback_of,
  };
}

export interface HistoryEntry {
  record: DeployRecord;
  spec: ServiceSpec;
}

/** What a rollback installs: an earlier deploy's image and settings, and where the chain continues after it. */
export interface RollbackTarget {
  /** The deploy being reinstated (its image, image ID and spec). */
  target: HistoryEntry;
  /** The new rollout's predecessor in the chain: the target's own predecessor, so a second rollback goes further back. */
  previousDeployId: string | null;
}

const sqlList = (phases: readonly string[]) => phases.map((p) => `'${p}'`).join(', ');

/** The laptop's copy of every rollout step, per device (the device keeps its own copy in a state file). */
export class DeployHistory {
  constructor(private readonly db: Db) {}

  save(record: DeployRecord, spec: ServiceSpec): void {
    this.db
      .prepare(
        `INSERT INTO deploy_history (id, device_id, service, image, image_id, previous_image_id, phase, message, bytes_sent, spec, started_at, updated_at, previous_deploy_id, rollback_of)
         VALUES (@id, @deviceId, @service, @image, @imageId, @previousImageId, @phase, @message, @bytesSent, @spec, @startedAt, @updatedAt, @previousDeployId, @rollbackOf)
         ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, message = excluded.message, bytes_sent = excluded.bytes_sent,
           previous_image_id = excluded.previous_image_id, updated_at = excluded.updated_at,
           previous_deploy_id = excluded.previous_deploy_id, rollback_of = excluded.rollback_of`,
      )
      .run({ ...record, previousDeployId: record.previousDeployId ?? null, rollbackOf: record.rollbackOf ?? null, spec: JSON.stringify(spec) });
    this.db.prepare('INSERT INTO deploy_steps (deploy_id, at, phase, message) VALUES (?, ?, ?, ?)').run(record.id, record.updatedAt, record.phase, record.message);
  }

  list(deviceId?: string, limit = 100): DeployRecord[] {
    const rows = deviceId
      ? this.db.prepare('SELECT * FROM deploy_history WHERE device_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?').all(deviceId, limit)
      : this.db.prepare('SELECT * FROM deploy_history ORDER BY started_at DESC, rowid DESC LIMIT ?').all(limit);
    return (rows as Row[]).map(toRecord);
  }

  steps(deployId: string): Array<{ at: string; phase: string; message: string }> {
    return this.db.prepare('SELECT at, phase, message FROM deploy_steps WHERE deploy_id = ? ORDER BY rowid').all(deployId) as Array<{ at: string; phase: string; message: string }>;
  }

  get(deployId: string): HistoryEntry | undefined {
    const row = this.db.prepare('SELECT * FROM deploy_history WHERE id = ?').get(deployId) as Row | undefined;
    return row ? { record: toRecord(row), spec: JSON.parse(row.spec) as ServiceSpec } : undefined;
  }

  /** The newest completed deploy of a service and the spec it ran with. */
  lastDone(deviceId: string, service: string, skip = 0): HistoryEntry | undefined {
    const row = this.db
      .prepare(`SELECT * FROM deploy_history WHERE device_id = ? AND service = ? AND phase = 'done' ORDER BY started_at DESC, rowid DESC LIMIT 1 OFFSET ?`)
      .get(deviceId, service, skip) as Row | undefined;
    return row ? { record: toRecord(row), spec: JSON.parse(row.spec) as ServiceSpec } : undefined;
  }

  /**
   * The version that ran before `current` (by default the newest completed deploy): follow the chain, so
   * v1 → v2 → v3, rollback (v2), rollback (v1) walks back instead of flipping between the last two.
   * Records from before the chain was kept fall back to the previous image with the same settings.
   */
  rollbackTarget(deviceId: string, service: string, currentDeployId?: string): RollbackTarget | undefined {
    const current = (currentDeployId ? this.get(currentDeployId) : undefined) ?? this.lastDone(deviceId, service);
    if (!current) return undefined;
    const { record } = current;
    if (record.previousDeployId) {
      const target = this.get(record.previousDeployId);
      if (target) return { target, previousDeployId: target.record.previousDeployId };
    }
    // A rollback whose chain ends here has nothing earlier, even though an image ran before it.
    if (record.rollbackOf || !record.previousImageId) return undefined;
    const earlier = this.db
      .prepare(`SELECT * FROM deploy_history WHERE device_id = ? AND service = ? AND phase = 'done' AND image_id = ? AND id != ? ORDER BY started_at DESC, rowid DESC LIMIT 1`)
      .get(deviceId, service, record.previousImageId, record.id) as Row | undefined;
    if (earlier) return { target: { record: toRecord(earlier), spec: JSON.parse(earlier.spec) as ServiceSpec }, previousDeployId: earlier.previous_deploy_id };
    // Replaced something Outpost never deployed (or another laptop did): its image with the current settings.
    return { target: { record: { ...record, image: record.previousImageId, imageId: record.previousImageId }, spec: current.spec }, previousDeployId: null };
  }

  /** Each service's newest rollout that is not settled (interrupted: left for reconcile), per device. */
  unsettled(deviceId?: string): HistoryEntry[] {
    const rows = this.db
      .prepare(
        `SELECT h.* FROM deploy_history h
         WHERE (@deviceId IS NULL OR h.device_id = @deviceId) AND h.phase NOT IN (${sqlList(SETTLED_PHASES)})
           AND h.rowid = (SELECT g.rowid FROM deploy_history g WHERE g.device_id = h.device_id AND g.service = h.service ORDER BY g.started_at DESC, g.rowid DESC LIMIT 1)
         ORDER BY h.updated_at DESC`,
      )
      .all({ deviceId: deviceId ?? null }) as Row[];
    return rows.map((r) => ({ record: toRecord(r), spec: JSON.parse(r.spec) as ServiceSpec }));
  }

  /** Which devices last ran each image ID successfully. */
  devicesByImage(): Map<string, string[]> {
    const rows = this.db
      .prepare(
        `SELECT h.device_id, h.image_id FROM deploy_history h
         WHERE h.phase = 'done' AND h.started_at = (SELECT MAX(started_at) FROM deploy_history g WHERE g.device_id = h.device_id AND g.service = h.service AND g.phase = 'done')`,
      )
      .all() as Array<{ device_id: string; image_id: string }>;
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.image_id, [...new Set([...(out.get(r.image_id) ?? []), r.device_id])]);
    return out;
  }
}
