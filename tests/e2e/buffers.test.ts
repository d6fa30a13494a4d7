// Buffers through the UI against the real device lab: spool segments on two devices, reached over SSH with the lab
// client key; a scan, a refused unknown host key, a flush with progress and results, the laptop store, and a push
// to an HTTP upstream on loopback.
// Run: bash tests/lab/in-lab.sh npx vitest run --project e2e tests/e2e/buffers.test.ts
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLab, type Lab, type LabDevice } from '../lab/lab';
import { BuffersPage } from './pages/buffers-page';
import { openBrowserSession, type BrowserSession } from './pages/browser-session';
import { DevicesPage } from './pages/devices-page';

let lab: Lab;
let session: BrowserSession;
let devices: DevicesPage;
let buffers: BuffersPage;
let upstream: Server;
const received: string[] = [];

interface Seeded {
  stream: string;
  segment: string;
  bytes: number;
}

/** Writes `<spool>/<stream>/ready/<segment>` (+ a sha256sum-style sidecar) into a lab device's spool. */
function seed(dev: LabDevice, stream: string, segment: string, body: Buffer, sidecar = true): Seeded {
  const ready = join(dev.spoolDir, stream, 'ready');
  mkdirSync(ready, { recursive: true });
  writeFileSync(join(ready, segment), body);
  if (sidecar) writeFileSync(join(ready, `${segment}.sha256`), `${createHash('sha256').update(body).digest('hex')}  ${segment}\n`);
  return { stream, segment, bytes: body.length };
}

function ndjson(count: number, sensor: string): Buffer {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), sensor, celsius: 20 + (i % 17) / 10 }));
  return Buffer.from(`${lines.join('\n')}\n`);
}

const onA: Seeded[] = [];
const onB: Seeded[] = [];
const sum = (list: Seeded[], stream?: string) => list.filter((s) => !stream || s.stream === stream).reduce((n, s) => n + s.bytes, 0);

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'spool-a' }, { name: 'spool-b' }] });
  const a = lab.device('spool-a');
  const b = lab.device('spool-b');
  onA.push(seed(a, 'temps', 'seg-0001.ndjson', ndjson(4000, 'boiler-1')), seed(a, 'temps', 'seg-0002.ndjson', ndjson(2500, 'boiler-1')), seed(a, 'vibration', 'blk-0001.bin', randomBytes(3 * 1024 * 1024), false));
  onB.push(seed(b, 'temps', 'seg-0001.ndjson', ndjson(300, 'pump-7')));

  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));

  session = await openBrowserSession();
  devices = new DevicesPage(session.page);
  buffers = new BuffersPage(session.page);
});

afterAll(async () => {
  await session?.close();
  await new Promise((resolve) => upstream?.close(resolve));
  await lab?.teardown();
});

