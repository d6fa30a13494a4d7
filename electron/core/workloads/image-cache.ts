import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CachedImage } from '../../../shared/contract/workloads';
import { OutpostError } from '../../../shared/errors';
import { DEFAULT_LIMITS, hashFile, readArchive, type ArchiveLimits, type ReadRun } from './archive-reader';
import { imagesIn } from './image-formats';

export type StoredImage = Omit<CachedImage, 'devices'>;

const hex = (digest: string) => digest.replace(/^sha256:/, '');

/**
 * The laptop's offline image cache under `$OUTPOST_HOME/images/`: blobs stored once by digest
 * (`blobs/sha256/<hex>`), one small record per image (`index/<id hex>.json`). Nothing is trusted on import.
 */
export class ImageCache {
  readonly root: string;

  constructor(
    dataDir: string,
    private readonly limits: ArchiveLimits = DEFAULT_LIMITS,
  ) {
    this.root = join(dataDir, 'images');
    for (const d of ['blobs/sha256', 'index', 'tmp', 'outgoing']) mkdirSync(join(this.root, d), { recursive: true });
  }

  blobPath(digest: string): string {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new OutpostError('invalid-input', `not a sha256 digest: ${digest}`);
    return join(this.root, 'blobs', 'sha256', hex(digest));
  }

  /** Imports every image of a `docker save` archive or OCI layout archive; nothing is kept unless all of it checks out. */
  async import(path: string, run: ReadRun = {}): Promise<StoredImage[]> {
    if (!existsSync(path)) throw new OutpostError('not-found', `no such file: ${path}`);
    const work = join(this.root, 'tmp', randomUUID());
    mkdirSync(work, { recursive: true });
    try {
      const contents = await readArchive(path, work, this.limits, run);
      const images = await imagesIn(contents);
      // The last safe point: from here the blobs move into the cache and the records are written.
      if (run.signal?.aborted) throw new OutpostError('cancelled', `the import of ${path} was cancelled; nothing was kept`);
      if (images.length === 0) throw new OutpostError('invalid-input', `${path} holds no images`);
      const stored: StoredImage[] = [];
      for (const img of images) {
        const keep = (file: { tmpPath: string; sha256: string }) => {
          const dest = this.blobPath(file.sha256);
          if (!existsSync(dest)) renameSync(file.tmpPath, dest);
        };
        keep(img.config);
        for (const layer of img.layers) keep(layer.file);
        const previous = this.find(img.id);
        const record: StoredImage = {
          id: img.id,
          repoTags: [...new Set([...(previous?.repoTags ?? []), ...img.repoTags])],
          layers: img.layers.map((l) => ({ digest: l.file.sha256, diffId: l.diffId, size: l.file.size, compressed: l.compressed })),
          size: img.layers.reduce((n, l) => n + l.file.size, img.config.size),
          importedAt: new Date().toISOString(),
          source: path,
        };
        // A tag names one image: move it off whichever image held it before.
        for (const other of this.list()) {
          if (other.id !== record.id && other.repoTags.some((t) => record.repoTags.includes(t))) {
            this.write({ ...other, repoTags: other.repoTags.filter((t) => !record.repoTags.includes(t)) });
          }
        }
        this.write(record);
        stored.push(record);
      }
      return stored;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  private write(record: StoredImage): void {
    const file = join(this.root, 'index', `${hex(record.id)}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  list(): StoredImage[] {
    const dir = join(this.root, 'index');
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as StoredImage)
      .sort((a, b) => a.importedAt.localeCompare(b.importedAt));
  }

  /** By tag (`app:2`, `app` meaning `app:latest`), full ID, or an ID prefix of at least 6 hex digits. */
  find(ref: string): StoredImage | undefined {
    const all = this.list();
    const tag = ref.includes(':') && !ref.startsWith('sha256:') ? ref : `${ref}:latest`;
    const byTag = all.find((i) => i.repoTags.includes(tag) || i.repoTags.includes(ref));
    if (byTag) return byTag;
    const h = hex(ref);
    if (/^[a-f0-9]{6,64}$/.test(h)) {
      const matches = all.filter((i) => hex(i.id).startsWith(h));
      if (matches.length > 1) throw new OutpostError('conflict', `${ref} matches ${matches.length} cached images; give more of the ID`);
      return matches[0];
    }
    return undefined;
  }

  get(ref: string): StoredImage {
    const found = this.find(ref);
    if (!found) throw new OutpostError('not-found', `image ${ref} is not in the laptop's cache; import it with \`outpost images import <file>\``);
    return found;
  }

  /** Re-hashes every blob of the chosen images (all by default). */
  async verify(ref?: string): Promise<Array<{ id: string; ok: boolean; problems: string[] }>> {
    const images = ref ? [this.get(ref)] : this.list();
    const out = [];
    for (const img of images) {
      const problems: string[] = [];
      for (const digest of [img.id, ...img.layers.map((l) => l.digest)]) {
        const path = this.blobPath(digest);
        if (!existsSync(path)) problems.push(`blob ${digest} is missing`);
        else if ((await hashFile(path)) !== digest) problems.push(`blob ${digest} is corrupt`);
      }
      out.push({ id: img.id, ok: problems.length === 0, problems });
    }
    return out;
  }

  /** Removes an image record and every blob no other image uses. */
  remove(ref: string): { removed: string[]; blobsFreed: number } {
    const img = this.get(ref);
    rmSync(join(this.root, 'index', `${hex(img.id)}.json`), { force: true });
    const stillUsed = new Set(this.list().flatMap((i) => [i.id, ...i.layers.map((l) => l.digest)]));
    let freed = 0;
    for (const digest of [img.id, ...img.layers.map((l) => l.digest)]) {
      if (stillUsed.has(digest)) continue;
      const path = this.blobPath(digest);
      if (existsSync(path)) {
        freed += statSync(path).size;
        rmSync(path, { force: true });
      }
    }
    return { removed: [img.id], blobsFreed: freed };
  }
}
