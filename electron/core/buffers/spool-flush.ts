import { OutpostError } from '../../../shared/errors';
import type { ExecHandle } from '../transport/ssh-connection';
import { AckChannel } from './ack-channel';
import { streamTotals, type DeviceFlushContext } from './device-ops';
import { OffThreadWriter } from './off-thread-writer';
import { CAT_STDIN_FILES, shArgv } from './remote-scripts';
import type { NewSegment } from './segment-store';
import { SizedSplitter } from './sized-splitter';
import { MAX_SIDECAR, deviceHashes, readSidecars, scanSpool, sidecarChecksum, type SizedEntry } from './spool-scan';

/** A group commit: this many bytes or segments are renamed, indexed and acknowledged together. */
const GROUP_BYTES = 32 * 1024 * 1024;
const GROUP_SEGMENTS = 64;
/** Back-pressure: stop reading the SSH stream while the writer thread has this much queued. */
const WRITER_HIGH = 32 * 1024 * 1024;
const WRITER_LOW = 8 * 1024 * 1024;

const ignore = (): void => undefined;

/** What the device deletes (or moves) for held segments: sidecars go with their segment. */
function ackNames(mode: 'delete' | 'move', entries: readonly SizedEntry[]): string[] {
  if (mode === 'move') return entries.map((e) => e.rel);
  return entries.flatMap((e) => (e.sidecarBytes !== null ? [e.rel, `${e.rel}.sha256`] : [e.rel]));
}

/**
 * Drains one spool root: listing, resume check, one streamed transfer, group commits, acknowledgement. The listing,
 * the transfer and the acknowledgement channels are opened together — exec set-up, not bandwidth, dominates the
 * start of a flush — and the transfer and acknowledgement scripts wait on stdin until the listing is validated.
 */
export async function flushSpool(ctx: DeviceFlushContext, root: string): Promise<void> {
  const T0 = Date.now(); const tr = (m: string) => process.env.EXP_TRACE && console.error(`[trace] ${Date.now() - T0} ms ${m}`);
  const scanning = scanSpool(ctx.conn, root, ctx.stallMs);
  void scanning.then(() => tr('scanned'));
  const transfer = ctx.conn.exec(shArgv(CAT_STDIN_FILES, 'outpost-flush', [root]));
  const acking = AckChannel.open(ctx.conn, root, ctx.ackMode, ctx.stallMs);
  transfer.catch(ignore);
  acking.catch(ignore);
  try {
    const scan = await scanning;
    const handle = await transfer;
    const acks = await acking;
    if (!scan) return;
    ctx.result.refused.push(...scan.listing.refused);
    for (const e of scan.entries) {
      streamTotals(ctx.result, e.stream);
      ctx.progress.addTotal(e.stream, e.size);
    }
    const settled = await alreadyHeld(ctx, root, scan.entries);
    if (settled.length) {
      await acks.ack(ackNames(ctx.ackMode, settled));
      for (const e of settled) {
        streamTotals(ctx.result, e.stream).duplicatesSkipped++;
        ctx.progress.advance(e.stream, e.size, false);
      }
    }
    tr('channels ready');
    const done = new Set(settled);
    await receive(ctx, root, scan.entries.filter((e) => !done.has(e)), handle, acks);
    tr('received');
  } finally {
    void transfer.then((h) => h.channel.close(), ignore);
    void acking.then((a) => a.close(), ignore).catch(ignore);
  }
}

/**
 * After a crash between "indexed" and "acknowledged" the laptop already holds some of these: prove it by checksum
 * (the sidecar's, else one computed on the device — nothing crosses the link) so they are only acknowledged.
 */
async function alreadyHeld(ctx: DeviceFlushContext, root: string, entries: SizedEntry[]): Promise<SizedEntry[]> {
  const key = (e: SizedEntry) => ({ deviceId: ctx.device.id, stream: e.stream, segment: e.segment });
  const maybeHeld = entries.filter((e) => ctx.store.heldSizes(key(e)).includes(e.size));
  if (!maybeHeld.length) return [];
  const sidecars = await readSidecars(ctx.conn, root, maybeHeld, ctx.stallMs);
  const usable = (e: SizedEntry) => {
    const sum = sidecars.get(e.rel);
    return sum && sum !== 'malformed' ? sum : undefined;
  };
  const needHash = maybeHeld.filter((e) => !usable(e));
  const hashes = needHash.length ? await deviceHashes(ctx.conn, root, needHash.map((e) => e.rel), ctx.stallMs * 4) : new Map<string, string>();
  return maybeHeld.filter((e) => {
    const sum = usable(e) ?? hashes.get(e.rel);
    return sum !== undefined && ctx.store.holds(key(e), sum);
  });
}

