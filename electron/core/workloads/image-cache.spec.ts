import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ImageCache } from './image-cache';
import { writeDeltaArchive } from './delta-archive';
import { readArchive } from './archive-reader';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.slice(7);

type Entry = { header: Partial<Header> & { name: string }; body?: Buffer };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => {
    p.on('end', () => r());
  });
  for (const e of entries) {
    if (e.body) p.entry(e.header as Header, e.body);
    else p.entry(e.header as Header);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A tiny two-layer image as `docker save` lays it out. */
async function saveArchiveEntries(opts: { tag?: string; top?: string; gzipTop?: boolean } = {}) {
  const base = await tarOf([{ header: { name: 'bin/base' }, body: Buffer.from('base layer') }]);
  const topRaw = await tarOf([{ header: { name: 'app' }, body: Buffer.from(opts.top ?? 'v1') }]);
  const top = opts.gzipTop ? gzipSync(topRaw) : topRaw;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(base), sha(topRaw)] } }));
  const layers = [`${hex(sha(base))}/layer.tar`, `${hex(sha(top))}/layer.tar`];
  const manifest = Buffer.from(JSON.stringify([{ Config: `${hex(sha(config))}.json`, RepoTags: [opts.tag ?? 'app:1'], Layers: layers }]));
  const entries: Entry[] = [
    { header: { name: 'manifest.json' }, body: manifest },
    { header: { name: `${hex(sha(config))}.json` }, body: config },
    { header: { name: layers[0]! }, body: base },
    { header: { name: layers[1]! }, body: top },
  ];
  return { entries, id: sha(config), topSize: top.length };
}

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-images-'));
  return { dir, cache: new ImageCache(dir, { maxEntryBytes: 1024 * 1024, maxTotalBytes: 8 * 1024 * 1024, maxEntries: 100 }) };
}

async function archiveFile(dir: string, entries: Entry[], name = 'in.tar'): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, await tarOf(entries));
  return path;
}

async function importError(entries: Entry[]): Promise<{ kind?: string; message: string }> {
  const { dir, cache } = fresh();
  const err = await cache.import(await archiveFile(dir, entries)).then(() => undefined, (e: unknown) => e as { kind?: string; message: string });
  if (!err) throw new Error('import succeeded');
  expect(cache.list()).toEqual([]);
  return err;
}

