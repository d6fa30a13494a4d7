import { OutpostError } from '../../../shared/errors';
import { PROBE_MIN_BYTES, measureCompression, standingDecision } from './compression';
import { streamTotals, type DeviceFlushContext } from './device-ops';
import { FlushSession } from './flush-session';
import { OffThreadWriter } from './off-thread-writer';
import type { NewSegment } from './segment-store';
import { SizedSplitter } from './sized-splitter';
import { MAX_SIDECAR, deviceHashes, readSidecars, sidecarChecksum, type SizedEntry } from './spool-scan';

/** A group commit: this many bytes or segments are renamed, indexed and acknowledged together. */
const GROUP_BYTES = 32 * 1024 * 1024;
// Each group is also one acknowledgement, one `rm` on the device (~1 ms of its CPU): 64 made 16 of them per 100 MB
// of 100 KB segments; the byte bound keeps what a crash could make the next flush fetch again small.
export const GROUP_SEGMENTS = 256;
/** Back-pressure: stop reading the SSH stream while the writer thread has this much queued. */
const WRITER_HIGH = 16 * 1024 * 1024;
const WRITER_LOW = 4 * 1024 * 1024;

/**
 * Drains one spool root in ONE exec (see FLUSH_SESSION): listing, resume check, one streamed transfer, group
 * commits, acknowledgements. Each exec costs a session set-up on the device (~100 ms in the lab, during which sshd
 * relays nothing else), so nothing here opens another one except the rare resume check after a crash.
 */
