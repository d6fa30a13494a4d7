import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { LabDevice } from './lab';

const TICK = 100; // USER_HZ

/** utime + stime + cutime + cstime of one /proc/<pid>/stat, in ticks (fields 14-17, at 11-14 after the state field). */
function statTicks(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

/** CPU seconds of every process in the device's pid namespace, children it reaped included. */
export function deviceCpu(dev: LabDevice): number {
  const ns = readlinkSync(`/proc/${dev.initPid}/ns/pid`);
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) !== ns) continue;
      ticks += statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      // exited meanwhile: its time is in its parent's cutime/cstime now
    }
  }
  return ticks / TICK;
}

/** CPU seconds of this process (all its threads) and the children it reaped (e.g. the ssh client of an anchor). */
export function laptopCpu(): number {
  return statTicks(readFileSync('/proc/self/stat', 'utf8')) / TICK;
}