describe('image cache', () => {
  it('a cancelled import stops mid-read with kind cancelled and keeps nothing (no image, no blob, no spooled file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-images-'));
    const cache = new ImageCache(dir, { maxEntryBytes: 256 * 1024 * 1024, maxTotalBytes: 512 * 1024 * 1024, maxEntries: 100 });
    const { entries } = await saveArchiveEntries();
    // 48 MiB the reader must get through before the image's own entries.
    const path = await archiveFile(dir, [{ header: { name: 'filler.bin' }, body: Buffer.alloc(48 * 1024 * 1024, 7) }, ...entries]);
    const controller = new AbortController();
    const seen: number[] = [];
    const err = await cache
      .import(path, {
        signal: controller.signal,
        progress: (done, total) => {
          seen.push(done);
          if (done > 0 && done < total) controller.abort();
        },
      })
      .then(() => undefined, (e: unknown) => e as { kind?: string });
    expect(err?.kind).toBe('cancelled');
    expect(Math.max(...seen)).toBeLessThan(48 * 1024 * 1024);
    expect(cache.list()).toEqual([]);
    expect(readdirSync(join(cache.root, 'blobs', 'sha256'))).toEqual([]);
    expect(readdirSync(join(cache.root, 'tmp'))).toEqual([]);
    // The same file imports whole without a cancel.
    expect(await cache.import(path)).toHaveLength(1);
  });

  it('imports a docker save archive, content-addressed, and finds it by tag and ID prefix', async () => {
    const { dir, cache } = fresh();
    const { entries, id } = await saveArchiveEntries({ gzipTop: true });
    const [img] = await cache.import(await archiveFile(dir, entries));
    expect(img?.id).toBe(id);
    expect(img?.layers.map((l) => l.compressed)).toEqual([false, true]);
    expect(cache.find('app:1')?.id).toBe(id);
    expect(cache.find(hex(id).slice(0, 8))?.id).toBe(id);
    expect(await cache.verify()).toEqual([{ id, ok: true, problems: [] }]);
    writeFileSync(cache.blobPath(img!.layers[0]!.digest), 'tampered');
    expect((await cache.verify())[0]?.problems[0]).toMatch(/corrupt/);
  });

  it('imports an OCI image layout archive', async () => {
    const { dir, cache } = fresh();
    const layer = await tarOf([{ header: { name: 'x' }, body: Buffer.from('oci') }]);
    const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: sha(config), size: config.length }, layers: [{ digest: sha(layer), size: layer.length, mediaType: 'application/vnd.oci.image.layer.v1.tar' }] }));
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: sha(manifest), size: manifest.length, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { 'io.containerd.image.name': 'oci/app:3' } }] }));
    const blob = (b: Buffer): Entry => ({ header: { name: `blobs/sha256/${hex(sha(b))}` }, body: b });
    const path = await archiveFile(dir, [{ header: { name: 'oci-layout' }, body: Buffer.from('{"imageLayoutVersion":"1.0.0"}') }, { header: { name: 'index.json' }, body: index }, blob(manifest), blob(config), blob(layer)]);
    const [img] = await cache.import(path);
    expect(img?.repoTags).toEqual(['oci/app:3']);
    expect(img?.id).toBe(sha(config));
  });

  it('removes an image and frees only blobs nobody else uses', async () => {
    const { dir, cache } = fresh();
    await cache.import(await archiveFile(dir, (await saveArchiveEntries({ tag: 'app:1', top: 'v1' })).entries, 'a.tar'));
    await cache.import(await archiveFile(dir, (await saveArchiveEntries({ tag: 'app:2', top: 'v2' })).entries, 'b.tar'));
    const out = cache.remove('app:1');
    expect(out.removed).toHaveLength(1);
    expect(await cache.verify('app:2')).toMatchObject([{ ok: true }]);
  });

  it('rejects path traversal and absolute names', async () => {
    const { entries } = await saveArchiveEntries();
    expect(await importError([...entries, { header: { name: '../evil' }, body: Buffer.from('x') }])).toMatchObject({ kind: 'invalid-input', message: expect.stringMatching(/climbs out/) });
    expect(await importError([...entries, { header: { name: '/etc/cron.d/evil' }, body: Buffer.from('x') }])).toMatchObject({ kind: 'invalid-input', message: expect.stringMatching(/absolute/) });
  });

  it('rejects links pointing out of the archive', async () => {
    const { entries } = await saveArchiveEntries();
    const out = await importError([...entries, { header: { name: 'abc/layer.tar', type: 'symlink', linkname: '../../etc/passwd' } }]);
    expect(out).toMatchObject({ kind: 'invalid-input', message: expect.stringMatching(/points out of the archive/) });
    const abs = await importError([...entries, { header: { name: 'abc/layer.tar', type: 'symlink', linkname: '/etc/passwd' } }]);
    expect(abs.message).toMatch(/absolute/);
  });

  it('rejects duplicate and oversized entries, and device nodes', async () => {
    const { entries } = await saveArchiveEntries();
    expect((await importError([...entries, entries[1]!])).message).toMatch(/twice/);
    expect((await importError([...entries, { header: { name: 'big' }, body: Buffer.alloc(1024 * 1024 + 1) }])).message).toMatch(/over the .*limit/);
    expect((await importError([...entries, { header: { name: 'dev', type: 'character-device' } }])).kind).toBe('invalid-input');
  });

  it('rejects layers and configs whose bytes do not match their digests (kind integrity)', async () => {
    const { entries } = await saveArchiveEntries();
    const swapped = entries.map((e, i) => (i === 3 ? { ...e, body: Buffer.concat([e.body!, Buffer.alloc(512)]) } : e));
    expect(await importError(swapped)).toMatchObject({ kind: 'integrity', message: expect.stringMatching(/does not match/) });
    const badConfig = entries.map((e, i) => (i === 1 ? { ...e, body: Buffer.from(e.body!.toString().replace('amd64', 'arm64')) } : e));
    expect((await importError(badConfig)).kind).toBe('integrity');
  });

  it('writes a deterministic delta archive holding only the needed layers', async () => {
    const { dir, cache } = fresh();
    const { entries, topSize } = await saveArchiveEntries();
    const [img] = await cache.import(await archiveFile(dir, entries));
    const a = await writeDeltaArchive(img!, (d) => cache.blobPath(d), [false, true], join(dir, 'a.tar'), ['app:1']);
    const b = await writeDeltaArchive(img!, (d) => cache.blobPath(d), [false, true], join(dir, 'b.tar'), ['app:1']);
    expect(a.sha256).toBe(b.sha256);
    expect(a.layerBytes).toBe(topSize);
    const work = mkdtempSync(join(tmpdir(), 'outpost-delta-'));
    const contents = await readArchive(a.path, work);
    expect([...contents.files.keys()].sort()).toEqual(['manifest.json', `${hex(img!.id)}.json`, `${hex(img!.layers[1]!.digest)}/layer.tar`].sort());
    expect(JSON.parse(readFileSync(contents.files.get('manifest.json')!.tmpPath, 'utf8'))[0].Layers).toHaveLength(2);
  });
});
