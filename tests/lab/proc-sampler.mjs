// Dev tool (used by link-perf.ts), not a test: samples the CPU time of every process in one pid namespace and of
// every thread of one process, every `interval` ms, until stdin closes; then prints JSON on stdout:
// { device: { "<comm>": cpu-s, … }, threads: { "<comm>#<tid>": cpu-s, … } } — time spent while sampled (a process
// that lived less than one interval is missed; its time shows in its parent's reaped total instead).
// Runs as its own process so the sampling costs neither side's measured CPU.
//   node proc-sampler.mjs <init pid of the device> <laptop pid> [interval ms]
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const [initPid, laptopPid, intervalArg] = process.argv.slice(2);
const interval = Number(intervalArg ?? 20);
const ns = readlinkSync(`/proc/${initPid}/ns/pid`);
const inNs = new Map();
const first = new Map();
const last = new Map();

function stat(path) {
  const s = readFileSync(path, 'utf8');
  const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { comm, ticks: Number(f[11]) + Number(f[12]) };
}

function record(key, path) {
  try {
    const { comm, ticks } = stat(path);
    const k = `${key}\0${comm}`;
    if (!first.has(k)) first.set(k, ticks);
    last.set(k, ticks);
  } catch {
    // gone
  }
}

function sample() {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let mine = inNs.get(pid);
    if (mine === undefined) {
      try {
        mine = readlinkSync(`/proc/${pid}/ns/pid`) === ns;
      } catch {
        mine = false;
      }
      inNs.set(pid, mine);
    }
    if (mine) record(`d${pid}`, `/proc/${pid}/stat`);
  }
  try {
    for (const tid of readdirSync(`/proc/${laptopPid}/task`)) record(`t${tid}`, `/proc/${laptopPid}/task/${tid}/stat`);
  } catch {
    // the laptop process ended
  }
}

sample();
const preexisting = new Set(first.keys());
const timer = setInterval(sample, interval);
process.stdin.resume();
process.stdin.on('end', () => {
  clearInterval(timer);
  sample();
  const device = {};
  const threads = {};
  for (const [k, ticks] of last) {
    const [key, comm] = k.split('\0');
    // A process first seen already running counts from then; one born after the first sample counts whole.
    const secs = (ticks - (preexisting.has(k) ? (first.get(k) ?? 0) : 0)) / 100;
    if (key.startsWith('d')) device[comm] = (device[comm] ?? 0) + secs;
    else threads[`${comm}#${key.slice(1)}`] = secs;
  }
  process.stdout.write(JSON.stringify({ device, threads }));
});
