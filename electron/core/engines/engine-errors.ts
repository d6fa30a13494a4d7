import { OutpostError, toErrorBody, type ErrorKind } from '../../../shared/errors';

interface EngineHttpError extends Error {
  statusCode?: number;
  json?: { message?: string } | null;
  code?: string;
}

/** dockerode's failures as words: HTTP statuses from the engine, socket errors from the link under it. */
export function engineError(deviceName: string, err: unknown, what = 'engine call'): OutpostError {
  if (err instanceof OutpostError) return err;
  const e = err as EngineHttpError;
  const engineMessage = e.json?.message ?? e.message;
  if (typeof e.statusCode === 'number') {
    const kind: ErrorKind = e.statusCode === 404 ? 'not-found' : e.statusCode === 409 ? 'conflict' : e.statusCode === 400 ? 'invalid-input' : 'engine-http';
    return new OutpostError(kind, `${deviceName}: Docker engine answered ${e.statusCode} to ${what}: ${engineMessage}`, { statusCode: e.statusCode });
  }
  if (/timed? ?out/i.test(e.message ?? '')) return new OutpostError('timeout', `${deviceName}: ${what} timed out`);
  if (e.code === 'ECONNRESET' || /No such file|connect ENOENT|Connection refused|open failed|Not connected|socket hang up/i.test(e.message ?? '')) {
    return new OutpostError('unreachable', `${deviceName}: the Docker engine is not answering (${e.message})`);
  }
  const body = toErrorBody(err);
  return new OutpostError(body.kind === 'internal' ? 'engine-http' : body.kind, `${deviceName}: ${what} failed: ${body.message}`);
}

/** Races a promise against a deadline; the loser is left to settle on its own, its result ignored. */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OutpostError('timeout', message)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
