// Link-limited rows: what a technician feels on site, where the wire (1 GbE, 100 Mb/s) and the device's CPU set the
// pace. The lab link is shaped with tc tbf (both directions); Outpost's flush and the anchors move the same 1,000
// segments over the same shaped link in the same run. Device CPU is read from /proc/<pid>/stat of every process in
// the device's pid namespace (sshd, its sessions, cat/xargs/sha256sum/rm: all of it), laptop CPU from our own.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, inProcessApi } from '../../../electron/core/app';
import { AES_GCM, CHACHA20 } from '../../../electron/core/transport/cpu-features';
import { pristineSpool } from '../../lab/buffers-fixtures';
import { deviceCpu, laptopCpu } from '../../lab/proc-cpu';
import type { LabDevice } from '../../lab/lab';
import type { BenchContext, BenchRow } from '../types';

const MB = 1024 * 1024;

/** A segment of telemetry as devices spool it: one JSON record per line, repeated keys, slowly moving values. */
function telemetrySegment(index: number, bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = JSON.stringify({ ts: 1_764_500_000_000 + index * 100_000 + i * 250, site: 'pump-station-7', sensor: `temp-${i % 8}`, value: Number((20 + Math.sin((index * 1000 + i) / 50) * 3).toFixed(2)), unit: 'C', ok: true });
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`).subarray(0, bytes);
}
const GB = 1024 * MB;

interface Run {
  mbps: number;
  deviceCpuPerGb: number;
  laptopCpuPerGb: number;
}

async function measured(dev: LabDevice, bytes: number, fn: () => Promise<unknown>): Promise<Run> {
  const d0 = deviceCpu(dev);
  const l0 = laptopCpu();
  const t0 = process.hrtime.bigint();
  await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  // Session processes end with their connection; give the device's sshd a moment to reap them.
  await new Promise((r) => setTimeout(r, 300));
  return { mbps: bytes / MB / s, deviceCpuPerGb: ((deviceCpu(dev) - d0) * GB) / bytes, laptopCpuPerGb: ((laptopCpu() - l0) * GB) / bytes };
}

function sshArgs(ctx: BenchContext, dev: LabDevice, cipher: string): string[] {
  return ['-i', ctx.lab.clientKeyPath, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-c', cipher];
}

function runChild(argv: string[], count?: (n: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', (c: Buffer) => count?.(c.length));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv[0]} exited ${code}: ${err.slice(0, 300)}`))));
  });
}

