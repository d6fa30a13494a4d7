import type { DeployRecord, RolloutPhase, ServiceSpec } from '../../../shared/contract/workloads';
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
  };
}

/** The laptop's copy of every rollout step, per device (the device keeps its own copy in a state file). */
export class DeployHistory {
  constructor(private readonly db: Db) {}

  save(record: DeployRecord, spec: ServiceSpec): void {
    this.db
      .prepare(
        `INSERT INTO deploy_history (id, device_id, service, image, image_id, previous_image_id, phase, message, bytes_sent, spec, started_at, updated_at)
         VALUES (@id, @deviceId, @service, @image, @imageId, @previousImageId, @phase, @message, @bytesSent, @spec, @startedAt, @updatedAt)
         ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, message = excluded.message, bytes_sent = excluded.bytes_sent,
           previous_image_id = excluded.previous_image_id, updated_at = excluded.updated_at`,
      )
      .run({ ...record, spec: JSON.stringify(spec) });
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

  /** The newest completed deploy of a service and the spec it ran with. */
  lastDone(deviceId: string, service: string, skip = 0): { record: DeployRecord; spec: ServiceSpec } | undefined {
    const row = this.db
      .prepare(`SELECT * FROM deploy_history WHERE device_id = ? AND service = ? AND phase = 'done' ORDER BY started_at DESC, rowid DESC LIMIT 1 OFFSET ?`)
      .get(deviceId, service, skip) as Row | undefined;
    return row ? { record: toRecord(row), spec: JSON.parse(row.spec) as ServiceSpec } : undefined;
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
