import type { BufferConfig, OutboxSpec } from '../../../shared/contract/buffers';
import type { Db } from '../store/database';

export const DEFAULT_SPOOL = '/var/spool/outpost';
export const DEFAULT_OUTBOX: OutboxSpec = { file: '/var/lib/outpost/outbox.db', table: 'outbox' };

/** Per-device buffer locations; a device never configured uses the auto-detected defaults. */
export class BufferConfigs {
  constructor(private readonly db: Db) {}

  get(deviceId: string): BufferConfig {
    const row = this.db.prepare(`SELECT spools, outboxes, ack FROM buffer_configs WHERE device_id = ?`).get(deviceId) as
      | { spools: string; outboxes: string; ack: 'delete' | 'move' }
      | undefined;
    if (!row) return { deviceId, spools: [DEFAULT_SPOOL], outboxes: [DEFAULT_OUTBOX], ack: 'delete', defaults: true };
    return { deviceId, spools: JSON.parse(row.spools) as string[], outboxes: JSON.parse(row.outboxes) as OutboxSpec[], ack: row.ack, defaults: false };
  }

  set(deviceId: string, change: { spools?: string[]; outboxes?: OutboxSpec[]; ack?: 'delete' | 'move'; reset?: boolean }): BufferConfig {
    // Nothing to change: a read, which leaves a device on the defaults (it does not freeze them as its own).
    if (!change.reset && change.spools === undefined && change.outboxes === undefined && change.ack === undefined) return this.get(deviceId);
    if (change.reset) this.db.prepare(`DELETE FROM buffer_configs WHERE device_id = ?`).run(deviceId);
    const current = this.get(deviceId);
    const next = {
      spools: change.spools ?? current.spools,
      outboxes: change.outboxes ?? current.outboxes,
      ack: change.ack ?? current.ack,
    };
    if (change.reset && change.spools === undefined && change.outboxes === undefined && change.ack === undefined) return this.get(deviceId);
    this.db
      .prepare(`INSERT INTO buffer_configs (device_id, spools, outboxes, ack) VALUES (?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET spools = excluded.spools, outboxes = excluded.outboxes, ack = excluded.ack`)
      .run(deviceId, JSON.stringify(next.spools), JSON.stringify(next.outboxes), next.ack);
    return this.get(deviceId);
  }
}

/** Outbox rows land in a stream named after their table (`outbox` for the default table). */
export function outboxStream(spec: OutboxSpec): string {
  return spec.table === 'outbox' ? 'outbox' : `outbox.${spec.table}`;
}
