import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { OutpostError } from '../../../shared/errors';
import type { ExecHandle, SshConnection } from '../transport/ssh-connection';
import { FLUSH_SESSION, shArgv } from './remote-scripts';
import type { SpoolEntry } from './spool-names';
import { listingEnd, parseScan, type SpoolScan } from './spool-scan';

/** Segments per acknowledgement batch: keeps each `rm` (2 names a segment) far below any device's ARG_MAX. */
const ACK_BATCH = 400;

/**
 * Names as FLUSH_SESSION reads them: `@<stream>` whenever the stream changes, then `<segment>` per line, or
 * `+<segment>` for "its .sha256 sidecar, then it" (transfer list only). A third of the bytes of full relative paths:
 * the device's shell reads them one byte (one syscall) at a time.
 */
export function nameLines(items: ReadonlyArray<Pick<SpoolEntry, 'stream' | 'segment'> & { sidecar?: boolean }>): string {
  let out = '';
  let stream: string | null = null;
  for (const it of items) {
    if (it.stream !== stream) {
      out += `@${it.stream}\n`;
      stream = it.stream;
    }
    out += `${it.sidecar ? '+' : ''}${it.segment}\n`;
  }
  return out;
}

/**
 * A stream's chunks, handed out as they arrived. A Readable's async iterator returns everything queued since its
 * last read as one Buffer.concat (a copy and a fresh allocation each time, ~3% of the flush's main thread and more
 * of its garbage collection at 1 Gbit/s); this queue never copies. It pauses the stream while more than `high` bytes
 * wait (SSH flow control then holds the device), and ends on the stream's end or close.
 */
