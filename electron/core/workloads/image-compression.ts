import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { PROBE_MIN_BYTES, probeLink } from '../buffers/compression';
import type { SshConnection } from '../transport/ssh-connection';

/** Smaller archives cross any site link in well under a second: compressing them is not worth a decision. */
const MIN_ARCHIVE = 1024 * 1024;
const MIN_GAIN = 1.25;

export interface StagedPayload {
  path: string;
  sha256: string;
  size: number;
  /** gzip of the archive (docker and podman load take it as it is), or the archive itself. */
  encoding: 'gzip' | 'plain';
  /** Why, for the rollout's record. */
  reason: string;
}

/** gzip -1 of a file, written beside it under a temp name and renamed once whole; its sha256 and how long it took. */
async function gzipFile(path: string, out: string): Promise<{ sha256: string; size: number; seconds: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const t0 = performance.now();
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), createGzip({ level: 1, chunkSize: 256 * 1024 }), tap, createWriteStream(tmp));
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { sha256: hash.digest('hex'), size, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The staged image archive, gzipped on the laptop when that makes the whole staging faster: the link rate comes from
 * the device's standing flush measurement, else (for an archive worth it) from a measurement now; the archive is
 * compressed once, and sent compressed only if compressing plus sending fewer bytes beats sending it plain.
 */
export async function stagedPayload(
  conn: SshConnection,
  archive: { path: string; sha256: string; size: number },
  knownLinkBps: number | null,
  stallMs = 20_000,
): Promise<StagedPayload> {
  const plain = (reason: string): StagedPayload => ({ path: archive.path, sha256: archive.sha256, size: archive.size, encoding: 'plain', reason });
  if (archive.size < MIN_ARCHIVE) return plain('archive under 1 MiB');
  let linkBps = knownLinkBps;
  if (!linkBps && archive.size >= PROBE_MIN_BYTES) linkBps = await probeLink(conn, stallMs).catch(() => null);
  if (!linkBps) return plain(archive.size >= PROBE_MIN_BYTES ? 'the link rate could not be measured' : `link not measured (archive under ${PROBE_MIN_BYTES / 1024 / 1024} MiB)`);
  // Compressed once per archive content (named by the archive's sha256), the gzip's own sha256 kept beside it.
  const gzPath = join(dirname(archive.path), `${archive.sha256}.tar.gz`);
  // The compression's time counts even when the gzip is already made: it stands in for the device's gunzip in its
  // `load`, which this side cannot time (and a fast link must not get a gzip merely because one is lying around).
  let gz: { sha256: string; size: number; seconds: number } | null = null;
  const meta = `${gzPath}.json`;
  if (existsSync(gzPath) && existsSync(meta)) {
    try {
      const known = JSON.parse(readFileSync(meta, 'utf8')) as { sha256: string; seconds: number };
      gz = { sha256: known.sha256, size: statSync(gzPath).size, seconds: known.seconds };
    } catch {
      gz = null;
    }
  }
  if (!gz) {
    gz = await gzipFile(archive.path, gzPath);
    writeFileSync(meta, JSON.stringify({ sha256: gz.sha256, seconds: gz.seconds }));
  }
  const ratio = archive.size / gz.size;
  const plainSeconds = archive.size / linkBps;
  const gzSeconds = gz.seconds + gz.size / linkBps;
  const mbps = (linkBps / 1e6).toFixed(1);
  if (ratio >= MIN_GAIN && plainSeconds / gzSeconds >= MIN_GAIN) {
    return { path: gzPath, sha256: gz.sha256, size: gz.size, encoding: 'gzip', reason: `gzip ${ratio.toFixed(1)}x over a ${mbps} MB/s link` };
  }
  return plain(ratio < MIN_GAIN ? `the archive compresses only ${ratio.toFixed(2)}x` : `a ${mbps} MB/s link is faster than compressing first`);
}
