// Helpers for the buffers lab tests: fill a lab device's spool from the host side (its spool dir is a bind mount),
// the way a producer does it (write in tmp/, rename into ready/, optional .sha256 sidecar).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabDevice } from './lab';

export interface Produced {
  device: string;
  stream: string;
  segment: string;
  sha256: string;
  bytes: number;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A throughput set: `segments` random segments with sidecars over 5 streams, put back into the spool on demand. */
export interface PristineSpool {
  /** Relative paths of the segments (no sidecars), in stream order. */
  rels: string[];
  /** (Re)places every segment and sidecar in its `ready/` dir: hard links, so a flush that deleted them costs nothing. */
  refill(): void;
  /** Removes the set and whatever of it is still in the spool. */
  remove(): void;
}

/**
 * Writes the set once beside the streams, on the device's own spool file system and outside any stream (a flush
 * never lists it), so each refill is hard links rather than copies.
 */
export function pristineSpool(dev: LabDevice, segments: number, segBytes: number, body: (index: number, bytes: number) => Buffer = (_, n) => randomBytes(n)): PristineSpool {
  const pristine = join(dev.spoolDir, '.pristine');
  mkdirSync(pristine);
  const files: Array<{ src: string; rel: string }> = [];
  for (let i = 0; i < segments; i++) {
    const name = `seg-${String(i).padStart(5, '0')}.bin`;
    const rel = `s${i % 5}/ready/${name}`;
    const bytes = body(i, segBytes);
    writeFileSync(join(pristine, String(i)), bytes);
    writeFileSync(join(pristine, `${i}.sha256`), `${sha256(bytes)}  ${name}\n`);
    files.push({ src: join(pristine, String(i)), rel }, { src: join(pristine, `${i}.sha256`), rel: `${rel}.sha256` });
  }
  return {
    rels: files.filter((f) => !f.rel.endsWith('.sha256')).map((f) => f.rel),
    refill() {
      for (const f of files) {
        const dst = join(dev.spoolDir, f.rel);
        mkdirSync(join(dst, '..'), { recursive: true });
        rmSync(dst, { force: true });
        linkSync(f.src, dst);
      }
    },
    remove() {
      for (const f of files) rmSync(join(dev.spoolDir, f.rel), { force: true });
      rmSync(pristine, { recursive: true, force: true });
    },
  };
}

/** NDJSON records (so upstream can split them) padded to roughly `bytes`. */
export function ndjsonSegment(stream: string, index: number, bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  let i = 0;
  while (size < bytes) {
    const line = JSON.stringify({ stream, segment: index, record: i++, v: randomBytes(24).toString('hex') });
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

export function produce(dev: LabDevice, stream: string, segment: string, body: Buffer, opts: { sidecar?: boolean | string } = {}): Produced {
  const tmp = join(dev.spoolDir, stream, 'tmp');
  const ready = join(dev.spoolDir, stream, 'ready');
  mkdirSync(tmp, { recursive: true });
  mkdirSync(ready, { recursive: true });
  const hash = sha256(body);
  writeFileSync(join(tmp, segment), body);
  if (opts.sidecar) writeFileSync(join(ready, `${segment}.sha256`), `${typeof opts.sidecar === 'string' ? opts.sidecar : hash}  ${segment}\n`);
  renameSync(join(tmp, segment), join(ready, segment));
  return { device: dev.name, stream, segment, sha256: hash, bytes: body.length };
}

/** Segments still in a device's ready/ dirs (sidecars excluded). */
export function remaining(dev: LabDevice): string[] {
  const out: string[] = [];
  if (!existsSync(dev.spoolDir)) return out;
  for (const stream of readdirSync(dev.spoolDir)) {
    const ready = join(dev.spoolDir, stream, 'ready');
    if (!existsSync(ready)) continue;
    for (const name of readdirSync(ready)) if (!name.endsWith('.sha256')) out.push(`${stream}/${name}`);
  }
  return out;
}

/** What the laptop store at `dataDir` holds durably: (stream/segment → sha256s), read with a separate connection. */
export async function held(dataDir: string, deviceId?: string): Promise<Array<{ stream: string; segment: string; sha256: string }>> {
  const { default: Database } = await import('better-sqlite3');
  // A flush killed during start-up may not have created the store yet: it then holds nothing.
  if (!existsSync(join(dataDir, 'outpost.db'))) return [];
  const db = new Database(join(dataDir, 'outpost.db'), { readonly: true, fileMustExist: true });
  try {
    const sql = `SELECT stream, segment, sha256 FROM buffer_segments${deviceId ? ' WHERE device_id = ?' : ''}`;
    return (deviceId ? db.prepare(sql).all(deviceId) : db.prepare(sql).all()) as Array<{ stream: string; segment: string; sha256: string }>;
  } finally {
    db.close();
  }
}

/**
 * The zero-loss invariant: every produced segment that is gone from the device is held by the laptop — indexed
 * with the right checksum and its blob on disk — and nothing is indexed twice. Returns how many are held.
 */
export async function assertNothingLost(dev: LabDevice, producedHere: Produced[], dataDir: string): Promise<number> {
  const rows = await held(dataDir);
  const keys = rows.map((r) => `${r.stream}/${r.segment}/${r.sha256}`);
  if (new Set(keys).size !== keys.length) throw new Error('a segment is indexed twice');
  const index = new Set(keys);
  const onDevice = new Set(remaining(dev));
  let count = 0;
  for (const p of producedHere) {
    const isHeld = index.has(`${p.stream}/${p.segment}/${p.sha256}`);
    if (isHeld) {
      count++;
      const blob = join(dataDir, 'buffers', 'segments', p.sha256);
      if (!existsSync(blob) || sha256(readFileSync(blob)) !== p.sha256) throw new Error(`indexed ${p.stream}/${p.segment} but its blob is missing or wrong`);
    }
    if (!onDevice.has(`${p.stream}/${p.segment}`) && !isHeld) throw new Error(`LOST: ${p.stream}/${p.segment} left the device but the laptop does not hold it`);
  }
  return count;
}
