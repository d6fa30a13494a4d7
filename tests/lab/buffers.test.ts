import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device } from '../../shared/contract';
import { ndjsonSegment, produce, remaining, type Produced } from './buffers-fixtures';
import { startLab, type Lab } from './lab';
import { run } from './util';

// 1,000 segments across 5 streams on 3 real devices, drained over real OpenSSH into a real laptop store.
let lab: Lab;
let core: Core;
let api: Api;
let dataDir: string;
const devices: Device[] = [];
const produced: Produced[] = [];
const STREAMS = ['telemetry', 'logs', 'events', 'metrics', 'alarms'];

beforeAll(async () => {
  lab = await startLab({ devices: ['buf-a', 'buf-b', 'buf-c'].map((name) => ({ name })) });
  dataDir = mkdtempSync(join(tmpdir(), 'outpost-buffers-'));
  core = createCore({ dataDir, transport: 'in-process' });
  api = inProcessApi(core);
  for (const d of lab.devices) devices.push(core.devices.add({ name: d.name, host: d.ip }));
  let n = 0;
  for (let i = 0; i < 1000; i++) {
    const dev = lab.devices[i % 3]!;
    const stream = STREAMS[i % 5]!;
    // Sizes from 0 bytes to ~40 KiB; every other segment carries a producer .sha256 sidecar.
    const body = i % 97 === 0 ? Buffer.alloc(0) : ndjsonSegment(stream, i, 200 + ((i * 7919) % 40_000));
    produced.push(produce(dev, stream, `seg-${String(n++).padStart(6, '0')}.ndjson`, body, { sidecar: i % 2 === 0 }));
  }
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

const ssh = () => ({ identityFile: lab.clientKeyPath, acceptNewHostKey: true });

describe('flush: spool directories', () => {
  it('scans a device: streams, segments, bytes, oldest', async () => {
    const scan = await api.invoke('buffers:scan', { deviceId: devices[0]!.id, link: ssh() });
    const mine = produced.filter((p) => p.device === 'buf-a');
    expect(scan.streams.reduce((a, s) => a + s.segments, 0)).toBe(mine.length);
    expect(scan.streams.reduce((a, s) => a + s.bytes, 0)).toBe(mine.reduce((a, p) => a + p.bytes, 0));
    expect(scan.streams.every((s) => s.oldest !== null)).toBe(true);
    expect(scan.refused).toEqual([]);
  });

  it('drains 1,000 segments from 3 devices in parallel: every byte arrives, checksums match, devices end empty', async () => {
    const progress: number[] = [];
    const off = api.on('flush:progress', (p) => progress.push(p.bytesDone));
    const result = await api.invoke('buffers:flush', { devices: 'all', link: ssh(), concurrency: 3 });
    off();
    const total = result.devices.flatMap((d) => Object.values(d.streams)).reduce((a, s) => ({ segments: a.segments + s.segments, bytes: a.bytes + s.bytes }), { segments: 0, bytes: 0 });
    expect(total).toEqual({ segments: 1000, bytes: produced.reduce((a, p) => a + p.bytes, 0) });
    expect(progress.length).toBeGreaterThan(0);

    const { segments } = await api.invoke('store:list', { limit: 100_000 });
    expect(segments).toHaveLength(1000);
    const byKey = new Map(segments.map((s) => [`${s.deviceId}/${s.stream}/${s.segment}`, s]));
    for (const p of produced) {
      const dev = devices.find((d) => d.name === p.device)!;
      const stored = byKey.get(`${dev.id}/${p.stream}/${p.segment}`);
      expect(stored?.sha256).toBe(p.sha256);
      const blob = readFileSync(join(dataDir, 'buffers', 'segments', p.sha256));
      expect(createHash('sha256').update(blob).digest('hex')).toBe(p.sha256);
    }
    for (const d of lab.devices) expect(remaining(d)).toEqual([]);
    // Sidecars are acknowledged with their segment.
    for (const d of lab.devices) for (const s of STREAMS) expect(readdirSync(join(d.spoolDir, s, 'ready'))).toEqual([]);
  });

  it('flushing again finds nothing and stores nothing twice', async () => {
    const again = await api.invoke('buffers:flush', { devices: devices.map((d) => d.id), link: ssh() });
    for (const d of again.devices) for (const s of Object.values(d.streams)) expect(s.segments).toBe(0);
    expect((await api.invoke('store:list', { limit: 100_000 })).segments).toHaveLength(1000);
  });

  it('quarantines a corrupt or truncated segment, leaves it on the device, and refuses hostile names', async () => {
    const dev = lab.devices[0]!;
    const good = produce(dev, 'telemetry', 'seg-900000.ndjson', ndjsonSegment('telemetry', 1, 5000), { sidecar: true });
    const body = ndjsonSegment('telemetry', 2, 5000);
    produce(dev, 'telemetry', 'seg-900001.ndjson', body.subarray(0, 3000), { sidecar: createHash('sha256').update(body).digest('hex') });
    produce(dev, 'telemetry', 'seg-900002.ndjson', Buffer.from('x'), { sidecar: 'not-a-checksum' });
    const ready = join(dev.spoolDir, 'telemetry', 'ready');
    symlinkSync('/etc/passwd', join(ready, 'passwd-link'));
    expect((await run(['mkfifo', join(ready, 'fifo')])).code).toBe(0);
    writeFileSync(join(ready, '..sneaky'), 'x');
    writeFileSync(join(ready, 'new\nline'), 'x');
    mkdirSync(join(dev.spoolDir, 'bad stream', 'ready'), { recursive: true });
    writeFileSync(join(dev.spoolDir, 'bad stream', 'ready', 'seg'), 'x');
    symlinkSync('/etc', join(dev.spoolDir, 'etc-stream'));

    const result = await api.invoke('buffers:flush', { devices: [devices[0]!.id], link: ssh() });
    const r = result.devices[0]!;
    expect(r.streams.telemetry).toMatchObject({ segments: 1, quarantined: 2 });
    expect(r.quarantined.map((q) => q.segment).sort()).toEqual(['seg-900001.ndjson', 'seg-900002.ndjson']);
    const refused = r.refused.map((x) => x.path).join(' ');
    for (const name of ['passwd-link', 'fifo', '..sneaky', 'new\\nline', 'bad stream']) expect(refused).toContain(name);
    expect(remaining(dev).sort()).toEqual(['bad stream/seg', 'telemetry/..sneaky', 'telemetry/fifo', 'telemetry/new\nline', 'telemetry/passwd-link', 'telemetry/seg-900001.ndjson', 'telemetry/seg-900002.ndjson'].sort());
    expect(readdirSync(join(dataDir, 'buffers', 'quarantine'))).toHaveLength(2);
    const stored = (await api.invoke('store:list', { deviceId: devices[0]!.id, stream: 'telemetry', limit: 100_000 })).segments;
    expect(stored.some((s) => s.sha256 === good.sha256)).toBe(true);
    expect(readFileSync('/etc/passwd', 'utf8').length).toBeGreaterThan(0);
    expect(stored.some((s) => s.segment.includes('passwd'))).toBe(false);
  });
});

describe('flush: SQLite outbox', () => {
  it('reads rows in id order with the device sqlite3, stores them, and deletes exactly the flushed rows', async () => {
    const dev = lab.devices[1]!;
    const db = join(dev.libDir, 'outbox.db');
    const inserts = Array.from({ length: 12_000 }, (_, i) => `INSERT INTO outbox(ts, topic, payload) VALUES (${1_700_000_000 + i}, 'site/${i % 3}', '{"n":${i}}');`).join('\n');
    const made = await run(['sqlite3', db], { input: `CREATE TABLE outbox(id INTEGER PRIMARY KEY, ts, topic, payload);\nBEGIN;\n${inserts}\nINSERT INTO outbox(ts, topic, payload) VALUES (1, 'bin', X'00FF10');\nCOMMIT;\n` });
    expect(made.code).toBe(0);
    const scan = await api.invoke('buffers:scan', { deviceId: devices[1]!.id, link: ssh() });
    expect(scan.streams.find((s) => s.kind === 'outbox')?.segments).toBe(12_001);

    const result = await api.invoke('buffers:flush', { devices: [devices[1]!.id], link: ssh() });
    expect(result.devices[0]!.streams.outbox).toMatchObject({ segments: 3, duplicatesSkipped: 0 });
    const left = await run(['sqlite3', db, 'SELECT count(*) FROM outbox;']);
    expect(left.stdout.trim()).toBe('0');
    const pages = (await api.invoke('store:list', { stream: 'outbox', limit: 100 })).segments;
    expect(pages.map((p) => p.records)).toEqual([5000, 5000, 2001]);
    const rows = pages.flatMap((p) => readFileSync(join(dataDir, 'buffers', 'segments', p.sha256), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; topic: string; payloadHex?: string }));
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 12_001 }, (_, i) => i + 1));
    expect(rows.at(-1)).toMatchObject({ topic: 'bin', payloadHex: '00FF10' });
  });
});

describe('store', () => {
  it('browses, previews and exports', async () => {
    const list = await api.invoke('store:list', { deviceId: devices[2]!.id, stream: 'logs', limit: 5 });
    expect(list.segments).toHaveLength(5);
    const got = await api.invoke('store:get', { id: list.segments[1]!.id, previewLines: 3 });
    expect(got.preview.format).toBe('ndjson');
    expect(JSON.parse(got.preview.lines[0]!)).toMatchObject({ stream: 'logs' });
    const out = join(mkdtempSync(join(tmpdir(), 'outpost-export-')), 'x');
    const exported = await api.invoke('store:export', { deviceId: devices[2]!.id, stream: 'logs', dir: out, limit: 100_000 });
    const files = readdirSync(join(out, devices[2]!.id, 'logs'));
    expect(exported.files).toBe(files.length);
    expect(files.length).toBe(produced.filter((p) => p.device === 'buf-c' && p.stream === 'logs').length);
  });
});
