import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPRESS_PROBE, DECISION_TTL_MS, LOOK_PROBE_BYTES, decideCompression, parseCompressProbe, parseLookProbe, standingDecision } from './compression';

const MB = 1e6;

describe('flush compression decision', () => {
  it('compresses NDJSON over a 100 Mbit/s link when the device gzips faster than the link', () => {
    // A Pi 4: gzip -1 ~40 MB/s on NDJSON at ~6x; the link ~11.5 MB/s of payload.
    const d = decideCompression({ linkBps: 11.5 * MB, compressBps: 40 * MB, ratio: 6 });
    expect(d.choice).toBe('gzip');
    expect(d.reason).toMatch(/3\.5x faster compressed/);
  });

  it('sends plain over 1 GbE when the device cannot gzip as fast as the link carries plain bytes', () => {
    const d = decideCompression({ linkBps: 110 * MB, compressBps: 40 * MB, ratio: 6 });
    expect(d.choice).toBe('none');
    expect(d.reason).toMatch(/about as fast as the device compresses/);
  });

  it('sends plain when the data barely compresses, whatever the link', () => {
    expect(decideCompression({ linkBps: 1 * MB, compressBps: 50 * MB, ratio: 1.05 }).choice).toBe('none');
    expect(decideCompression({ linkBps: 1 * MB, compressBps: 50 * MB, ratio: 1.05 }).reason).toMatch(/compresses only 1\.05x/);
  });

  it('sends plain for a device without gzip, or when the link could not be measured', () => {
    expect(decideCompression({ linkBps: 1 * MB, compressBps: null, ratio: null }).reason).toBe('the device has no gzip');
    expect(decideCompression({ linkBps: null, compressBps: 50 * MB, ratio: 5 }).choice).toBe('none');
  });

  it('wants a clear gain: a marginal one (gzip only just faster than the link) stays plain', () => {
    expect(decideCompression({ linkBps: 30 * MB, compressBps: 33 * MB, ratio: 4 }).choice).toBe('none');
    expect(decideCompression({ linkBps: 30 * MB, compressBps: 40 * MB, ratio: 4 }).choice).toBe('gzip');
  });

  it('keeps a decision for a while, then measures again', () => {
    const now = new Date('2026-11-30T12:00:00Z');
    const d = decideCompression({ linkBps: 11 * MB, compressBps: 40 * MB, ratio: 6 }, now);
    expect(standingDecision(d, new Date(now.getTime() + 60_000))).toEqual(d);
    expect(standingDecision(d, new Date(now.getTime() + DECISION_TTL_MS + 1))).toBeNull();
    expect(standingDecision(undefined, now)).toBeNull();
    // A clock that went backwards (a laptop set right after a night at 1970) does not keep an old decision forever.
    expect(standingDecision(d, new Date(now.getTime() - 60_000))).toBeNull();
  });
});

describe('the device gzip probe', () => {
  it('reads compressed size and /proc/uptime stamps into a rate and a ratio', () => {
    const r = parseCompressProbe('699051 1234.50 1234.60\n', 4_194_304);
    expect(r?.compressBps).toBeCloseTo(41_943_040, -2);
    expect(r?.ratio).toBeCloseTo(6, 1);
  });

  it('counts a sample done within one 10 ms tick as 10 ms (never infinitely fast)', () => {
    expect(parseCompressProbe('1000 10.00 10.00', 4_000_000)?.compressBps).toBe(400_000_000);
  });

  it('rejects what is not an answer', () => {
    expect(parseCompressProbe('nogzip\n', 1000)).toBeNull();
    expect(parseCompressProbe('', 1000)).toBeNull();
    expect(parseCompressProbe('0 1.00 2.00', 1000)).toBeNull();
  });
});

const shells: string[][] = [['sh'], ...(existsSync('/usr/bin/busybox') || existsSync('/bin/busybox') ? [['busybox', 'sh']] : [])];
describe.each(shells)('COMPRESS_PROBE under %s', (...shell) => {
  const probe = (body: Buffer): string => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-gzprobe-'));
    try {
      writeFileSync(join(dir, 'a'), body.subarray(0, body.length / 2));
      writeFileSync(join(dir, 'b'), body.subarray(body.length / 2));
      const r = spawnSync(shell[0]!, [...shell.slice(1), '-c', COMPRESS_PROBE, 'outpost-gzip-probe', dir, String(body.length), String(LOOK_PROBE_BYTES), 'a', 'b'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return r.stdout;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('stops after the first look when the data does not compress (no timed run of the whole sample)', () => {
    const out = probe(randomBytes(1024 * 1024));
    expect(out).toMatch(/^look \d+\n$/);
    const ratio = parseLookProbe(out, LOOK_PROBE_BYTES);
    expect(ratio).toBeLessThan(1.01);
    expect(decideCompression({ linkBps: null, compressBps: null, ratio }).reason).toMatch(/compresses only 1\.00x/);
  });

  it('times the whole sample when the first look compresses', () => {
    const ndjson = Buffer.from(Array.from({ length: 30_000 }, (_, i) => `{"t":${i},"temp":21.5,"site":"north"}\n`).join(''));
    const out = probe(ndjson);
    expect(parseLookProbe(out, LOOK_PROBE_BYTES)).toBeNull();
    expect(parseCompressProbe(out, ndjson.length)?.ratio).toBeGreaterThan(5);
  });
});
