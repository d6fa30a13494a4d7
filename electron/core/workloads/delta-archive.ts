import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, renameSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { pack } from 'tar-stream';
import type { StoredImage } from './image-cache';

export interface DeltaArchive {
  path: string;
  sha256: string;
  size: number;
  layersSent: number;
  layerBytes: number;
}

const hex = (d: string) => d.replace(/^sha256:/, '');

/**
 * Writes a `docker save`-format archive holding the manifest, the config and only the layers marked as needed.
 * Entries carry fixed times and modes so the same image and layer set always give the same bytes: a re-run after a
 * dropped link names the same staged file on the device and continues where it stopped.
 */
export async function writeDeltaArchive(image: StoredImage, blobPath: (digest: string) => string, needed: readonly boolean[], outPath: string, repoTags: string[]): Promise<DeltaArchive> {
  const tar = pack();
  const hash = createHash('sha256');
  let size = 0;
  const tee = new PassThrough();
  tee.on('data', (b: Buffer) => {
    hash.update(b);
    size += b.length;
  });
  // Two devices may need the same delta at once: each writes its own temp file; the renames swap identical bytes.
  const tmp = `${outPath}.${randomUUID()}.partial`;
  const writing = pipeline(tar, tee, createWriteStream(tmp));
  const entry = (name: string, body: Buffer) =>
    new Promise<void>((resolve, reject) => tar.entry({ name, mtime: new Date(0), mode: 0o644, uid: 0, gid: 0 }, body, (err) => (err ? reject(err) : resolve())));
  const layerName = (digest: string) => `${hex(digest)}/layer.tar`;
  const manifest = [{ Config: `${hex(image.id)}.json`, RepoTags: repoTags, Layers: image.layers.map((l) => layerName(l.digest)) }];
  await entry('manifest.json', Buffer.from(JSON.stringify(manifest)));
  await entry(`${hex(image.id)}.json`, readFileSync(blobPath(image.id)));
  let layersSent = 0;
  let layerBytes = 0;
  for (const [i, layer] of image.layers.entries()) {
    if (!needed[i]) continue;
    const src = blobPath(layer.digest);
    const bytes = statSync(src).size;
    await new Promise<void>((resolve, reject) => {
      const sink = tar.entry({ name: layerName(layer.digest), size: bytes, mtime: new Date(0), mode: 0o644, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
      pipeline(createReadStream(src), sink).catch(reject);
    });
    layersSent++;
    layerBytes += bytes;
  }
  tar.finalize();
  await writing;
  renameSync(tmp, outPath);
  return { path: outPath, sha256: hash.digest('hex'), size, layersSent, layerBytes };
}
