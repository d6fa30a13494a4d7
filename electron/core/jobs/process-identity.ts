import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A process as the kernel knows it: pid plus start time (field 22 of /proc/<pid>/stat, clock ticks since boot).
 * The pair survives pid reuse: a new process with an old pid has another start time.
 */
export interface ProcessIdentity {
  pid: number;
  /** null where /proc is not available (then only the pid is compared). */
  start: string | null;
  hostname: string;
}

export function processStart(pid: number, readStat: (path: string) => string = (p) => readFileSync(p, 'utf8')): string | null {
  try {
    const stat = readStat(`/proc/${pid}/stat`);
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 = index 19 after the 3 leading fields (pid, comm, state → state is rest[0])
  } catch {
    return null;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, start: processStart(process.pid), hostname: hostname() };
}

/**
 * Is the process that wrote `holder` still running? Another machine's process (a data dir on a shared drive) cannot
 * be checked from here, so it counts as alive: a lock is never taken from a holder that may still be working.
 */
export function holderAlive(holder: ProcessIdentity, self: ProcessIdentity = currentProcess(), alive = pidAlive, startOf = processStart): boolean {
  if (holder.hostname !== self.hostname) return true;
  if (!alive(holder.pid)) return false;
  if (holder.start === null) return true;
  const now = startOf(holder.pid);
  return now === null || now === holder.start;
}
