// Store management, online status, cancel and the per-device lock, against real devices, a real mosquitto and real
// CLI processes sharing one $OUTPOST_HOME. One lab for the whole file.
// Run: OUTPOST_LAB_ID=<id> bash tests/lab/in-lab.sh npx vitest run --project lab tests/lab/ops.test.ts
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import { GROUP_SEGMENTS } from '../../electron/core/buffers/spool-flush';
import type { Api, EventName, PayloadOf } from '../../shared/contract';
import { assertNothingLost, ndjsonSegment, produce, remaining, type Produced } from './buffers-fixtures';
import { startLab, waitFor, type Lab, type LabDevice } from './lab';
import { mosquitto } from './mosquitto';
import { run } from './util';

let lab: Lab;
const broker = mosquitto(() => ['allow_anonymous true']);

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'ops-a' }, { name: 'ops-b' }] });
  await broker.start();
});

const cores: Core[] = [];
afterAll(async () => {
  for (const core of cores) await core.close();
  await broker.stop();
  await lab?.teardown();
});

/** The real CLI, as a technician runs it, on one data dir. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CLI output is asserted field by field below
type Json = any;
async function outpost(home: string, ...args: string[]): Promise<{ code: number; json: Json; stderr: string }> {
  const r = await run([process.execPath, 'bin/outpost.mjs', ...args, '--json'], { env: { ...process.env, OUTPOST_HOME: home }, timeoutMs: 120_000 });
  let json: unknown = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`outpost ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

describe('store prune (CLI)', () => {
  it('deletes only what went upstream unless forced, previews first, and keeps the quota total exact', async () => {
    const dev = lab.device('ops-a');
    const home = mkdtempSync(join(tmpdir(), 'outpost-prune-'));
    const ssh = ['--identity', lab.clientKeyPath, '--yes'];
    const sent: Produced[] = [];
    for (let i = 0; i < 6; i++) sent.push(produce(dev, 'telemetry', `t-${i}.ndjson`, ndjsonSegment('telemetry', i, 20_000), { sidecar: true }));
    expect((await outpost(home, 'flush', dev.ip, ...ssh)).code).toBe(0);
    const pushed = await outpost(home, 'upstream', 'push', '--mqtt', `mqtt://127.0.0.1:${broker.port}`);
    expect(pushed.code).toBe(0);
    expect(pushed.json.segmentsForwarded).toBe(6);
    // Flushed after the push: held only here.
    const local: Produced[] = [];
    for (let i = 0; i < 4; i++) local.push(produce(dev, 'events', `e-${i}.ndjson`, ndjsonSegment('events', i, 10_000), { sidecar: true }));
    expect((await outpost(home, 'flush', dev.ip, ...ssh)).code).toBe(0);
    expect(remaining(dev)).toEqual([]);
    const bytes = (list: Produced[]) => list.reduce((a, p) => a + p.bytes, 0);
    const quota = await outpost(home, 'store', 'quota');
    expect(quota.json.usedBytes).toBe(bytes(sent) + bytes(local));

    const refused = await outpost(home, 'store', 'prune');
    expect(refused.code).toBe(2);
    expect(refused.json.error.kind).toBe('invalid-input');

    const preview = await outpost(home, 'store', 'prune', '--device', dev.ip, '--dry-run');
    expect(preview.code).toBe(0);
    expect(preview.json).toMatchObject({ dryRun: true, segments: 6, bytes: bytes(sent), freedBytes: bytes(sent), keptSegments: 4, keptBytes: bytes(local) });
    const blobs = readdirSync(join(home, 'buffers', 'segments')).length;
    expect(blobs).toBe(10);

    const pruned = await outpost(home, 'store', 'prune', '--device', dev.ip);
    expect(pruned.json).toMatchObject({ dryRun: false, segments: 6, freedBytes: bytes(sent), keptSegments: 4, usedBytes: bytes(local) });
    expect(readdirSync(join(home, 'buffers', 'segments'))).toHaveLength(4);
    const listed = await outpost(home, 'store', 'list');
    expect(listed.json.segments.map((s: { stream: string }) => s.stream)).toEqual(['events', 'events', 'events', 'events']);
    expect(listed.json.totalBytes).toBe(bytes(local));

    // Never forwarded: only --force takes them.
    expect((await outpost(home, 'store', 'prune', '--older-than', '0s')).json).toMatchObject({ segments: 0, keptSegments: 4 });
    const forced = await outpost(home, 'store', 'prune', '--stream', 'events', '--force');
    expect(forced.json).toMatchObject({ segments: 4, freedBytes: bytes(local), usedBytes: 0 });
    expect(readdirSync(join(home, 'buffers', 'segments'))).toEqual([]);
  });
});

/** The CLI's flush as a child process we can interrupt (Ctrl-C) or kill. */
function cliFlush(home: string, dev: LabDevice): { done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>; signal(sig: NodeJS.Signals): void; pid: number } {
  const child = spawn(process.execPath, ['bin/outpost.mjs', 'flush', dev.ip, '--json', '--identity', lab.clientKeyPath, '--yes'], { env: { ...process.env, OUTPOST_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { done, signal: (sig) => void child.kill(sig), pid: child.pid ?? 0 };
}

function fill(dev: LabDevice, out: Produced[], count: number, tag: string, bytes = 128 * 1024): void {
  for (let i = 0; i < count; i++) out.push(produce(dev, `s${i % 3}`, `${tag}-${String(i).padStart(4, '0')}.bin`, randomBytes(bytes), { sidecar: i % 2 === 0 }));
}

describe('cancel and one operation per device', () => {
  it('Ctrl-C cancels a CLI flush mid-way: kind cancelled, exit 130; acknowledged segments stay acknowledged, the rest stay on the device', async () => {
    const dev = lab.device('ops-b');
    const home = mkdtempSync(join(tmpdir(), 'outpost-cancel-'));
    const produced: Produced[] = [];
    // Segments are committed and acknowledged in groups (GROUP_SEGMENTS, 256): three groups and a rest of 8 KiB each.
    const count = GROUP_SEGMENTS * 3 + 32;
    fill(dev, produced, count, 'c', 8 * 1024);
    await dev.rateLimit(4000); // ~0.5 MB/s: 6.5 MB take ~13 s
    try {
      const flush = cliFlush(home, dev);
      await waitFor('the CLI flush to acknowledge its first group of segments', async () => remaining(dev).length <= count - GROUP_SEGMENTS, 60_000);
      flush.signal('SIGINT');
      const out = await flush.done;
      expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(130);
      expect(JSON.parse(out.stdout).error.kind).toBe('cancelled');
      const stored = await assertNothingLost(dev, produced, home);
      const left = remaining(dev).length;
      expect(stored).toBeGreaterThanOrEqual(GROUP_SEGMENTS);
      expect(left).toBeGreaterThan(0);
      // Everything that left the device is held; what is still there was not acknowledged.
      expect(produced.length - left).toBeLessThanOrEqual(stored);
    } finally {
      await dev.rateLimit(null);
    }
    // The lock went with the job: the next flush takes the rest, nothing twice.
    const again = cliFlush(home, dev);
    expect((await again.done).code).toBe(0);
    expect(remaining(dev)).toEqual([]);
    expect(await assertNothingLost(dev, produced, home)).toBe(produced.length);
  });

  it('a second flush of the same device, from another process, fails at once with kind busy naming the holder; a dead holder is taken over', async () => {
    const dev = lab.device('ops-b');
    const home = mkdtempSync(join(tmpdir(), 'outpost-lock-'));
    const app = createCore({ dataDir: home, transport: 'browser' });
    cores.push(app);
    const api = inProcessApi(app);
    const device = app.devices.add({ name: dev.name, host: dev.ip });
    const produced: Produced[] = [];
    fill(dev, produced, 30, 'l');
    await dev.rateLimit(4000);
    try {
      const appFlush = api.invoke('buffers:flush', { devices: [device.id], link: { identityFile: lab.clientKeyPath, acceptNewHostKey: true } });
      appFlush.catch(() => undefined);
      await waitFor('the app to hold the device', async () => app.locks.list().length === 1, 30_000);
      expect((await api.invoke('jobs:list', {})).jobs).toMatchObject([{ kind: 'flush', deviceIds: [device.id] }]);

      const started = Date.now();
      const second = await cliFlush(home, dev).done;
      expect(second.code).toBe(5);
      const err = JSON.parse(second.stdout).error;
      expect(err.kind).toBe('busy');
      expect(err.message).toContain(`flush by app (browser mode) pid ${process.pid}`);
      expect(Date.now() - started).toBeLessThan(10_000); // at once, not after the app's flush
      expect(remaining(dev).length).toBeGreaterThan(0);

      // The app's flush is cancelled from its side (the UI's Cancel).
      expect((await api.invoke('jobs:cancel', { kind: 'flush' })).cancelled).toHaveLength(1);
      await expect(appFlush).rejects.toMatchObject({ kind: 'cancelled' });
      expect(app.locks.list()).toEqual([]);
      await assertNothingLost(dev, produced, home);

      // A CLI flush killed with SIGKILL leaves its lock row behind; its pid is gone, so the app takes the device over.
      const doomed = cliFlush(home, dev);
      await waitFor('the CLI to hold the device', async () => app.locks.list().some((l) => l.pid === doomed.pid), 30_000);
      doomed.signal('SIGKILL');
      await doomed.done;
    } finally {
      await dev.rateLimit(null);
    }
    const taken = await api.invoke('buffers:flush', { devices: [device.id], link: { identityFile: lab.clientKeyPath } });
    expect(taken.devices[0]?.error).toBeUndefined();
    expect(remaining(dev)).toEqual([]);
    expect(await assertNothingLost(dev, produced, home)).toBe(produced.length);
  });
});

/** Resolves with the first `event` whose payload passes `match`; the timeout names what never happened. */
function nextEvent<E extends EventName>(api: Api, event: E, match: (p: PayloadOf<E>) => boolean, what: string, timeoutMs = 20_000): Promise<PayloadOf<E>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
    const off = api.on(event, (p) => {
      if (!match(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}

describe('online means the upstream answers', () => {
  it('LAN only while the broker is down (app and CLI); an interface change re-checks, flips to reachable, and auto-push delivers the waiting queue by itself', async () => {
    const dev = lab.device('ops-a');
    const home = mkdtempSync(join(tmpdir(), 'outpost-online-'));
    const up = mosquitto((dir) => ['allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', 'max_queued_messages 0']);
    const url = `mqtt://127.0.0.1:${up.port}`;
    // A subscriber session the broker keeps while it is down: it receives what is pushed while the subscriber is away.
    const subscriberOptions = { protocolVersion: 5 as const, clientId: 'outpost-online-sub', clean: false, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 0 };
    await up.start();
    const first = mqtt.connect(url, subscriberOptions);
    await new Promise<void>((resolve, reject) => first.once('connect', () => first.subscribe('outpost/#', { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
    await first.endAsync();
    await up.stop();

    const expectedLines: string[] = [];
    for (let i = 0; i < 4; i++) {
      const body = ndjsonSegment('telemetry', i, 8_000);
      expectedLines.push(...body.toString().trim().split('\n'));
      produce(dev, 'telemetry', `on-${i}.ndjson`, body, { sidecar: true });
    }
    expect((await outpost(home, 'flush', dev.ip, '--identity', lab.clientKeyPath, '--yes')).code).toBe(0);
    const set = await outpost(home, 'upstream', 'set', '--mqtt', url, '--auto-push', '--check-interval', '3600');
    expect(set.code).toBe(0);
    expect(set.json).toMatchObject({ autoPush: true, checkIntervalSeconds: 3600, target: { mqtt: { url } } });
    const down = await outpost(home, 'upstream', 'check');
    expect(down.code).toBe(0);
    expect(down.json).toMatchObject({ state: 'lan-only', target: url });
    expect(down.json.error).toMatch(/ECONNREFUSED/);

    // The app (browser mode: it watches the upstream) on the same $OUTPOST_HOME.
    const app = createCore({ dataDir: home, transport: 'browser' });
    cores.push(app);
    const api = inProcessApi(app);
    const lanOnly = nextEvent(api, 'app:online-changed', (p) => p.upstream?.state === 'lan-only', 'the app to say LAN only');
    await api.invoke('upstream:status', {}); // builds the buffers service, which starts watching
    expect((await lanOnly).online).toBe(false);
    expect(await api.invoke('app:info', {})).toMatchObject({ online: false, upstream: { state: 'lan-only', target: url } });
    expect((await api.invoke('upstream:status', {})).streams.every((s) => s.status !== 'forwarded')).toBe(true);

    // The broker comes up; with a one-hour interval only the interface change (a cable plugged in) can notice it.
    await up.start();
    const reachable = nextEvent(api, 'app:online-changed', (p) => p.online, 'the app to notice the broker after an interface change');
    const pushed = nextEvent(api, 'upstream:pushed', () => true, 'the automatic push to finish', 60_000);
    // A new link with an address, in the technician netns only (what DHCP on a newly plugged cable gives).
    await run(['ip', 'link', 'add', 'onlprobe0', 'type', 'veth', 'peer', 'name', 'onlprobe1']);
    await run(['ip', 'addr', 'add', '192.0.2.1/30', 'dev', 'onlprobe0']);
    // Node lists only links that are up and have carrier: both ends of the pair up.
    await run(['ip', 'link', 'set', 'onlprobe1', 'up']);
    await run(['ip', 'link', 'set', 'onlprobe0', 'up']);
    try {
      expect((await reachable).upstream).toMatchObject({ state: 'upstream-reachable', target: url, error: null });
      expect((await pushed).error).toBeNull();
    } finally {
      await run(['ip', 'link', 'del', 'onlprobe0']);
    }
    expect((await api.invoke('app:info', {})).online).toBe(true);
    const status = await api.invoke('upstream:status', {});
    expect(status.streams).toMatchObject([{ target: `mqtt:${url}`, stream: 'telemetry', status: 'forwarded', segmentsPending: 0 }]);
    expect((await outpost(home, 'upstream', 'check')).json).toMatchObject({ state: 'upstream-reachable', target: url, error: null });

    // What the subscriber's session queued while it was away: every record, in order.
    const got: string[] = [];
    const again = mqtt.connect(url, subscriberOptions);
    again.on('message', (_topic, payload) => got.push(payload.toString()));
    try {
      await waitFor(`the ${expectedLines.length} records pushed automatically to reach the subscriber (got ${got.length})`, async () => got.length >= expectedLines.length, 20_000);
      expect(got.slice(0, expectedLines.length)).toEqual(expectedLines);
    } finally {
      await again.endAsync();
      await up.stop();
    }
  });
});
