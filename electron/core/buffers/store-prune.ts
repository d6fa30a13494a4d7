import type Database from 'better-sqlite3';
import { unlinkSync } from 'node:fs';
import type { PruneGroup, PruneResult } from '../../../shared/contract/buffers';

export interface PruneSelection {
  deviceId?: string;
  stream?: string;
  olderThanSeconds?: number;
  allForwarded?: boolean;
  force?: boolean;
  dryRun?: boolean;
}

/** A segment counts as safe to drop once some upstream target acknowledged all of it, or it was exported. */
const SAFE = `(s.exported_at IS NOT NULL OR EXISTS (SELECT 1 FROM upstream_cursors c WHERE c.segment_id = s.id AND c.done = 1))`;

/**
 * Deletes stored segments: the index rows (and their upstream cursors) in one write transaction, whose
 * `buffer_segments_usage_delete` trigger keeps the quota's running total exact, then each blob no row refers to any
 * more. Unless forced, only segments forwarded upstream or exported go; the rest of the selection is reported kept.
 *
 * Blobs are unlinked after the commit, each re-checked under the write lock: a flush in another process that
 * indexed the same content in between keeps it. A crash between the two leaves only orphan blobs, which the next
 * flush sweeps (SegmentStore.sweepOrphans).
 */
export function pruneSegments(db: Database.Database, blobPath: (sha256: string) => string, sel: PruneSelection, now = Date.now()): Omit<PruneResult, 'usedBytes' | 'quotaBytes'> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    where.push(clause);
    params.push(value);
  };
  if (sel.deviceId !== undefined) add('s.device_id = ?', sel.deviceId);
  if (sel.stream !== undefined) add('s.stream = ?', sel.stream);
  if (sel.olderThanSeconds !== undefined) add('s.stored_at < ?', new Date(now - sel.olderThanSeconds * 1000).toISOString());
  if (sel.allForwarded) where.push(SAFE);
  const selected = where.length ? where.join(' AND ') : '1';

  const plan = () => {
    db.exec('CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY); DELETE FROM temp.prune_ids;');
    db.prepare(`INSERT INTO temp.prune_ids (id) SELECT s.id FROM buffer_segments s WHERE ${selected}${sel.force ? '' : ` AND ${SAFE}`}`).run(...params);
    const groups = db
      .prepare(
        `SELECT s.device_id AS deviceId, s.stream AS stream,
           SUM(p.id IS NOT NULL) AS segments, COALESCE(SUM(CASE WHEN p.id IS NOT NULL THEN s.bytes END), 0) AS bytes,
           SUM(p.id IS NULL) AS keptSegments, COALESCE(SUM(CASE WHEN p.id IS NULL THEN s.bytes END), 0) AS keptBytes
         FROM buffer_segments s LEFT JOIN temp.prune_ids p ON p.id = s.id
         WHERE ${selected} GROUP BY s.device_id, s.stream ORDER BY s.device_id, s.stream`,
      )
      .all(...params) as PruneGroup[];
    // Content goes only when no segment outside the selection holds the same bytes.
    const freed = db
      .prepare(
        `SELECT s.sha256 AS sha256, MAX(s.bytes) AS bytes FROM buffer_segments s JOIN temp.prune_ids p ON p.id = s.id GROUP BY s.sha256
         HAVING NOT EXISTS (SELECT 1 FROM buffer_segments o WHERE o.sha256 = s.sha256 AND o.id NOT IN (SELECT id FROM temp.prune_ids))`,
      )
      .all() as Array<{ sha256: string; bytes: number }>;
    return { groups, freed };
  };

  const apply = () => {
    const p = plan();
    if (!sel.dryRun) {
      db.exec(`DELETE FROM upstream_cursors WHERE segment_id IN (SELECT id FROM temp.prune_ids);
               DELETE FROM buffer_segments WHERE id IN (SELECT id FROM temp.prune_ids);`);
    }
    db.exec('DELETE FROM temp.prune_ids');
    return p;
  };
  const { groups, freed } = sel.dryRun ? db.transaction(apply).deferred() : db.transaction(apply).immediate();

  if (!sel.dryRun && freed.length) {
    const stillHeld = db.prepare('SELECT 1 FROM buffer_segments WHERE sha256 = ? LIMIT 1');
    db.transaction(() => {
      for (const f of freed) {
        if (stillHeld.get(f.sha256)) continue;
        try {
          unlinkSync(blobPath(f.sha256));
        } catch (err) {
          if ((err as { code?: string }).code !== 'ENOENT') throw err;
        }
      }
    }).immediate();
  }

  const sum = (pick: (g: PruneGroup) => number) => groups.reduce((a, g) => a + pick(g), 0);
  return {
    dryRun: Boolean(sel.dryRun),
    segments: sum((g) => g.segments),
    bytes: sum((g) => g.bytes),
    freedBytes: freed.reduce((a, f) => a + f.bytes, 0),
    keptSegments: sum((g) => g.keptSegments),
    keptBytes: sum((g) => g.keptBytes),
    groups,
  };
}