export class ChunkQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  private queued = 0;
  private ended = false;
  private dropping = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly stream: Readable,
    private readonly high = 2 * 1024 * 1024,
  ) {
    stream.on('data', (c: Buffer) => {
      if (this.dropping) return;
      this.chunks.push(c);
      this.queued += c.length;
      if (this.queued > this.high) stream.pause();
      this.notify();
    });
    const end = () => {
      this.ended = true;
      this.notify();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.once('error', (err: Error) => {
      this.error ??= err;
      this.notify();
    });
  }

  async next(): Promise<IteratorResult<Buffer, undefined>> {
    for (;;) {
      if (this.head < this.chunks.length) {
        const chunk = this.chunks[this.head++] as Buffer;
        if (this.head === this.chunks.length) {
          this.chunks = [];
          this.head = 0;
        }
        this.queued -= chunk.length;
        if (this.queued <= this.high / 2 && this.stream.isPaused()) this.stream.resume();
        return { done: false, value: chunk };
      }
      if (this.error) throw this.error;
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** From now on chunks are dropped as they come, and the stream never waits for a reader. */
  drop(): void {
    this.dropping = true;
    this.chunks = [];
    this.head = 0;
    this.queued = 0;
    this.stream.resume();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/**
 * The laptop side of FLUSH_SESSION (remote-scripts.ts): one exec per spool root carries the listing, the transfer,
 * the device-side checksums and every acknowledgement. stdout is the listing then the transfer stream; stderr
 * carries `sha256sum` lines, `OUTPOST-HASHED`, one `OUTPOST-ACK ok` per applied batch, and any error text.
 */
export class FlushSession {
  private readonly source: ChunkQueue;
  private leftover: Buffer | null = null;
  private errLine = '';
  private errText = '';
  private readonly sums = new Map<string, string>();
  private hashed!: { resolve(m: Map<string, string>): void; reject(e: Error): void };
  /** Device checksums of the segments listed in `request(…, hash)`, once the device printed them all. */
  readonly deviceSums: Promise<Map<string, string>>;
  private readonly probeLines = new Set<string>();
  private probed!: { resolve(lines: Set<string>): void; reject(e: Error): void };
  /** PROBE_SOURCES' answer lines (`outbox <file>`, `sqlite3`) for the outbox files given to open(). */
  readonly probe: Promise<Set<string>>;
  private readonly ackWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private broken: Error | null = null;
  private draining = false;
  /** Set once the caller's watchdog gave up on a silent device. */
  stallError: OutpostError | null = null;
  private acks: Promise<void> = Promise.resolve();
  /** Set by the caller once the transfer trailer arrived (only checksums and acknowledgements remain). */
  transferDone = false;
  /** Time of the last byte from the device, for the caller's stall watchdog. */
  lastData = Date.now();
  private encoding: 'plain' | 'gzip' = 'plain';

  private constructor(
    private readonly handle: ExecHandle,
    private readonly root: string,
    private readonly stallMs: number,
  ) {
    this.source = new ChunkQueue(handle.stdout);
    this.deviceSums = new Promise((resolve, reject) => (this.hashed = { resolve, reject }));
    this.deviceSums.catch(() => undefined);
    this.probe = new Promise((resolve, reject) => (this.probed = { resolve, reject }));
    this.probe.catch(() => undefined);
    handle.stderr.on('data', (c: Buffer) => this.onStderr(c));
    void handle.exit.then(({ code }) => {
      const detail = this.stderr ? `: ${this.stderr}` : '';
      this.fail(new OutpostError(code === null ? 'unreachable' : 'protocol', `the flush session on the device ended (exit ${String(code)})${detail}`));
    });
  }

  static async open(conn: SshConnection, root: string, ackMode: 'delete' | 'move', stallMs: number, probeOutboxes: readonly string[] = []): Promise<FlushSession> {
    return new FlushSession(await conn.exec(shArgv(FLUSH_SESSION, 'outpost-flush', [root, ackMode, ...probeOutboxes])), root, stallMs);
  }

  /** What the device printed on stderr that is not protocol (error messages), bounded. */
  get stderr(): string {
    return this.errText.trim().slice(0, 300);
  }

  /** Reads the listing; null when the spool root is absent (or a symlink). */
  async listing(): Promise<SpoolScan | null> {
    let buf: Buffer = Buffer.alloc(0);
    for (;;) {
      const end = listingEnd(buf);
      if (end >= 0) {
        this.leftover = end < buf.length ? buf.subarray(end) : null;
        return parseScan(this.root, buf.subarray(0, end));
      }
      const next = await this.source.next();
      if (this.stallError) throw this.stallError;
      if (next.done) {
        const { code } = await this.handle.exit;
        if (code === 3) return null;
        throw new OutpostError(code === null ? 'unreachable' : 'protocol', `listing ${this.root} on the device failed (exit ${String(code)}): ${this.stderr || 'the connection closed'}`);
      }
      this.lastData = Date.now();
      buf = buf.length ? Buffer.concat([buf, next.value]) : next.value;
    }
  }

  /**
   * Starts the transfer of `send` (in this order; a segment `sidecar: true` is preceded by its .sha256), gzipped on
   * the device or not, and the device checksums of `hash`.
   */
  request(send: ReadonlyArray<SpoolEntry & { sidecar: boolean }>, hash: readonly SpoolEntry[], encoding: 'plain' | 'gzip' = 'plain'): void {
    this.encoding = encoding;
    this.handle.stdin.write(`${encoding} ${hash.length}\n${nameLines(send)}.\n${nameLines(hash)}.\n`);
  }

  /** The transfer stream (decompressed): whatever followed the listing, then the rest of stdout. */
  async *transfer(): AsyncGenerator<Buffer> {
    if (this.encoding === 'gzip') {
      yield* this.gunzipped();
      return;
    }
    yield* this.raw();
  }

  private async *raw(): AsyncGenerator<Buffer> {
    if (this.leftover) yield this.leftover;
    this.leftover = null;
    for (;;) {
      const next = await this.source.next();
      if (next.done) return;
      this.lastData = Date.now();
      yield next.value;
    }
  }

  /** gunzip on the laptop as the stream arrives; a corrupt stream fails the transfer (kind protocol), nothing is stored from it. */
  private async *gunzipped(): AsyncGenerator<Buffer> {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const raw = Readable.from(this.raw(), { objectMode: false });
    raw.on('error', (err) => gunzip.destroy(err));
    raw.pipe(gunzip);
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
    } catch (err) {
      if (this.stallError) throw this.stallError;
      // Cut short (the link or the device went away): the caller reports the transfer as ended early.
      if ((err as { code?: string }).code === 'Z_BUF_ERROR') return;
      throw new OutpostError('protocol', `the compressed transfer from the device is corrupt: ${(err as Error).message}`);
    } finally {
      raw.destroy();
    }
  }

  /** Deletes (or moves) these segments on the device, sidecars along, in order; resolves once the device confirmed every batch. */
  ack(segments: readonly SpoolEntry[]): Promise<void> {
    const run = this.acks.then(async () => {
      for (let i = 0; i < segments.length; i += ACK_BATCH) await this.ackBatch(segments.slice(i, i + ACK_BATCH));
    });
    this.acks = run.catch(() => undefined);
    return run;
  }

  /** Ends the session after the last acknowledgement; the device script exits on end of input. */
  async finish(): Promise<void> {
    this.discardTransfer();
    await this.acks;
    this.handle.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.handle.exit, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.stallMs)))]);
    clearTimeout(timer);
    this.close();
  }

  /** Abandons a silent (or cancelled) session: whatever waits on it fails with kind `unreachable` (or `cancelled`). */
  stall(message: string, kind: 'unreachable' | 'cancelled' = 'unreachable'): void {
    this.stallError ??= new OutpostError(kind, message);
    this.fail(this.stallError);
    this.close();
  }

  /** Stops everything on the device (closing the channel ends its processes). */
  close(): void {
    this.handle.channel.close();
  }

  /**
   * Keeps stdout flowing, bytes dropped, once the transfer is over or abandoned: SSH flow control shares one window
   * between stdout and stderr, so an unread stdout would hold back the acknowledgements' answers.
   */
  discardTransfer(): void {
    if (this.draining) return;
    this.draining = true;
    this.source.drop();
  }

  private ackBatch(segments: readonly SpoolEntry[]): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<void>((resolve, reject) => {
      // The device answers once it is done hashing segments without a sidecar, hence the same patience as that.
      const timer = setTimeout(() => this.fail(new OutpostError('unreachable', `acknowledging segments in ${this.root}: the device did not confirm within ${Math.round((this.stallMs * 4) / 1000)} s (link down?)`)), this.stallMs * 4);
      this.ackWaiters.push({ resolve: () => (clearTimeout(timer), resolve()), reject: (e) => (clearTimeout(timer), reject(e)) });
      // One write per batch: the device applies it only once it has read the closing `.` line.
      this.handle.stdin.write(`${nameLines(segments.map(({ stream, segment }) => ({ stream, segment })))}.\n`);
    });
  }

  private onStderr(chunk: Buffer): void {
    this.lastData = Date.now();
    this.errLine += chunk.toString('utf8');
    for (let nl = this.errLine.indexOf('\n'); nl >= 0; nl = this.errLine.indexOf('\n')) {
      const line = this.errLine.slice(0, nl);
      this.errLine = this.errLine.slice(nl + 1);
      const sum = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
      if (sum?.[1] && sum[2]) this.sums.set(sum[2], sum[1]);
      else if (line === 'OUTPOST-PROBE end') this.probed.resolve(this.probeLines);
      else if (line.startsWith('OUTPOST-PROBE ')) this.probeLines.add(line.slice('OUTPOST-PROBE '.length));
      else if (line === 'OUTPOST-HASHED') this.hashed.resolve(this.sums);
      else if (line === 'OUTPOST-ACK ok') this.ackWaiters.shift()?.resolve();
      else if (line === 'OUTPOST-ACK failed') this.fail(new OutpostError('protocol', `acknowledging segments in ${this.root} failed on the device: ${this.stderr}`));
      else if (this.errText.length < 4096) this.errText += `${line}\n`;
    }
  }

  private fail(err: Error): void {
    this.broken ??= err;
    this.hashed.reject(this.broken);
    this.probed.reject(this.broken);
    for (const w of this.ackWaiters.splice(0)) w.reject(this.broken);
  }
}
