import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OutpostError } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';

export const STAGING_DIR = '/var/lib/outpost/staging';

export interface Progress {
  bytesSent: number;
  bytesTotal: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

export interface StageResult {
  remotePath: string;
  /** Bytes that crossed the link in this call (a resumed upload sends only the rest). */
  bytesSent: number;
  resumedFrom: number;
}

// Fixed scripts; paths and sizes arrive as positional parameters, never spliced into the script text.
const SIZE_SCRIPT = 'mkdir -p "$1" && if [ -f "$2" ]; then stat -c %s "$2"; else echo 0; fi';
// dd writes at the offset we asked for rather than appending: the archive is deterministic, so a writer left over
// from a dropped session can only write the same bytes at the same places, never duplicate them.
// status=progress reports the bytes written once a second on stderr, which flows device→laptop and so is never
// queued behind the upload the way a separate `stat` request on the same connection would be.
const WRITE_AT_SCRIPT = 'exec dd of="$1" bs=262144 seek="$2" oflag=seek_bytes conv=notrunc status=progress';
const FINISH_SCRIPT = 'set -e; sum=$(sha256sum "$1" | cut -d" " -f1); [ "$sum" = "$2" ] || { rm -f "$1"; echo "checksum $sum" >&2; exit 3; }; mv -f "$1" "$3"';

async function runOk(conn: SshConnection, argv: string[], what: string): Promise<string> {
  const r = await conn.run(argv);
  if (r.code !== 0) throw new OutpostError(r.code === 3 ? 'integrity' : 'protocol', `${what} failed on the device (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout.toString('utf8').trim();
}

/**
 * Copies a local file to the device's staging dir over the SSH connection, resumable: the part file on the device
 * only ever holds a prefix of the archive, so a re-run asks its size and sends the rest. The finished file is
 * checked with sha256 before it is renamed into place.
 */
export async function stageFile(
  conn: SshConnection,
  local: { path: string; size: number; sha256: string },
  onProgress: (p: Progress) => void,
  opts: { stallMs?: number; signal?: AbortSignal } = {},
): Promise<StageResult> {
  const cancelled = () => new OutpostError('cancelled', `the transfer was cancelled; what reached the device stays staged and a re-run resumes it`);
  if (opts.signal?.aborted) throw cancelled();
  const name = `${local.sha256}.tar`;
  const finalPath = `${STAGING_DIR}/${name}`;
  const partPath = `${finalPath}.part`;
  const done = await conn.run(['test', '-f', finalPath]);
  if (done.code === 0) return { remotePath: finalPath, bytesSent: 0, resumedFrom: local.size };

  let offset = Number(await runOk(conn, ['sh', '-c', SIZE_SCRIPT, 'sh', STAGING_DIR, partPath], 'checking the staged part'));
  if (!Number.isInteger(offset) || offset > local.size) {
    await runOk(conn, ['rm', '-f', partPath], 'discarding a foreign part file');
    offset = 0;
  }
  const resumedFrom = offset;
  let sent = 0;
  if (offset < local.size) {
    const handle = await conn.exec(['sh', '-c', WRITE_AT_SCRIPT, 'sh', partPath, String(offset)]);
    // ssh2 emits a channel's close only after its output is consumed, even when there is none.
    handle.stdout.resume();
    let stalled: (why: Error) => void = () => undefined;
    const stall = new Promise<never>((_, reject) => {
      stalled = reject;
    });
    stall.catch(() => undefined);
    let stderr = '';
    const watch = watchProgress(offset, local.size, onProgress, opts.stallMs ?? 20_000, (why) => {
      stalled(why);
      handle.stdin.destroy();
      handle.channel.close();
    });
    // A cancel ends the copy and drops the link: up to a channel window (MiBs) handed to SSH would otherwise keep
    // draining over a slow link for seconds, holding up whatever uses it next (and the CLI's exit). The part file
    // keeps what the device wrote; the next use reconnects.
    const onAbort = () => {
      stalled(cancelled());
      handle.stdin.destroy();
      handle.channel.close();
      conn.destroy();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    handle.stderr.on('data', (b: Buffer) => {
      const text = b.toString('utf8');
      const written = [...text.matchAll(/(\d+) bytes/g)].at(-1)?.[1];
      if (written !== undefined) watch.confirmed(Number(written));
      else if (stderr.length < 4096) stderr += text;
    });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        cb(null, chunk);
      },
    });
    const copy = async () => {
      await pipeline(createReadStream(local.path, { start: offset, highWaterMark: 256 * 1024 }), counter, handle.stdin);
      const exit = await handle.exit;
      if (exit.code !== 0) {
        if (!conn.isOpen) throw new OutpostError('unreachable', `the link dropped during the transfer; run again to resume`);
        throw new OutpostError('protocol', `writing the staged file failed (exit ${exit.code}): ${stderr.trim()}`);
      }
    };
    try {
      await Promise.race([copy(), stall]);
    } catch (err) {
      if (err instanceof OutpostError) throw err;
      throw new OutpostError('unreachable', `the link dropped after ${offset + sent} of ${local.size} bytes were handed to SSH; run again to resume (${(err as Error).message})`);
    } finally {
      watch.stop();
      opts.signal?.removeEventListener('abort', onAbort);
    }
    onProgress({ bytesSent: local.size, bytesTotal: local.size, bytesPerSecond: watch.rate(), etaSeconds: 0 });
  }
  await runOk(conn, ['sh', '-c', FINISH_SCRIPT, 'sh', partPath, local.sha256, finalPath], 'verifying the staged archive');
  return { remotePath: finalPath, bytesSent: sent, resumedFrom };
}

/**
 * Progress as the device confirms it (dd's own count of bytes written): ssh2 accepts a whole channel window (2 MiB)
 * at once, so bytes handed to SSH say little about bytes on the wire. No growth for `stallMs` means a dead link;
 * `abort` then ends the copy so a re-run can resume.
 */
function watchProgress(offset: number, total: number, onProgress: (p: Progress) => void, stallMs: number, abort: (why: Error) => void) {
  const started = Date.now();
  let confirmed = offset;
  let grewAt = Date.now();
  const rate = () => Math.round((confirmed - offset) / Math.max((Date.now() - started) / 1000, 0.001));
  const timer = setInterval(() => {
    if (Date.now() - grewAt > stallMs) abort(new OutpostError('timeout', `the link stalled: the device took no bytes for ${stallMs} ms`));
  }, 1000);
  return {
    stop: () => clearInterval(timer),
    rate,
    confirmed(writtenThisRun: number) {
      if (offset + writtenThisRun <= confirmed) return;
      confirmed = offset + writtenThisRun;
      grewAt = Date.now();
      const bps = rate();
      onProgress({ bytesSent: confirmed, bytesTotal: total, bytesPerSecond: bps, etaSeconds: bps > 0 ? Math.round((total - confirmed) / bps) : null });
    },
  };
}

/** `docker load` from the staged file on the device itself, so the archive crosses the link once. */
/**
 * Loads a staged archive into the engine Outpost found (its socket), with the device's docker CLI; on a Podman
 * device without one, with `podman load`. The archive stays staged when the load fails (a retry resumes nothing).
 */
export async function loadStaged(conn: SshConnection, remotePath: string, engine: { socket: string; product: string } = { socket: '/var/run/docker.sock', product: 'docker' }): Promise<string> {
  let r = await conn.run(['docker', '-H', `unix://${engine.socket}`, 'load', '-i', remotePath]);
  let tool = 'docker load';
  if (r.code === 127 && engine.product === 'podman') {
    tool = 'podman load';
    r = await conn.run(['podman', '--url', `unix://${engine.socket}`, 'load', '-i', remotePath]);
  }
  if (r.code === 127) throw new OutpostError('unsupported', `the device has no docker${engine.product === 'podman' ? ' or podman' : ''} CLI to load the staged archive`);
  if (r.code !== 0) throw new OutpostError('engine-http', `${tool} on the device failed: ${r.stderr.trim() || r.stdout.toString('utf8').trim()}`);
  await conn.run(['rm', '-f', remotePath]);
  return r.stdout.toString('utf8').trim();
}
