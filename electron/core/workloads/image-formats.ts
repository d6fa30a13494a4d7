import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OutpostError } from '../../../shared/errors';
import { fileIsGzip, hashFile, resolveEntry, type ArchiveContents, type ArchiveFile } from './archive-reader';

const MAX_JSON_BYTES = 4 * 1024 * 1024;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** One image found in an archive, every byte checked against its digest. */
export interface ArchiveImage {
  id: string;
  repoTags: string[];
  config: ArchiveFile;
  layers: Array<{ file: ArchiveFile; diffId: string; compressed: boolean }>;
}

const SaveManifest = z.array(z.object({ Config: z.string(), RepoTags: z.array(z.string()).nullable().optional(), Layers: z.array(z.string()) }));
const ImageConfig = z.object({ rootfs: z.object({ type: z.string(), diff_ids: z.array(z.string().regex(DIGEST)) }) });
const Descriptor = z.object({
  mediaType: z.string().optional(),
  digest: z.string().regex(DIGEST),
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
});
const OciIndex = z.object({ manifests: z.array(Descriptor) });
const OciManifest = z.object({ config: Descriptor, layers: z.array(Descriptor) });

const integrity = (message: string) => new OutpostError('integrity', message);

function readJson<T>(file: ArchiveFile, what: string, schema: z.ZodType<T>): T {
  if (file.size > MAX_JSON_BYTES) throw new OutpostError('invalid-input', `${what} is ${file.size} bytes; a real one is far smaller`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file.tmpPath, 'utf8'));
  } catch (err) {
    throw new OutpostError('invalid-input', `${what} is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new OutpostError('invalid-input', `${what} is not a valid image document: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** A name that embeds a digest (`<hex>.json`, `blobs/sha256/<hex>`) must hold exactly those bytes. */
function checkNamedDigest(name: string, file: ArchiveFile): void {
  const m = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(name);
  if (m && `sha256:${m[1]}` !== file.sha256) throw integrity(`archive entry ${name} does not match its digest (holds ${file.sha256})`);
}

async function checkLayer(file: ArchiveFile, name: string, diffId: string): Promise<{ file: ArchiveFile; diffId: string; compressed: boolean }> {
  const compressed = fileIsGzip(file.tmpPath);
  const actual = compressed ? await hashFile(file.tmpPath, { gunzip: true }) : file.sha256;
  if (actual !== diffId) throw integrity(`layer ${name} does not match the image config (diff ID ${diffId}, content ${actual})`);
  return { file, diffId, compressed };
}

async function fromSaveManifest(contents: ArchiveContents, manifestFile: ArchiveFile): Promise<ArchiveImage[]> {
  const manifest = readJson(manifestFile, 'manifest.json', SaveManifest);
  const images: ArchiveImage[] = [];
  for (const entry of manifest) {
    const config = resolveEntry(contents, entry.Config);
    checkNamedDigest(entry.Config, config);
    const diffIds = readJson(config, `image config ${entry.Config}`, ImageConfig).rootfs.diff_ids;
    if (diffIds.length !== entry.Layers.length) throw new OutpostError('invalid-input', `manifest.json lists ${entry.Layers.length} layers but the config has ${diffIds.length}`);
    const layers = [];
    for (const [i, layerName] of entry.Layers.entries()) {
      const file = resolveEntry(contents, layerName);
      checkNamedDigest(layerName, file);
      layers.push(await checkLayer(file, layerName, diffIds[i] as string));
    }
    images.push({ id: config.sha256, repoTags: entry.RepoTags ?? [], config, layers });
  }
  return images;
}

function blob(contents: ArchiveContents, d: z.infer<typeof Descriptor>): ArchiveFile {
  const name = `blobs/sha256/${d.digest.slice(7)}`;
  const file = resolveEntry(contents, name);
  if (file.sha256 !== d.digest) throw integrity(`blob ${d.digest} holds different bytes (${file.sha256})`);
  if (file.size !== d.size) throw integrity(`blob ${d.digest} is ${file.size} bytes, its descriptor says ${d.size}`);
  return file;
}

async function fromOciLayout(contents: ArchiveContents, indexFile: ArchiveFile): Promise<ArchiveImage[]> {
  const index = readJson(indexFile, 'index.json', OciIndex);
  const images: ArchiveImage[] = [];
  for (const desc of index.manifests) {
    if (desc.mediaType?.includes('index') || desc.mediaType?.includes('manifest.list')) {
      throw new OutpostError('unsupported', `archive holds a multi-platform index (${desc.digest}); export one platform, e.g. docker save --platform`);
    }
    const manifest = readJson(blob(contents, desc), `manifest ${desc.digest}`, OciManifest);
    const config = blob(contents, manifest.config);
    const diffIds = readJson(config, `image config ${manifest.config.digest}`, ImageConfig).rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) throw new OutpostError('invalid-input', `manifest ${desc.digest} lists ${manifest.layers.length} layers but the config has ${diffIds.length}`);
    const layers = [];
    for (const [i, layer] of manifest.layers.entries()) {
      if (layer.mediaType?.includes('zstd')) throw new OutpostError('unsupported', `layer ${layer.digest} is zstd-compressed; dockerd 20.10 cannot load it`);
      layers.push(await checkLayer(blob(contents, layer), layer.digest, diffIds[i] as string));
    }
    const tag = desc.annotations?.['io.containerd.image.name'] ?? desc.annotations?.['org.opencontainers.image.ref.name'];
    images.push({ id: config.sha256, repoTags: tag && tag.includes(':') ? [tag] : [], config, layers });
  }
  return images;
}

/** Recognises `docker save` archives (manifest.json) and OCI image layouts (index.json + oci-layout). */
export async function imagesIn(contents: ArchiveContents): Promise<ArchiveImage[]> {
  const manifest = contents.files.get('manifest.json');
  if (manifest) return fromSaveManifest(contents, manifest);
  const index = contents.files.get('index.json');
  if (index && contents.files.has('oci-layout')) return fromOciLayout(contents, index);
  throw new OutpostError('invalid-input', 'archive is neither a docker save archive (manifest.json) nor an OCI image layout (index.json + oci-layout)');
}
