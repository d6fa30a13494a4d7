import { Socket } from 'node:net';

export type ProbeOutcome = 'open' | 'refused' | 'silent';

/**
 * One TCP connect with a deadline. `refused` (a RST) still proves the host is there; `silent` covers timeouts,
 * unreachable hosts and filtered ports alike.
 */
export function tcpProbe(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome | undefined> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    // A cancel ends the knock at once: no answer yet means not known (undefined), not silent.
    const onAbort = () => done(undefined);
    const done = (outcome: ProbeOutcome | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('silent'), timeoutMs);
    if (signal?.aborted) return done(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'silent'));
    socket.connect({ host, port });
  });
}

/** Runs tasks with at most `limit` in flight, in order of the input. */
/** Runs `task` over `items`, `limit` at a time; once `signal` aborts no new item starts (its slot stays undefined). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const i = next++;
      results[i] = await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