export async function rows(ctx: BenchContext): Promise<BenchRow[]> {
  const totalMb = Number(process.env.OUTPOST_BENCH_LINK_MB ?? 100);
  const segments = 1000;
  const segBytes = Math.floor((totalMb * MB) / segments);
  const bytes = segBytes * segments;
  const rates = (process.env.OUTPOST_BENCH_LINK_RATES ?? '1000000,100000').split(',').map(Number); // kbit/s
  const out: BenchRow[] = [];
  const stores: string[] = [];
  // OUTPOST_BENCH_LINK_ROWS=flush,rsync,ndjson,cipher picks row groups (default all); OUTPOST_BENCH_LINK_ROUNDS
  // repeats the flush and its `ssh cat` anchor, alternating, and reports medians (this VM drifts ±30% by the minute).
  const picked = process.env.OUTPOST_BENCH_LINK_ROWS?.split(',');
  const want = (group: string) => !picked || picked.includes(group);
  const rounds = Math.max(1, Number(process.env.OUTPOST_BENCH_LINK_ROUNDS ?? 1));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const medianRun = (runs: Run[]): Run => ({ mbps: median(runs.map((r) => r.mbps)), deviceCpuPerGb: median(runs.map((r) => r.deviceCpuPerGb)), laptopCpuPerGb: median(runs.map((r) => r.laptopCpuPerGb)) });

  /** One flush from a fresh laptop store; returns the compression the device ended up with (chosen or given). */
  const flushOnce = async (dev: LabDevice, cipher?: string, compression?: 'gzip' | 'none', expected = bytes): Promise<string> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'outpost-bench-link-'));
    stores.push(dataDir);
    const core = createCore({ dataDir, transport: 'in-process' });
    try {
      let device = core.devices.add({ name: dev.name, host: dev.ip });
      // The cipher the device was given, or (for the cipher row) the other one, stored as the choice before connecting.
      if (cipher) device = { ...device, ssh: { ...device.ssh, cipher } };
      // A compression decision given as if measured a moment ago; without one the flush measures and decides itself.
      if (compression) device = { ...device, ssh: { ...device.ssh, compression: { choice: compression, linkBps: null, compressBps: null, ratio: null, reason: 'given by the bench', decidedAt: new Date().toISOString() } } };
      core.devices.save(device);
      const res = await inProcessApi(core).invoke('buffers:flush', { devices: [device.id], link: { identityFile: ctx.lab.clientKeyPath, acceptNewHostKey: true } });
      const got = Object.values(res.devices[0]!.streams).reduce((a, s) => a + s.bytes, 0);
      if (got !== expected) throw new Error(`flush stored ${got} of ${expected} bytes`);
      const chosen = core.devices.get(device.id).ssh.compression;
      return chosen ? `${chosen.choice} (${chosen.reason})` : 'none (below the measuring threshold)';
    } finally {
      await core.close();
    }
  };
  const catOnce = async (dev: LabDevice, rels: string[], cipher: string): Promise<void> => {
    let n = 0;
    // One login, as a technician's `ssh dev 'cd spool && cat …'` is (the flush logs in once too); 1,000 names are
    // ~23 KB of command line, well under Linux's 128 KiB limit for one argument.
    await runChild(['ssh', ...sshArgs(ctx, dev, cipher), `root@${dev.ip}`, `cd /var/spool/outpost && cat -- ${rels.join(' ')}`], (c) => (n += c));
    if (n !== bytes) throw new Error(`ssh cat read ${n} of ${bytes} bytes`);
  };
  const fmt = (r: Run) => `device ${r.deviceCpuPerGb.toFixed(2)} cpu-s/GB, laptop ${r.laptopCpuPerGb.toFixed(2)} cpu-s/GB`;

  const dev = await ctx.lab.addDevice({ name: 'link-aes' });
  const spool = pristineSpool(dev, segments, segBytes);
  try {
    for (const kbit of rates) {
      await dev.rateLimit(kbit);
      const label = `${kbit >= 1e6 ? `${kbit / 1e6} Gbit/s` : `${kbit / 1e3} Mbit/s`}`;
      ctx.log(`link: ${label}, ${segments} segments / ${Math.round(bytes / MB)} MB`);
      const cats: Run[] = [];
      const ourss: Run[] = [];
      for (let r = 0; r < rounds; r++) {
        spool.refill();
        cats.push(await measured(dev, bytes, () => catOnce(dev, spool.rels, AES_GCM)));
        spool.refill();
        ourss.push(await measured(dev, bytes, () => flushOnce(dev)));
      }
      const cat = medianRun(cats);
      const ours = medianRun(ourss);
      const perRound = (pick: (r: Run) => number) => (rounds > 1 ? `; rounds: ${ourss.map((o, i) => (pick(o) / pick(cats[i]!)).toFixed(2)).join(', ')}x` : '');
      const each = rounds > 1 ? `medians of ${rounds} alternating rounds; ` : '';
      out.push({ metric: `flush ${segments} segments / ${Math.round(bytes / MB)} MB over a ${label} link (tc tbf)`, ours: ours.mbps, anchor: cat.mbps, unit: 'MB/s', anchorName: 'OpenSSH ssh dev cat, same link', note: `goal ≥ 0.95x; ${each}ours ${fmt(ours)}; cat ${fmt(cat)}${perRound((r) => r.mbps)}` });
      out.push({ metric: `device CPU per GB flushed, ${label} link (sshd + all it runs)`, ours: ours.deviceCpuPerGb, anchor: cat.deviceCpuPerGb, unit: 'cpu-s/GB', anchorName: 'OpenSSH ssh dev cat', note: `goal ≤ 1.1x; ${each}laptop side: ours ${ours.laptopCpuPerGb.toFixed(2)}, ssh client ${cat.laptopCpuPerGb.toFixed(2)} cpu-s/GB${perRound((r) => r.deviceCpuPerGb)}` });
      if (!want('rsync')) continue;
      spool.refill();
      try {
        const rsyncDest = mkdtempSync(join(tmpdir(), 'outpost-bench-rsync-'));
        stores.push(rsyncDest);
        const rsync = await measured(dev, bytes, () => runChild(['rsync', '-a', '--remove-source-files', '--exclude=/.pristine', '-e', ['ssh', ...sshArgs(ctx, dev, AES_GCM)].join(' '), `root@${dev.ip}:/var/spool/outpost/`, `${rsyncDest}/`]));
        out.push({ metric: `flush ${segments} segments over a ${label} link vs the hand-made drain`, ours: ours.mbps, anchor: rsync.mbps, unit: 'MB/s', anchorName: 'rsync -e ssh --remove-source-files', note: `rsync neither verifies sha256 end to end nor fsyncs; rsync ${fmt(rsync)}` });
      } catch (err) {
        ctx.log(`link: rsync anchor skipped: ${(err as Error).message}`);
      }
    }
    await dev.rateLimit(null);
  } finally {
    spool.remove();
  }

  if (!want('ndjson') && !want('cipher')) {
    for (const dir of stores) rmSync(dir, { recursive: true, force: true });
    return out;
  }
  // Compression rows: telemetry NDJSON (compresses ~10x) over the 100 Mbit/s link and unshaped, the flush deciding
  // for itself (its measurements included in its time) against the same flush told to send plain.
  const ndjsonMb = Number(process.env.OUTPOST_BENCH_NDJSON_MB ?? 64);
  if (want('ndjson')) await ndjsonRows();
  async function ndjsonRows(): Promise<void> {
    const telemetryDev = await ctx.lab.addDevice({ name: 'link-ndjson' });
    const telemetry = pristineSpool(telemetryDev, 256, Math.floor((ndjsonMb * MB) / 256), telemetrySegment);
    const telemetryBytes = Math.floor((ndjsonMb * MB) / 256) * 256;
    try {
      for (const kbit of [100_000, null]) {
        await telemetryDev.rateLimit(kbit);
        const label = kbit ? '100 Mbit/s' : 'unshaped (veth)';
        ctx.log(`link: NDJSON compression, ${label}`);
        telemetry.refill();
        const plain = await measured(telemetryDev, telemetryBytes, () => flushOnce(telemetryDev, undefined, 'none', telemetryBytes).then(() => undefined));
        telemetry.refill();
        let chose = '';
        const auto = await measured(telemetryDev, telemetryBytes, async () => {
          chose = await flushOnce(telemetryDev, undefined, undefined, telemetryBytes);
        });
        out.push({ metric: `flush ${Math.round(telemetryBytes / MB)} MB of NDJSON telemetry, ${label}: compression as decided`, ours: auto.mbps, anchor: plain.mbps, unit: 'MB/s', anchorName: 'the same flush sent plain', note: `chose ${chose}; decided ${fmt(auto)}; plain ${fmt(plain)}` });
      }
      await telemetryDev.rateLimit(null);
    } finally {
      telemetry.remove();
    }
  }
  if (!want('cipher')) {
    for (const dir of stores) rmSync(dir, { recursive: true, force: true });
    return out;
  }

  // The cipher row: a device without AES instructions, unshaped, the chosen cipher against the other one.
  const slow = await ctx.lab.addDevice({ name: 'link-noaes', noAes: true });
  const slowSpool = pristineSpool(slow, segments, segBytes);
  try {
    ctx.log('link: cipher row on a device without AES');
    slowSpool.refill();
    const other = await measured(slow, bytes, () => flushOnce(slow, AES_GCM));
    slowSpool.refill();
    const chosen = await measured(slow, bytes, () => flushOnce(slow, CHACHA20));
    out.push({ metric: 'flush on a device without AES (AES-NI masked): chosen cipher chacha20-poly1305', ours: chosen.mbps, anchor: other.mbps, unit: 'MB/s', anchorName: 'aes128-gcm on the same device', note: `chacha ${fmt(chosen)}; aes-gcm ${fmt(other)}` });
    out.push({ metric: 'device CPU per GB, device without AES: chacha20-poly1305', ours: chosen.deviceCpuPerGb, anchor: other.deviceCpuPerGb, unit: 'cpu-s/GB', anchorName: 'aes128-gcm on the same device' });
  } finally {
    slowSpool.remove();
    for (const dir of stores) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
