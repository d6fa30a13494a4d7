import { statSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { OutpostError } from '../../../shared/errors';
import type { Engine } from '../engines/registry';
import { chainIds, missingLayers } from './chain-id';
import { writeDeltaArchive } from './delta-archive';
import type { ImageCache, StoredImage } from './image-cache';
import { stagedPayload } from './image-compression';
import { loadStaged, stageFile, type Progress } from './staging';

/** Every layer chain the device's engine already holds, from its images' RootFS diff IDs. */
export async function deviceChains(docker: Docker): Promise<Set<string>> {
  const chains = new Set<string>();
  const images = await docker.listImages({ all: true });
  for (const summary of images) {
    const info = await docker.getImage(summary.Id).inspect();
    for (const chain of chainIds(info.RootFS?.Layers ?? [])) chains.add(chain);
  }
  return chains;
}

export interface LayerPlan {
  needed: boolean[];
  layersToSend: number;
  bytesToSend: number;
  alreadyPresent: boolean;
}

export async function planLayers(docker: Docker, image: StoredImage): Promise<LayerPlan> {
  const present = await docker
    .getImage(image.id)
    .inspect()
    .then(() => true, () => false);
  const needed = present ? image.layers.map(() => false) : missingLayers(image.layers.map((l) => l.diffId), await deviceChains(docker));
  const bytesToSend = image.layers.reduce((n, l, i) => n + (needed[i] ? l.size : 0), 0);
  return { needed, layersToSend: needed.filter(Boolean).length, bytesToSend, alreadyPresent: present };
}

export interface TransferResult {
  imageId: string;
  bytesSent: number;
  archiveBytes: number;
  layersSent: number;
  resumedFrom: number;
  skipped: boolean;
  /** Said to the technician with the rollout, e.g. that the whole image was sent after Podman refused a partial one. */
  note?: string;
}

/** Engines (device, product, version) that refused a partial archive in this process: later transfers send whole images. */
const refusesPartial = new Set<string>();

/**
 * Puts a cached image on a device: only the layers it lacks, staged resumably on the device, loaded there, and the
 * resulting image ID checked against the cache's.
 */
export async function transferImage(
  engine: Engine,
  cache: ImageCache,
  image: StoredImage,
  tag: string,
  onProgress: (phase: 'building' | 'staging' | 'loading' | 'verifying', p: Progress) => void,
  /** The device's link rate as last measured (its flush compression decision), if it still holds. */
  linkBps: number | null = null,
  /** Cancels the staging at once (what reached the device stays staged; a re-run resumes it). */
  signal?: AbortSignal,
): Promise<TransferResult> {
  const plan = await planLayers(engine.docker, image);
  if (plan.alreadyPresent) {
    await engine.docker.getImage(image.id).tag(splitTag(tag));
    return { imageId: image.id, bytesSent: 0, archiveBytes: 0, layersSent: 0, resumedFrom: 0, skipped: true };
  }
  const send = async (needed: boolean[]) => {
    onProgress('building', { bytesSent: 0, bytesTotal: image.layers.reduce((n, l, i) => n + (needed[i] ? l.size : 0), 0), bytesPerSecond: 0, etaSeconds: null });
    const key = `${image.id.slice(7, 23)}-${needed.map((n) => (n ? 1 : 0)).join('')}`;
    const out = join(cache.root, 'outgoing', `${key}.tar`);
    const archive = await writeDeltaArchive(image, (d) => cache.blobPath(d), needed, out, [tag]);
    // gzip only where it makes staging faster (image-compression.ts); the device's load takes either.
    const payload = await stagedPayload(engine.ssh, { path: archive.path, size: statSync(archive.path).size, sha256: archive.sha256 }, linkBps);
    const staged = await stageFile(engine.ssh, payload, (p) => onProgress('staging', p), { signal });
    onProgress('loading', { bytesSent: payload.size, bytesTotal: payload.size, bytesPerSecond: 0, etaSeconds: null });
    if (payload.encoding === 'gzip') compressed = `staged ${payload.reason}`;
    return { archive, staged };
  };
  let compressed: string | undefined;
  const refusal = `${engine.deviceId}\u0000${engine.found.product}\u0000${engine.found.version ?? ''}`;
  const wholeOnly = refusesPartial.has(refusal);
  let { archive, staged } = await send(wholeOnly ? image.layers.map(() => true) : plan.needed);
  let note: string | undefined = wholeOnly && plan.needed.some((n) => !n) ? `this Podman refused a partial archive earlier, so the whole image was sent` : undefined;
  try {
    await loadStaged(engine.ssh, staged.remotePath, engine.found);
  } catch (err) {
    const partial = !wholeOnly && plan.needed.some((n) => !n);
    if (!partial || engine.found.product !== 'podman' || !(err instanceof OutpostError) || err.kind !== 'engine-http') throw err;
    refusesPartial.add(refusal);
    // Podman may refuse an archive that leaves out the layers it already has: send the whole image instead.
    // Its answer is several lines (one per format it tried); the first says why.
    const why = err.message.split('\n')[0]!.replace(/^.*?failed to load image: /, '').replace(/:\s*$/, '').slice(0, 200);
    note = `Podman refused the partial archive (${why}); sent the whole image instead`;
    const first = staged.bytesSent;
    ({ archive, staged } = await send(image.layers.map(() => true)));
    staged = { ...staged, bytesSent: staged.bytesSent + first };
    await loadStaged(engine.ssh, staged.remotePath, engine.found);
  }
  onProgress('verifying', { bytesSent: archive.size, bytesTotal: archive.size, bytesPerSecond: 0, etaSeconds: null });
  const loaded = await engine.docker
    .getImage(tag)
    .inspect()
    .catch(() => undefined);
  if (loaded?.Id !== image.id) throw new OutpostError('integrity', `${engine.deviceName}: after the load, ${tag} is ${loaded?.Id ?? 'missing'}, expected ${image.id}`);
  note = [note, compressed].filter(Boolean).join('; ') || undefined;
  return { imageId: image.id, bytesSent: staged.bytesSent, archiveBytes: archive.size, layersSent: archive.layersSent, resumedFrom: staged.resumedFrom, skipped: false, note };
}

export function splitTag(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon > 0 && !ref.slice(colon).includes('/')) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}