type Finalized = { kind: 'verified'; entry: SizedEntry; tmpPath: string; segment: NewSegment } | { kind: 'duplicate'; entry: SizedEntry } | { kind: 'quarantined' };

/** Checks a received, fsynced segment against the producer's or the device's checksum: keep, drop or quarantine. */
async function finalize(ctx: DeviceFlushContext, entry: SizedEntry, tmpPath: string, written: Promise<{ sha256: string; bytes: number }>, sidecar: string | undefined, deviceSums: Promise<Map<string, string>>): Promise<Finalized> {
  const { sha256, bytes } = await written;
  const key = { deviceId: ctx.device.id, stream: entry.stream, segment: entry.segment };
  const expected = sidecar === undefined ? ((await deviceSums).get(entry.rel) ?? '') : sidecar === 'malformed' ? '' : sidecar;
  let reason: string | null = null;
  if (sidecar === 'malformed') reason = 'its .sha256 sidecar is malformed';
  else if (!expected) reason = 'the device gave no checksum for it (vanished or unreadable?)';
  else if (sha256 !== expected) reason = sidecar ? 'checksum mismatch against its .sha256 sidecar (corrupt or truncated)' : "checksum mismatch against the device's sha256sum";
  if (reason) {
    ctx.store.quarantine(tmpPath, key, sha256, expected || null, reason);
    ctx.result.quarantined.push({ stream: key.stream, segment: key.segment, reason });
    streamTotals(ctx.result, key.stream).quarantined++;
    return { kind: 'quarantined' };
  }
  if (ctx.store.holds(key, sha256)) {
    ctx.store.discard(tmpPath);
    return { kind: 'duplicate', entry };
  }
  return { kind: 'verified', entry, tmpPath, segment: { ...key, sha256, bytes, kind: 'spool', records: null, sourceTime: entry.mtime } };
}

/**
 * ONE `cat` streams every segment, each preceded by its sidecar. Chunks are copied to a writer thread that hashes,
 * writes and fsyncs them as they arrive (no per-segment round trip, no Buffer.concat), so this thread only
 * decrypts and splits. Verified segments are committed in groups (renames + one dir fsync + one index
 * transaction) and each group is acknowledged on the ack channel while the transfer continues.
 */
