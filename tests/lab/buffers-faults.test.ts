import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Device } from '../../shared/contract';
import { OutpostError } from '../../shared/errors';
import { assertNothingLost, produce, remaining, type Produced } from './buffers-fixtures';
import { sshBanner, startLab, waitFor, type Lab, type LabDevice } from './lab';
import { run } from './util';

// Fault injection against real devices: kill -9 of the flushing CLI at many random points, a cut link, a full disk.
let lab: Lab;
const cores: Core[] = [];
let tmpfsDir: string | null = null;
const STREAMS = ['telemetry', 'logs', 'events'];

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'kill-me' }, { name: 'cut-me' }, { name: 'fill-me' }] });
});

afterAll(async () => {
  for (const core of cores) await core.close();
  if (tmpfsDir) await run(['umount', '-l', tmpfsDir]);
  await lab?.teardown();
});

function fill(dev: LabDevice, out: Produced[], count: number, bytes: number, tag: string): void {
  for (let i = 0; i < count; i++) {
    const stream = STREAMS[(out.length + i) % STREAMS.length]!;
    out.push(produce(dev, stream, `${tag}-${String(out.length).padStart(5, '0')}.bin`, randomBytes(bytes), { sidecar: i % 2 === 0 }));
  }
}

function cliFlush(dataDir: string, dev: LabDevice): { done: Promise<{ code: number | null; stdout: string }>; kill(): boolean } {
  const child = spawn(process.execPath, ['bin/outpost.mjs', 'flush', dev.ip, '--json', '--identity', lab.clientKeyPath, '--yes', '--stall-timeout', '5'], {
    env: { ...process.env, OUTPOST_HOME: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.resume();
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout })));
  return { done, kill: () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL') };
}

describe('flush under faults', () => {
  it('survives kill -9 of the flushing process at 50+ random points: nothing lost, nothing stored twice', async () => {
    const dev = lab.device('kill-me');
    const dataDir = mkdtempSync(join(tmpdir(), 'outpost-kill-'));
    const produced: Produced[] = [];
    fill(dev, produced, 60, 96 * 1024, 'seed');
    // ~1.2 MB/s, so each flush lasts long enough for the kill (0.4-3 s after the start) to land anywhere in it
    // (listing, transfer, commit, ack). A flush is one exec now, not six: at the former ~5 MB/s most rounds ended
    // before their kill and the run reached only 27 kills in 120 rounds.
    await dev.rateLimit(10_000);
    let kills = 0;
    let midTransfer = 0;
    const tmp = join(dataDir, 'buffers', 'tmp');
    const partialFiles = (): number => (existsSync(tmp) ? readdirSync(tmp).length : 0);
    for (let round = 0; kills < 50 && round < 120; round++) {
      fill(dev, produced, 6, 64 * 1024 + Math.floor(Math.random() * 256 * 1024), `r${round}`);
      const flush = cliFlush(dataDir, dev);
      let timer: NodeJS.Timeout | undefined;
      const killAfter = (ms: number) => (timer = setTimeout(() => flush.kill() && kills++, ms));
      if (round % 2 === 0) {
        // Anywhere in the run: start-up, listing, transfer, commit, ack.
        killAfter(400 + Math.random() * 2600);
      } else {
        // Once bytes are arriving (a partial segment file exists), so some kills land mid-transfer however long
        // the CLI took to start on a loaded machine: a kill timed from the spawn alone can miss the transfer entirely.
        const watch = setInterval(() => {
          if (partialFiles() === 0) return;
          clearInterval(watch);
          killAfter(Math.random() * 300);
        }, 5);
        void flush.done.then(() => clearInterval(watch));
      }
      const { code } = await flush.done;
      clearTimeout(timer);
      // A partial segment file left behind means the kill landed mid-transfer (it is removed at the next start).
      if (code === null && partialFiles() > 0) midTransfer++;
      await assertNothingLost(dev, produced, dataDir);
    }
    console.log(`kill -9: ${kills} kills, ${midTransfer} of them mid-transfer`);
    expect(kills).toBeGreaterThanOrEqual(50);
    expect(midTransfer).toBeGreaterThanOrEqual(10);
    await dev.rateLimit(null);
    const final = await cliFlush(dataDir, dev).done;
    expect(final.code).toBe(0);
    expect(remaining(dev)).toEqual([]);
    expect(await assertNothingLost(dev, produced, dataDir)).toBe(produced.length);
  });

  it('a cut link fails the flush with kind unreachable; after the link returns, the flush resumes and completes', async () => {
    const dev = lab.device('cut-me');
    const dataDir = mkdtempSync(join(tmpdir(), 'outpost-cut-'));
    const core = createCore({ dataDir, transport: 'in-process' });
    cores.push(core);
    const api = inProcessApi(core);
    const device: Device = core.devices.add({ name: dev.name, host: dev.ip });
    const produced: Produced[] = [];
    fill(dev, produced, 30, 1024 * 1024, 'big');
    await dev.rateLimit(20_000);
    let cut = false;
    const off = api.on('flush:progress', (p) => {
      if (!cut && p.bytesDone > 4 * 1024 * 1024) {
        cut = true;
        void dev.linkDown();
      }
    });
    const ssh = { identityFile: lab.clientKeyPath, acceptNewHostKey: true };
    const failed = await api.invoke('buffers:flush', { devices: [device.id], link: ssh, stallTimeoutSeconds: 3 }).then(
      () => null,
      (err: unknown) => err,
    );
    off();
    expect(cut).toBe(true);
    expect(failed).toBeInstanceOf(OutpostError);
    expect(`${(failed as OutpostError).kind}: ${(failed as OutpostError).message}`).toMatch(/^unreachable: /);
    const partial = await assertNothingLost(dev, produced, dataDir);
    expect(partial).toBeLessThan(produced.length);

    await dev.linkUp();
    await dev.rateLimit(null);
    await waitFor('the device to answer SSH again after linkUp', async () => (await sshBanner(dev.ip).catch(() => '')).startsWith('SSH-'), 20_000);
    const resumed = await api.invoke('buffers:flush', { devices: [device.id], link: ssh, stallTimeoutSeconds: 10 });
    const stored = Object.values(resumed.devices[0]!.streams).reduce((a, s) => a + s.segments + s.duplicatesSkipped, 0);
    expect(stored + partial).toBeGreaterThanOrEqual(produced.length);
    expect(remaining(dev)).toEqual([]);
    expect(await assertNothingLost(dev, produced, dataDir)).toBe(produced.length);
  });

  it('a full laptop disk fails with kind disk-full and the device keeps what was not stored', async () => {
    const dev = lab.device('fill-me');
    tmpfsDir = mkdtempSync(join(tmpdir(), 'outpost-full-'));
    expect((await run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', tmpfsDir])).code).toBe(0);
    const dataDir = join(tmpfsDir, 'home');
    mkdirSync(dataDir);
    const core = createCore({ dataDir, transport: 'in-process' });
    cores.push(core);
    const api = inProcessApi(core);
    const device = core.devices.add({ name: dev.name, host: dev.ip });
    const produced: Produced[] = [];
    fill(dev, produced, 8, 512 * 1024, 'fat');
    const err = await api.invoke('buffers:flush', { devices: [device.id], link: { identityFile: lab.clientKeyPath, acceptNewHostKey: true } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as OutpostError).kind).toBe('disk-full');
    const stored = await assertNothingLost(dev, produced, dataDir);
    expect(stored).toBeLessThan(produced.length);
    expect(remaining(dev).length).toBe(produced.length - stored);
  });
});
