import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device } from '../../shared/contract';
import { held, produce, remaining, type Produced } from './buffers-fixtures';
import { startLab, type Lab } from './lab';

// Compression decided per device from measurements over the real link: telemetry NDJSON over a slow shaped link is
// gzipped on the device (and arrives intact, checksums verified), random bytes are not. One device, one lab.
let lab: Lab;
let core: Core;
let api: Api;
let dataDir: string;
let device: Device;
const link = () => ({ identityFile: lab.clientKeyPath, acceptNewHostKey: true });

/** Telemetry as devices spool it: one JSON record per line, repetitive keys, slowly moving values. */
function telemetry(index: number, bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = JSON.stringify({ ts: 1_764_500_000_000 + index * 100_000 + i * 250, site: 'pump-station-7', sensor: `temp-${i % 8}`, value: Number((20 + Math.sin(i / 50) * 3).toFixed(2)), unit: 'C', ok: true });
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

function fill(make: (i: number) => Buffer, count: number, stream: string): Produced[] {
  const dev = lab.device('cmp');
  return Array.from({ length: count }, (_, i) => produce(dev, stream, `seg-${String(i).padStart(4, '0')}.ndjson`, make(i), { sidecar: i % 2 === 0 }));
}

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'cmp' }] });
  dataDir = mkdtempSync(join(tmpdir(), 'outpost-compression-'));
  core = createCore({ dataDir, transport: 'in-process' });
  api = inProcessApi(core);
  device = core.devices.add({ name: 'cmp', host: lab.device('cmp').ip });
});

afterAll(async () => {
  await lab?.device('cmp').rateLimit(null);
  await core?.close();
  await lab?.teardown();
});

describe('flush compression', () => {
  it('gzips telemetry on the device over a slow link, records why, and every segment arrives verified', async () => {
    const produced = fill((i) => telemetry(i, 512 * 1024), 40, 'telemetry'); // 20 MiB
    await lab.device('cmp').rateLimit(20_000);
    const result = await api.invoke('buffers:flush', { devices: [device.id], link: link() });
    const flushed = result.devices[0]!;
    expect(flushed.quarantined).toEqual([]);
    expect(flushed.streams.telemetry).toMatchObject({ segments: 40, bytes: produced.reduce((n, p) => n + p.bytes, 0), quarantined: 0 });
    expect(remaining(lab.device('cmp'))).toEqual([]);
    const stored = new Map((await held(dataDir, device.id)).map((h) => [h.segment, h.sha256]));
    for (const p of produced) expect(stored.get(p.segment)).toBe(p.sha256);

    const decision = core.devices.get(device.id).ssh.compression;
    expect(decision, JSON.stringify(decision)).toMatchObject({ choice: 'gzip' });
    expect(decision!.ratio!).toBeGreaterThan(4);
    // Shaped at 20 Mbit/s: the measured link rate is of that order, not the veth's.
    expect(decision!.linkBps!).toBeLessThan(4e6);
    const shown = spawnSync(process.execPath, [resolve(__dirname, '../../bin/outpost.mjs'), 'devices', 'show', 'cmp'], { env: { ...process.env, OUTPOST_HOME: dataDir }, encoding: 'utf8' });
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/flush compression gzip on the device — link [\d.]+ MB\/s, device gzip/);
  });

  it('sends random bytes plain (they do not compress), without timing the link', async () => {
    await lab.device('cmp').rateLimit(null);
    const current = core.devices.get(device.id);
    const { compression: _old, ...ssh } = current.ssh;
    core.devices.save({ ...current, ssh }); // measure afresh, as on the next visit
    const produced = fill(() => randomBytes(1024 * 1024), 20, 'camera');
    const result = await api.invoke('buffers:flush', { devices: [device.id], link: link() });
    expect(result.devices[0]!.streams.camera).toMatchObject({ segments: 20, bytes: produced.reduce((n, p) => n + p.bytes, 0) });
    expect(core.devices.get(device.id).ssh.compression).toMatchObject({ choice: 'none', linkBps: null });
    expect(core.devices.get(device.id).ssh.compression!.reason).toMatch(/compresses only/);
  });
});