describe('Buffers view over the lab', () => {
  it('adds both devices by hand; only spool-a has its host key pinned', async () => {
    await devices.addDevice('spool-a', lab.device('spool-a').ip);
    await devices.addDevice('spool-b', lab.device('spool-b').ip);
    await session.api.invoke('trust:pin', { device: lab.device('spool-a').ip, fingerprint: lab.device('spool-a').hostKeyFingerprint });
  });

  it('scans with the lab key: counts and bytes per device, and an unknown host key refused on the row', async () => {
    await session.shell.goTo('buffers');
    await buffers.setIdentityFile(lab.clientKeyPath);
    await buffers.select(['spool-a', 'spool-b']);
    await buffers.scanSelected();
    const a = await buffers.waiting('spool-a');
    expect(a.segments).toBe(3);
    expect(a.bytes).toBe(sum(onA));
    expect(a.text).toContain('temps (spool) 2');
    expect(a.text).toContain('vibration (spool) 1');
    expect(await buffers.rowError('spool-b')).toContain('host-key-unknown');
    await session.screenshot('buffers-scan');

    await session.api.invoke('trust:pin', { device: lab.device('spool-b').ip, fingerprint: lab.device('spool-b').hostKeyFingerprint });
    await buffers.scanSelected();
    const b = await buffers.waiting('spool-b');
    expect(b.segments).toBe(1);
    expect(b.bytes).toBe(sum(onB));
  });

  it('shows live per-stream progress with bytes, rate and ETA while a slow link drains', async () => {
    // ~8 Mbit/s: the 3.4 MiB on spool-a take a few seconds, long enough to watch the bars move.
    await lab.device('spool-a').rateLimit(8000);
    await buffers.startFlush();
    const moving = await buffers.midFlight('spool-a');
    expect(moving).toMatch(/[\d.]+ (B|KiB|MiB) \/ [\d.]+ (KiB|MiB) · [\d.]+ (B|KiB|MiB)\/s · ETA (\d+ s|\d+ min \d+ s|—)/);
    await session.screenshot('buffers-flushing');
  });

  it('flushes both devices with per-stream progress and a result, and the spools are drained', async () => {
    const results = await buffers.flushResults();
    await lab.device('spool-a').rateLimit(null);
    expect(Number(await results.getAttribute('data-segments'))).toBe(4);
    expect(Number(await results.getAttribute('data-bytes'))).toBe(sum(onA) + sum(onB));
    expect(Number(await results.getAttribute('data-failed'))).toBe(0);
    expect(await results.getByTestId('flush-summary').textContent()).toContain('0 duplicates skipped · 0 quarantined');

    const bars = await buffers.streamProgress('spool-a');
    expect(bars.map((b) => b.label)).toEqual(['temps', 'vibration']);
    expect(bars.find((b) => b.label === 'temps')).toMatchObject({ done: sum(onA, 'temps'), total: sum(onA, 'temps') });
    expect(bars.find((b) => b.label === 'vibration')).toMatchObject({ done: sum(onA, 'vibration'), total: sum(onA, 'vibration') });
    expect(bars.every((b) => b.text.includes('done'))).toBe(true);
    expect(await buffers.row('spool-a').getByTestId('flush-progress-device').getAttribute('data-bytes-done')).toBe(String(sum(onA)));

    // The rows are re-scanned after the flush: nothing left waiting, and nothing left in the spools' ready dirs.
    // Each row re-scans on its own, so wait for both rather than assuming an order.
    await vi.waitFor(async () => expect((await buffers.waiting('spool-a')).segments).toBe(0), { timeout: 30_000 });
    await vi.waitFor(async () => expect((await buffers.waiting('spool-b')).segments).toBe(0), { timeout: 30_000 });
    expect(readdirSync(join(lab.device('spool-a').spoolDir, 'temps', 'ready'))).toEqual([]);
    expect(readdirSync(join(lab.device('spool-b').spoolDir, 'temps', 'ready'))).toEqual([]);
    await session.screenshot('buffers-flushed');
  });

  it('lists every flushed segment in the laptop store and previews NDJSON', async () => {
    await buffers.openTab('store');
    const stored = await buffers.storeSegments();
    expect(stored.map((s) => `${s.stream}/${s.segment}`).sort()).toEqual([...onA, ...onB].map((s) => `${s.stream}/${s.segment}`).sort());
    const preview = await buffers.preview('seg-0002.ndjson');
    expect(preview.format).toBe('ndjson');
    expect(preview.lines).toContain('"sensor":"boiler-1"');
    expect(await session.page.getByTestId('store-totals').textContent()).toContain('4 segments shown');
    await session.screenshot('buffers-store');
  });

  it('pushes the store upstream over HTTP and shows the queue as forwarded', async () => {
    await buffers.openTab('upstream');
    await session.page.getByTestId('upstream-url').fill(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/ingest`);
    await session.page.getByTestId('upstream-push').click();
    await vi.waitFor(async () => expect(Number((await session.page.getByTestId('upstream-count-forwarded').textContent())?.split(' ')[0])).toBeGreaterThanOrEqual(3), { timeout: 60_000 });
    expect(Number((await session.page.getByTestId('upstream-count-failed').textContent())?.split(' ')[0])).toBe(0);
    expect(received.join('')).toContain('pump-7');
    await session.screenshot('buffers-upstream');
  });

  it('prunes what went upstream from the store: a preview first, then the confirmed delete', async () => {
    await buffers.openTab('store');
    await session.page.getByTestId('store-row').first().waitFor({ timeout: 15_000 });
    const plan = await buffers.previewPrune();
    expect(plan).toMatchObject({ segments: 4, kept: 0, freed: sum(onA) + sum(onB) });
    expect(plan.summary).toContain('Deletes 4 segments');
    // Nothing is deleted by the preview.
    expect(await session.page.getByTestId('store-row').count()).toBe(4);
    await session.screenshot('buffers-prune-preview');
    await buffers.confirmPrune();
    await session.page.getByTestId('store-empty').waitFor({ timeout: 15_000 });
    expect(await session.page.getByTestId('store-quota-used').getAttribute('data-used')).toBe('0');
  });

  it('logged no page errors', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
