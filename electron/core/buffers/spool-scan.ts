import { OutpostError } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';
import { failIfNonZero, runBounded } from './device-ops';
import { CAT_FILES, HASH_FILES, SCAN_SPOOL, argBatches, shArgv } from './remote-scripts';
import { SizedSplitter } from './sized-splitter';
import { parseListing, type SpoolEntry, type SpoolListing } from './spool-names';

export interface SizedEntry extends SpoolEntry {
  size: number;
  mtime: string;
  /** Size of the producer's `<segment>.sha256`; null when there is none. -1 when it vanished before it was sized. */
  sidecarBytes: number | null;
}

export interface SpoolScan {
  listing: SpoolListing;
  entries: SizedEntry[];
}

/** Sidecars are a line of text; anything bigger is not a sidecar and makes its segment's checksum unusable. */
export const MAX_SIDECAR = 4096;

/**
 * Where the listing ends: the index just past the NUL that closes its `stat` section (the third empty-record
 * boundary), or -1 while it is incomplete. In a flush session the transfer stream follows right after.
 */
export function listingEnd(out: Buffer): number {
  let start = 0;
  let gaps = 0;
  for (let i = out.indexOf(0); i >= 0; i = out.indexOf(0, start)) {
    if (gaps === 2) return i + 1; // the stat text holds no NUL: this one closes it
    if (i === start) gaps++;
    start = i + 1;
  }
  return -1;
}

/** Parses a complete listing: validated names (spool-names.ts), their sizes and mtimes, sidecar sizes. */
export function parseScan(root: string, out: Buffer): SpoolScan {
  const end = listingEnd(out);
  if (end < 0) throw new OutpostError('protocol', `the listing of ${root} from the device was cut short`);
  let start = 0;
  let gaps = 0;
  let statsFrom = 0;
  for (let i = out.indexOf(0); gaps < 2; i = out.indexOf(0, start)) {
    if (i === start) gaps++;
    start = i + 1;
    statsFrom = start;
  }
  const stats = new Map<string, { size: number; mtime: number }>();
  for (const line of out.subarray(statsFrom, end - 1).toString('utf8').split('\n')) {
    const m = /^(\d+) (\d+) \.\/(\S+)$/.exec(line);
    if (m?.[3]) stats.set(m[3], { size: Number(m[1]), mtime: Number(m[2]) });
  }
  const listing = parseListing(root, out.subarray(0, statsFrom - 1));
  const entries: SizedEntry[] = [];
  for (const s of listing.segments) {
    const st = stats.get(s.rel);
    if (!st) continue; // vanished since the listing
    const sidecarBytes = listing.sidecars.has(`${s.stream}/${s.segment}`) ? (stats.get(`${s.rel}.sha256`)?.size ?? -1) : null;
    entries.push({ ...s, size: st.size, mtime: new Date(st.mtime * 1000).toISOString(), sidecarBytes });
  }
  return { listing, entries };
}

/** Lists one spool root on the device with ONE exec (names, sizes, sidecar sizes); null when the directory is absent. */
export async function scanSpool(conn: SshConnection, root: string, timeoutMs: number): Promise<SpoolScan | null> {
  const res = await runBounded(conn, shArgv(SCAN_SPOOL, 'outpost-scan', [root]), timeoutMs, `listing ${root}`);
  if (res.code === 3) return null;
  failIfNonZero(res, `listing ${root}`);
  return parseScan(root, res.stdout);
}

/** The checksum in a sidecar's text (`<64 hex>  <name>`), or 'malformed'. */
export function sidecarChecksum(text: string): string {
  const sum = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return /^[0-9a-f]{64}$/.test(sum) ? sum : 'malformed';
}

/**
 * Reads the sidecars of a few segments with one `cat` per batch, split with their measured sizes (only used for
 * segments the laptop may already hold; during a transfer sidecars travel in the stream beside their segment).
 */
export async function readSidecars(conn: SshConnection, root: string, entries: SizedEntry[], timeoutMs: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const readable = entries.filter((e) => e.sidecarBytes !== null && e.sidecarBytes >= 0 && e.sidecarBytes <= MAX_SIDECAR);
  for (const e of entries) if (!readable.includes(e) && e.sidecarBytes !== null) out.set(e.rel, 'malformed');
  for (const batch of argBatches(readable.map((e) => e.rel), 60_000, 1000)) {
    const names = new Set(batch);
    const files = readable.filter((e) => names.has(e.rel));
    const res = await runBounded(conn, shArgv(CAT_FILES, 'outpost-cat', [root, ...files.map((e) => `${e.rel}.sha256`)]), timeoutMs, 'reading checksum files');
    const splitter = new SizedSplitter(files.map((e) => e.sidecarBytes ?? 0));
    const parts: Buffer[][] = files.map(() => []);
    for (const ev of splitter.push(res.stdout)) if (ev.type === 'data') parts[ev.index]?.push(ev.chunk);
    // A failed read leaves these sidecars unusable; their segments are then quarantined rather than trusted.
    files.forEach((e, i) => out.set(e.rel, splitter.done ? sidecarChecksum(Buffer.concat(parts[i] ?? []).toString('utf8')) : 'malformed'));
  }
  return out;
}

/** sha256 computed on the device for segments without a producer checksum (one process per batch). */
export async function deviceHashes(conn: SshConnection, root: string, rels: string[], timeoutMs: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const batch of argBatches(rels, 60_000, 1000)) {
    const res = await runBounded(conn, shArgv(HASH_FILES, 'outpost-hash', [root, ...batch]), timeoutMs, 'checksumming segments on the device');
    for (const line of res.stdout.toString('utf8').split('\n')) {
      const m = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
      if (m?.[1] && m[2]) out.set(m[2], m[1]);
    }
  }
  return out;
}
