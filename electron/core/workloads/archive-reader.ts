import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { posix, join } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { OutpostError } from '../../../shared/errors';

export interface ArchiveLimits {
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxEntries: number;
}

/** A cancel, and progress in bytes of the archive file read so far. */
export interface ReadRun {
  signal?: AbortSignal;
  progress?: (done: number, total: number) => void;
}

export const DEFAULT_LIMITS: ArchiveLimits = { maxEntryBytes: 16 * 1024 ** 3, maxTotalBytes: 64 * 1024 ** 3, maxEntries: 20_000 };

export interface ArchiveFile {
  /** Where the entry's bytes were spooled on the laptop. */
  tmpPath: string;
  sha256: string;
  size: number;
}

/** Every regular file of an archive, spooled and hashed, plus in-archive links resolved to their targets. */
export interface ArchiveContents {
  files: Map<string, ArchiveFile>;
  links: Map<string, string>;
}

const bad = (message: string, details?: Record<string, unknown>) => new OutpostError('invalid-input', message, details);

/** An entry name as a safe relative path, or an error: archives from users are untrusted. */
export function safeEntryName(raw: string): string {
  if (raw.includes('\0') || raw.includes('\\')) throw bad(`archive entry ${JSON.stringify(raw)} has a NUL or backslash in its name`);
  if (raw.startsWith('/')) throw bad(`archive entry ${JSON.stringify(raw)} has an absolute path`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw bad(`archive entry ${JSON.stringify(raw)} climbs out of the archive (..)`);
  if (parts.length === 0) return '';
  return parts.join('/');
}

/** A link target resolved inside the archive; `fromDir` is the link's own directory for symlinks, '' for hard links. */
export function safeLinkTarget(entry: string, target: string, fromDir: string): string {
  if (target.startsWith('/')) throw bad(`archive link ${JSON.stringify(entry)} points at an absolute path ${JSON.stringify(target)}`);
  const resolved = posix.normalize(posix.join(fromDir, target));
  if (resolved === '..' || resolved.startsWith('../') || resolved === '.') throw bad(`archive link ${JSON.stringify(entry)} points out of the archive (${JSON.stringify(target)})`);
  return resolved;
}

function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

export function fileIsGzip(path: string): boolean {
  return isGzip(path);
}

/** sha256 of a file's bytes, or of its gunzipped bytes (a layer's diff ID). */
export async function hashFile(path: string, opts: { gunzip?: boolean } = {}): Promise<string> {
  const hash = createHash('sha256');
  const sink = new PassThrough();
  sink.on('data', (b: Buffer) => hash.update(b));
  if (opts.gunzip) await pipeline(createReadStream(path), createGunzip(), sink);
  else await pipeline(createReadStream(path), sink);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Reads a tar (optionally gzipped) into `workDir`, rejecting what an honest image archive never holds:
 * traversal, links out of the archive, duplicate names, device nodes, and entries over the limits.
 */
export async function readArchive(path: string, workDir: string, limits: ArchiveLimits = DEFAULT_LIMITS, run: ReadRun = {}): Promise<ArchiveContents> {
  const files = new Map<string, ArchiveFile>();
  const links = new Map<string, string>();
  const seen = new Set<string>();
  let total = 0;
  let count = 0;
  const fileSize = statSync(path).size;
  let read = 0;
  const raw = createReadStream(path);
  raw.on('data', (b: Buffer | string) => {
    read += b.length;
    run.progress?.(read, fileSize);
  });
  const source: Readable = isGzip(path) ? raw.pipe(createGunzip()) : raw;
  // A cancel ends the read; the caller removes what was spooled (nothing is kept from a partial import).
  const onAbort = () => source.destroy(new OutpostError('cancelled', `the import of ${path} was cancelled; nothing was kept`));
  if (run.signal?.aborted) onAbort();
  run.signal?.addEventListener('abort', onAbort, { once: true });
  const tar = extract();
  const feeding = pipeline(source, tar).catch((err: Error) => {
    tar.destroy(err);
  });
  try {
    for await (const entry of tar) {
      const h = entry.header;
      if (++count > limits.maxEntries) throw bad(`archive has more than ${limits.maxEntries} entries`);
      const name = safeEntryName(h.name);
      if (name && seen.has(name) && h.type !== 'directory') throw bad(`archive holds ${JSON.stringify(name)} twice`);
      if (name) seen.add(name);
      if (h.type === 'directory' || !name) {
        entry.resume();
        continue;
      }
      if (h.type === 'symlink') {
        links.set(name, safeLinkTarget(name, h.linkname ?? '', posix.dirname(name) === '.' ? '' : posix.dirname(name)));
        entry.resume();
        continue;
      }
      if (h.type === 'link') {
        links.set(name, safeLinkTarget(name, h.linkname ?? '', ''));
        entry.resume();
        continue;
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file') throw bad(`archive entry ${JSON.stringify(name)} is a ${h.type ?? 'special file'}, not a file`);
      const size = h.size ?? 0;
      if (size > limits.maxEntryBytes) throw bad(`archive entry ${JSON.stringify(name)} is ${size} bytes, over the ${limits.maxEntryBytes}-byte limit`);
      total += size;
      if (total > limits.maxTotalBytes) throw bad(`archive unpacks to more than ${limits.maxTotalBytes} bytes`);
      const tmpPath = join(workDir, `entry-${count}`);
      const hash = createHash('sha256');
      let written = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          if (written > size) return cb(bad(`archive entry ${JSON.stringify(name)} is longer than its header says`));
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(entry, hashing, createWriteStream(tmpPath));
      files.set(name, { tmpPath, sha256: `sha256:${hash.digest('hex')}`, size: written });
    }
  } catch (err) {
    source.destroy();
    if (run.signal?.aborted) throw new OutpostError('cancelled', `the import of ${path} was cancelled; nothing was kept`);
    if (err instanceof OutpostError) throw err;
    throw bad(`${path} is not a readable tar archive: ${(err as Error).message}`);
  } finally {
    run.signal?.removeEventListener('abort', onAbort);
  }
  await feeding;
  if (run.signal?.aborted) throw new OutpostError('cancelled', `the import of ${path} was cancelled; nothing was kept`);
  return { files, links };
}

/** Follows in-archive links (bounded, so a link loop cannot hang the import) to the file that holds the bytes. */
export function resolveEntry(contents: ArchiveContents, name: string): ArchiveFile {
  let current = safeEntryName(name);
  for (let hops = 0; hops < 16; hops++) {
    const file = contents.files.get(current);
    if (file) return file;
    const next = contents.links.get(current);
    if (next === undefined) throw bad(`archive manifest names ${JSON.stringify(name)}, which the archive does not hold`);
    current = next;
  }
  throw bad(`archive link chain at ${JSON.stringify(name)} loops`);
}