async function receive(ctx: DeviceFlushContext, root: string, entries: SizedEntry[], handle: ExecHandle, acks: AckChannel): Promise<void> {
  if (!entries.length) return;
  const parts: Array<{ entry: SizedEntry; sidecar: boolean }> = [];
  const sidecars = new Map<SizedEntry, string>();
  for (const e of entries) {
    if (e.sidecarBytes !== null) {
      if (e.sidecarBytes >= 0 && e.sidecarBytes <= MAX_SIDECAR) parts.push({ entry: e, sidecar: true });
      else sidecars.set(e, 'malformed');
    }
    parts.push({ entry: e, sidecar: false });
  }
  // Hashed on the device beside the transfer (another channel), only for segments without a producer checksum.
  const needSums = entries.filter((e) => e.sidecarBytes === null).map((e) => e.rel);
  const deviceSums = needSums.length ? deviceHashes(ctx.conn, root, needSums, ctx.stallMs * 4) : Promise.resolve(new Map<string, string>());
  deviceSums.catch(ignore);
  handle.stdin.end(parts.map((p) => (p.sidecar ? `${p.entry.rel}.sha256\n` : `${p.entry.rel}\n`)).join(''));
  let stderr = '';
  handle.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });

  const writer = new OffThreadWriter();
  const splitter = new SizedSplitter(parts.map((p) => (p.sidecar ? (p.entry.sidecarBytes ?? 0) : p.entry.size)));
  let current: { id: number; tmpPath: string; release: () => void } | null = null;
  let sidecarText = '';
  let group: Array<Promise<Finalized>> = [];
  let groupBytes = 0;
  let failure: unknown = null;
  let chain: Promise<void> = Promise.resolve();

  const commitGroup = (pending: Array<Promise<Finalized>>): void => {
    chain = chain
      .then(async () => {
        const outcomes = await Promise.allSettled(pending);
        const verified: Array<Extract<Finalized, { kind: 'verified' }>> = [];
        const dups: SizedEntry[] = [];
        for (const o of outcomes) {
          if (o.status === 'rejected') failure ??= o.reason;
          else if (o.value.kind === 'verified') verified.push(o.value);
          else if (o.value.kind === 'duplicate') dups.push(o.value.entry);
        }
        ctx.store.commit(verified);
        for (const v of verified) {
          const t = streamTotals(ctx.result, v.segment.stream);
          t.segments++;
          t.bytes += v.segment.bytes;
        }
        for (const d of dups) streamTotals(ctx.result, d.stream).duplicatesSkipped++;
        const held = [...verified.map((v) => v.entry), ...dups];
        if (held.length) await acks.ack(ackNames(ctx.ackMode, held));
      })
      .catch((err: unknown) => {
        failure ??= err;
      });
  };

  let lastData = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - lastData > ctx.stallMs) {
      handle.stdout.destroy(new OutpostError('unreachable', `the transfer from ${ctx.device.name} stalled for ${Math.round(ctx.stallMs / 1000)} s (link down?); flush again to resume`));
    }
  }, 250);
  try {
    for await (const chunk of handle.stdout as AsyncIterable<Buffer>) {
      lastData = Date.now();
      if (failure) throw failure;
      for (const ev of splitter.push(chunk)) {
        if (ev.type === 'trailer') {
          if (ev.exitCode !== 0) throw new OutpostError('protocol', `reading segments on ${ctx.device.name} failed (cat exit ${ev.exitCode}): ${stderr.trim().slice(0, 300)}`);
          continue;
        }
        const part = parts[ev.index];
        if (!part) continue;
        const entry = part.entry;
        if (part.sidecar) {
          if (ev.type === 'start') sidecarText = '';
          else if (ev.type === 'data') sidecarText += ev.chunk.toString('utf8');
          else sidecars.set(entry, sidecarChecksum(sidecarText));
        } else if (ev.type === 'start') {
          const release = ctx.store.reserve(entry.size);
          const tmpPath = ctx.store.tmpPath();
          current = { id: writer.open(tmpPath), tmpPath, release };
        } else if (ev.type === 'data' && current) {
          writer.write(current.id, ev.chunk);
          ctx.progress.advance(entry.stream, ev.chunk.length);
        } else if (ev.type === 'end' && current) {
          const release = current.release;
          const written = writer.end(current.id).finally(release);
          const outcome = finalize(ctx, entry, current.tmpPath, written, sidecars.get(entry), deviceSums);
          // A failed write (full disk) stops the transfer at the next chunk, not at the next group.
          outcome.catch((err: unknown) => (failure ??= err));
          group.push(outcome);
          groupBytes += entry.size;
          current = null;
          if (groupBytes >= GROUP_BYTES || group.length >= GROUP_SEGMENTS) {
            commitGroup(group);
            group = [];
            groupBytes = 0;
          }
        }
      }
      if (writer.pendingBytes > WRITER_HIGH) await writer.drained(WRITER_LOW);
    }
    if (!splitter.done) {
      const lost = !ctx.conn.isOpen || !stderr.trim();
      throw new OutpostError(lost ? 'unreachable' : 'protocol', `the transfer from ${ctx.device.name} ended early: ${stderr.trim().slice(0, 300) || 'the connection closed'}; flush again to resume`);
    }
  } catch (err) {
    failure ??= err;
    handle.channel.close();
  } finally {
    clearInterval(watchdog);
    if (current) {
      writer.abort(current.id);
      current.release();
    }
  }
  // Whatever arrived whole and verified is committed and acknowledged even when the transfer failed.
  commitGroup(group);
  await chain;
  await writer.close();
  if (failure) throw failure;
}
