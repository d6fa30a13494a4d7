import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { SshConnection } from '../transport/ssh-connection';
import { stagedPayload } from './image-compression';

const noLink = {} as SshConnection; // never dialled: every case below knows its link rate or is too small to measure

function archive(body: Buffer) {
  const path = join(mkdtempSync(join(tmpdir(), 'outpost-imgz-')), 'a.tar');
  writeFileSync(path, body);
  return { path, size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

/** A layer of text-like files (configs, scripts, JSON): compresses several times. */
const texty = (bytes: number) => Buffer.from(Array.from({ length: Math.ceil(bytes / 64) }, (_, i) => `export SETTING_${i % 500}="value-${i % 37}" # managed by the site image\n`).join('')).subarray(0, bytes);

describe('staged image archive compression', () => {
  it('gzips a compressible archive for a slow link; the staged file is the gzip of the archive, named by its own sha256', async () => {
    const a = archive(texty(4 * 1024 * 1024));
    const p = await stagedPayload(noLink, a, 1.2e6);
    expect(p.encoding).toBe('gzip');
    expect(p.reason).toMatch(/^gzip [\d.]+x over a 1\.2 MB\/s link$/);
    const gz = readFileSync(p.path);
    expect(gunzipSync(gz).equals(readFileSync(a.path))).toBe(true);
    expect(p.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
    expect(p.size).toBe(gz.length);
    // Made once: a second rollout of the same archive reuses it.
    expect((await stagedPayload(noLink, a, 1.2e6)).path).toBe(p.path);
    // A gzip lying around does not make a fast link's rollout compressed (its time stands for the device's gunzip).
    expect((await stagedPayload(noLink, a, 5e9)).encoding).toBe('plain');
  });

  it('sends plain what does not compress, over a fast link, small archives, and when the link rate is unknown', async () => {
    expect((await stagedPayload(noLink, archive(randomBytes(2 * 1024 * 1024)), 1.2e6)).reason).toMatch(/compresses only/);
    expect((await stagedPayload(noLink, archive(texty(2 * 1024 * 1024)), 5e9)).reason).toMatch(/faster than compressing first/);
    expect((await stagedPayload(noLink, archive(texty(512 * 1024)), 1.2e6)).reason).toBe('archive under 1 MiB');
    const plain = await stagedPayload(noLink, archive(texty(2 * 1024 * 1024)), null);
    expect(plain).toMatchObject({ encoding: 'plain', reason: 'link not measured (archive under 16 MiB)' });
  });
});
