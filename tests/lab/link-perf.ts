// Dev tool, not a test: the `link` bench's flush row (1,000 segments through a tc-shaped lab link, Outpost vs
// OpenSSH `ssh dev cat`), repeated and alternating, with the CPU of both sides broken down so a change can be
// measured quickly:
//   OUTPOST_LAB_ID=linkperf bash tests/lab/in-lab.sh npx tsx tests/lab/link-perf.ts [rounds] [MB] [kbit/s]
// OUTPOST_PERF_SAMPLE=1 also samples (from a separate process, proc-sampler.mjs) the device's processes by name and
// this process's threads. OUTPOST_PERF_PROFILE=1 writes a V8 CPU profile of the main thread during each flush to
// /tmp (run under NODE_OPTIONS=--cpu-prof for the writer thread's). OUTPOST_PERF_COMPRESSION=none gives the flush
// a standing "plain" decision, so it does not measure the device's gzip first.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCore, inProcessApi } from '../../electron/core/app';
import { AES_GCM } from '../../electron/core/transport/cpu-features';
import { pristineSpool } from './buffers-fixtures';
import { deviceCpu, laptopCpu } from './proc-cpu';
import { assertInTechNetns, startLab, type LabDevice } from './lab';

const rounds = Number(process.argv[2] ?? 3);
const totalMb = Number(process.argv[3] ?? 100);
const kbit = Number(process.argv[4] ?? 1_000_000);
const segments = 1000;
const MB = 1024 * 1024;
const GB = 1024 * MB;

async function sampled<T>(dev: LabDevice, fn: () => Promise<T>): Promise<{ value: T; breakdown: string }> {
  if (!process.env.OUTPOST_PERF_SAMPLE) return { value: await fn(), breakdown: '' };
  const sampler = spawn(process.execPath, [fileURLToPath(new URL('./proc-sampler.mjs', import.meta.url)), String(dev.initPid), String(process.pid), '20'], { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: process.env.PATH } });
  let out = '';
  sampler.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => setTimeout(r, 100));
  const value = await fn();
  await new Promise((r) => setTimeout(r, 300));
  sampler.stdin.end();
  await new Promise((r) => sampler.on('close', r));
  const { device, threads } = JSON.parse(out) as { device: Record<string, number>; threads: Record<string, number> };
  const fmt = (o: Record<string, number>) =>
    Object.entries(o)
      .filter(([, s]) => s > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, s]) => `${k} ${s.toFixed(2)}`)
      .join(', ');
  return { value, breakdown: `\n    device: ${fmt(device)}\n    laptop threads: ${fmt(threads)}` };
}

function runChild(argv: string[], count: (n: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', (c: Buffer) => count(c.length));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv[0]} exited ${code}: ${err.slice(0, 300)}`))));
  });
}

// ssh2's channel window adjustments (how often the laptop re-opens the window, and by how much).
const adjusts = { n: 0, bytes: 0 };
{
  const require = createRequire(import.meta.url);
  const Protocol = require('ssh2/lib/protocol/Protocol.js') as { prototype: { channelWindowAdjust(id: number, amount: number): void } };
  const orig = Protocol.prototype.channelWindowAdjust;
  Protocol.prototype.channelWindowAdjust = function (this: unknown, id: number, amount: number) {
    adjusts.n++;
    adjusts.bytes += amount;
    return orig.call(this, id, amount);
  };
}

assertInTechNetns();
const lab = await startLab({ devices: [{ name: 'linkperf' }] });
const dev = lab.devices[0]!;
const segBytes = Math.floor((totalMb * MB) / segments);
const bytes = segBytes * segments;
const spool = pristineSpool(dev, segments, segBytes);
const sshArgs = ['-i', lab.clientKeyPath, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-c', AES_GCM];

async function measure(label: string, fn: () => Promise<void>): Promise<number> {
  const d0 = deviceCpu(dev);
  const l0 = laptopCpu();
  const t0 = process.hrtime.bigint();
  adjusts.n = 0;
  adjusts.bytes = 0;
  const { breakdown } = await sampled(dev, fn);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise((r) => setTimeout(r, 300));
  const mbps = bytes / MB / s;
  console.log(`  ${label}: ${mbps.toFixed(1)} MB/s (${s.toFixed(2)} s), device ${(((deviceCpu(dev) - d0) * GB) / bytes).toFixed(2)} cpu-s/GB, laptop ${(((laptopCpu() - l0) * GB) / bytes).toFixed(2)} cpu-s/GB${adjusts.n ? `, ${adjusts.n} window adjusts (avg ${Math.round(adjusts.bytes / adjusts.n / 1024)} KiB)` : ''}${breakdown}`);
  return mbps;
}

try {
  await dev.rateLimit(kbit > 0 ? kbit : null);
  for (let round = 0; round < rounds; round++) {
    console.log(`round ${round + 1} of ${rounds}: ${segments} segments / ${Math.round(bytes / MB)} MB at ${kbit} kbit/s`);
    spool.refill();
    const cat = await measure('ssh cat', async () => {
      let n = 0;
      for (let i = 0; i < spool.rels.length; i += 500) await runChild(['ssh', ...sshArgs, `root@${dev.ip}`, `cd /var/spool/outpost && cat -- ${spool.rels.slice(i, i + 500).join(' ')}`], (c) => (n += c));
      if (n !== bytes) throw new Error(`ssh cat read ${n} of ${bytes}`);
    });
    spool.refill();
    const dataDir = mkdtempSync(join(tmpdir(), 'outpost-linkperf-home-'));
    const core = createCore({ dataDir, transport: 'in-process' });
    const profiler = process.env.OUTPOST_PERF_PROFILE ? new Session() : null;
    try {
      let device = core.devices.add({ name: dev.name, host: dev.ip });
      if (process.env.OUTPOST_PERF_COMPRESSION === 'none') {
        device = { ...device, ssh: { ...device.ssh, compression: { choice: 'none', linkBps: null, compressBps: null, ratio: null, reason: 'given', decidedAt: new Date().toISOString() } } };
        core.devices.save(device);
      }
      if (profiler) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      const ours = await measure('flush', async () => {
        const res = await inProcessApi(core).invoke('buffers:flush', { devices: [device.id], link: { identityFile: lab.clientKeyPath, acceptNewHostKey: true } });
        const got = Object.values(res.devices[0]!.streams).reduce((a, s) => a + s.bytes, 0);
        if (got !== bytes) throw new Error(`flush stored ${got} of ${bytes} bytes`);
      });
      if (profiler) {
        const { profile } = await profiler.post('Profiler.stop');
        const file = join(tmpdir(), `outpost-linkperf-${round}.cpuprofile`);
        await writeFile(file, JSON.stringify(profile));
        console.log(`  profile: ${file}`);
      }
      console.log(`  ratio ${(ours / cat).toFixed(2)}x`);
    } finally {
      await core.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
} finally {
  await dev.rateLimit(null).catch(() => undefined);
  spool.remove();
  await lab.teardown();
}