export async function flushSpool(ctx: DeviceFlushContext, root: string, probeOutboxes: readonly string[] = []): Promise<Set<string>> {
  const session = await FlushSession.open(ctx.conn, root, ctx.ackMode, ctx.stallMs, probeOutboxes);
  const watchdog = setInterval(() => {
    // Once the data is in, the device may be busy hashing segments without a sidecar: as patient as before.
    const limit = session.transferDone ? ctx.stallMs * 4 : ctx.stallMs;
    if (Date.now() - session.lastData > limit) session.stall(`the flush of ${ctx.device.name} stalled for ${Math.round(ctx.stallMs / 1000)} s (link down?); flush again to resume`);
  }, 250);
  // A cancel ends the session like a cut link, at once: segments already acknowledged stay so, everything not yet
  // acknowledged stays on the device (what arrived whole is still indexed, and only re-acknowledged next time).
  const onAbort = () => session.stall(`the flush of ${ctx.device.name} was cancelled; what was not acknowledged stays on the device`, 'cancelled');
  if (ctx.signal?.aborted) onAbort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  let ok = false;
  try {
    const scan = await session.listing();
    const probe = await session.probe;
    if (!scan) return probe;
    ctx.result.refused.push(...scan.listing.refused);
    for (const e of scan.entries) {
      streamTotals(ctx.result, e.stream);
      ctx.progress.addTotal(e.stream, e.size);
    }
    const settled = new Set(await alreadyHeld(ctx, root, scan.entries));
    session.lastData = Date.now(); // the resume check used execs of its own; the session was idle meanwhile
    const settling = receive(ctx, session, root, scan.entries.filter((e) => !settled.has(e)), [...settled]);
    await settling;
    ok = true;
    return probe;
  } finally {
    clearInterval(watchdog);
    ctx.signal?.removeEventListener('abort', onAbort);
    if (ok) await session.finish();
    else session.close();
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
 * gzip on the device when it pays (compression.ts): decided from measurements before a big flush, kept with the
 * device and reused for a while. A small flush uses a standing decision, or sends plain.
 */
async function transferEncoding(ctx: DeviceFlushContext, root: string, entries: readonly SizedEntry[]): Promise<'plain' | 'gzip'> {
  const standing = standingDecision(ctx.device.ssh.compression);
  if (standing) return standing.choice === 'gzip' ? 'gzip' : 'plain';
  const bytes = entries.reduce((n, e) => n + e.size, 0);
  if (bytes < PROBE_MIN_BYTES) return 'plain';
  try {
    const decision = await measureCompression(ctx.conn, root, entries, ctx.stallMs);
    ctx.device = { ...ctx.device, ssh: { ...ctx.device.ssh, compression: decision } };
    ctx.recordCompression?.(decision);
    return decision.choice === 'gzip' ? 'gzip' : 'plain';
  } catch {
    // A measurement that failed decides nothing: this flush goes plain, the next big one measures again.
    return 'plain';
  }
}

/**
 * ONE `cat` streams every segment, each preceded by its sidecar. Chunks are copied to a writer thread that hashes,
 * writes and fsyncs them as they arrive (no per-segment round trip, no Buffer.concat), so this thread only
 * decrypts and splits. Verified segments are committed in groups (renames + one dir fsync + one index
 * transaction) and each group is acknowledged in the same session while the transfer continues.
 */
async function receive(ctx: DeviceFlushContext, session: FlushSession, root: string, entries: SizedEntry[], settled: SizedEntry[]): Promise<void> {
  const parts: Array<{ entry: SizedEntry; sidecar: boolean }> = [];
  const sidecars = new Map<SizedEntry, string>();
  for (const e of entries) {
    if (e.sidecarBytes !== null) {
      if (e.sidecarBytes >= 0 && e.sidecarBytes <= MAX_SIDECAR) parts.push({ entry: e, sidecar: true });
      else sidecars.set(e, 'malformed');
    }
    parts.push({ entry: e, sidecar: false });
  }
  // Segments without a producer checksum are hashed on the device while they stream (same session, on stderr).
  const sent = new Set(parts.filter((p) => p.sidecar).map((p) => p.entry));
  session.request(
    entries.map((e) => ({ ...e, sidecar: sent.has(e) })),
    entries.filter((e) => e.sidecarBytes === null),
    await transferEncoding(ctx, root, entries),
  );
  const acks: Array<Promise<void>> = [];
  if (settled.length) {
    const acked = session.ack(settled).then(() => {
      for (const e of settled) {
        streamTotals(ctx.result, e.stream).duplicatesSkipped++;
        ctx.progress.advance(e.stream, e.size, false);
      }
    });
    acks.push(acked);
  }

  // The writer thread (a V8 isolate of its own) starts with the first segment: a device with nothing to send, the
  // common case when a technician checks a device, never pays for it.
  const lazy: { writer: OffThreadWriter | null } = { writer: null };
  const writer = (): OffThreadWriter => (lazy.writer ??= new OffThreadWriter());
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
        // On the writer thread's own connection: this thread goes on reading the channel meanwhile.
        if (verified.length) await ctx.store.commitOffThread(writer(), verified);
        for (const v of verified) {
          const t = streamTotals(ctx.result, v.segment.stream);
          t.segments++;
          t.bytes += v.segment.bytes;
        }
        for (const d of dups) streamTotals(ctx.result, d.stream).duplicatesSkipped++;
        const held = [...verified.map((v) => v.entry), ...dups];
        // Not awaited here: the next group commits while the device applies this one.
        if (held.length) acks.push(session.ack(held));
      })
      .catch((err: unknown) => {
        failure ??= err;
      });
  };

  try {
    for await (const chunk of session.transfer()) {
      if (failure) throw failure;
      for (const ev of splitter.push(chunk)) {
        if (ev.type === 'trailer') {
          if (ev.exitCode !== 0) throw new OutpostError('protocol', `reading segments on ${ctx.device.name} failed (cat exit ${ev.exitCode}): ${session.stderr}`);
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
          current = { id: writer().open(tmpPath), tmpPath, release };
        } else if (ev.type === 'data' && current) {
          writer().write(current.id, ev.chunk);
          ctx.progress.advance(entry.stream, ev.chunk.length);
        } else if (ev.type === 'end' && current) {
          const release = current.release;
          const written = writer().end(current.id).finally(release);
          const outcome = finalize(ctx, entry, current.tmpPath, written, sidecars.get(entry), session.deviceSums);
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
      // The trailer ends the transfer; the session stays open for the acknowledgements.
      if (splitter.done) {
        session.transferDone = true;
        break;
      }
      if (lazy.writer && lazy.writer.pendingBytes > WRITER_HIGH) await lazy.writer.drained(WRITER_LOW);
    }
    if (!splitter.done) throw session.stallError ?? new OutpostError('unreachable', `the transfer from ${ctx.device.name} ended early: ${session.stderr || 'the connection closed'}; flush again to resume`);
  } catch (err) {
    failure ??= err;
  } finally {
    if (current) {
      writer().abort(current.id);
      current.release();
    }
    session.discardTransfer();
  }
  // Whatever arrived whole and verified is committed and acknowledged even when the transfer failed.
  commitGroup(group);
  await chain;
  await lazy.writer?.close();
  for (const r of await Promise.allSettled(acks)) if (r.status === 'rejected') failure ??= r.reason;
  if (failure) throw failure;
}
