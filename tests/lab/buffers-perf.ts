// Dev tool, not a test: repeats the buffers bench row (flush vs raw ssh2 exec `cat` of the same bytes) several times
// on one lab device, alternating the two, so a change to the flush engine can be measured quickly and with less noise.
//   OUTPOST_LAB_ID=bufperf bash tests/lab/in-lab.sh npx tsx tests/lab/buffers-perf.ts [rounds] [MB] [segments]
// Set OUTPOST_PERF_PROFILE=1 to write a V8 CPU profile of each flush to /tmp (open it in Chrome DevTools).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, inProcessApi } from '../../electron/core/app';
import { pristineSpool } from './buffers-fixtures';
import { assertInTechNetns, startLab } from './lab';

const rounds = Number(process.argv[2] ?? 3);
const totalMb = Number(process.argv[3] ?? 256);
const segments = Number(process.argv[4] ?? 1000);
const MB = 1024 * 1024;

assertInTechNetns();
const lab = await startLab({ devices: [{ name: 'perf' }] });
const dev = lab.devices[0]!;
const segBytes = Math.floor((totalMb * MB) / segments);
const spool = pristineSpool(dev, segments, segBytes);
const { rels, refill } = spool;

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
/** Busy fraction of all CPUs since `from` (from /proc/stat): tells a CPU-bound phase from a waiting one. */
function cpuTicks(): { busy: number; total: number; own: NodeJS.CpuUsage } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total, own: process.cpuUsage() };
}
const busySince = (from: { busy: number; total: number; own: NodeJS.CpuUsage }) => {
  const now = cpuTicks();
  const own = process.cpuUsage(from.own);
  return `${Math.round((100 * (now.busy - from.busy)) / Math.max(1, now.total - from.total))}% cpu, this process ${((own.user + own.system) / 1e6).toFixed(2)} cpu-s`;
};
const bytes = segBytes * segments;
try {
  for (let round = 0; round < rounds; round++) {
    refill();
    const dataDir = mkdtempSync(join(tmpdir(), 'outpost-bufperf-home-'));
    const core = createCore({ dataDir, transport: 'in-process' });
    const api = inProcessApi(core);
    const device = core.devices.add({ name: dev.name, host: dev.ip });
    const conn = await core.links.ssh(device, { identityFile: lab.clientKeyPath, acceptNewHostKey: true });
    let t = process.hrtime.bigint();
    for (let i = 0; i < 10; i++) await conn.run(['true']);
    const execMs = (seconds(t) / 10) * 1000;
    t = process.hrtime.bigint();
    let cpu = cpuTicks();
    let n = 0;
    for (let i = 0; i < rels.length; i += 500) {
      const h = await conn.exec(['sh', '-c', 'cd "$1" && shift && cat -- "$@"', 'cat', '/var/spool/outpost', ...rels.slice(i, i + 500)]);
      h.stdout.on('data', (c: Buffer) => (n += c.length));
      h.stdin.end();
      await h.exit;
    }
    const raw = n / MB / seconds(t);
    const rawCpu = busySince(cpu);
    const profiler = process.env.OUTPOST_PERF_PROFILE ? new Session() : null;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    t = process.hrtime.bigint();
    cpu = cpuTicks();
    const res = await api.invoke('buffers:flush', { devices: [device.id], link: { identityFile: lab.clientKeyPath, acceptNewHostKey: true } });
    const flushS = seconds(t);
    const flushCpu = busySince(cpu);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = join(tmpdir(), `outpost-flush-${round}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      console.log(`profile: ${file}`);
    }
    const got = Object.values(res.devices[0]!.streams).reduce((a, s) => a + s.bytes, 0);
    if (got !== bytes) throw new Error(`flush stored ${got} of ${bytes} bytes`);
    const ours = bytes / MB / flushS;
    console.log(`round ${round}: exec ${execMs.toFixed(1)} ms, raw ${raw.toFixed(0)} MB/s (${rawCpu}), flush ${ours.toFixed(0)} MB/s (${flushS.toFixed(2)} s, ${flushCpu}), ratio ${(ours / raw).toFixed(2)}x`);
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
} finally {
  spool.remove();
  await lab.teardown();
}
