import type { FlushCompression } from '../../../shared/contract';
import type { SshConnection } from '../transport/ssh-connection';
import { runBounded } from './device-ops';
import type { SizedEntry } from './spool-scan';

/** Below this much to send, a flush neither measures nor compresses: the measurements would cost more than they save. */
export const PROBE_MIN_BYTES = 16 * 1024 * 1024;
/** A decision holds this long; then the next big flush measures again (another site, another cable). */
export const DECISION_TTL_MS = 6 * 60 * 60 * 1000;
/** Random bytes sent across the link, the second half timed: ~0.35 s at 100 Mbit/s, ~40 ms at 1 Gbit/s. */
export const LINK_PROBE_BYTES = 4 * 1024 * 1024;
/** Spool bytes gzipped on the device for its rate and ratio. */
export const COMPRESS_PROBE_BYTES = 4 * 1024 * 1024;
/**
 * The first look: this much is gzipped before anything is timed. Data that does not compress at all (random,
 * encrypted, already compressed) ends the probe there: gzip -1 of the whole 4 MiB sample cost the device ~0.08 cpu-s,
 * as much as its sshd spends sending 25 MB.
 */
export const LOOK_PROBE_BYTES = 256 * 1024;
/** Below this ratio on the first look the data is called incompressible without the timed run (MIN_GAIN is far above). */
const LOOK_MIN_RATIO = 1.1;
/** Compress only for at least this speed-up: gzip also costs the device CPU and the laptop a gunzip. */
const MIN_GAIN = 1.25;

const mb = (bps: number) => `${(bps / 1e6).toFixed(bps < 1e7 ? 1 : 0)} MB/s`;

/**
 * Plain, the stream moves at the link's rate L. Compressed, it moves at min(C, r·L): the device's gzip rate C, or the
 * link carrying r times fewer bytes. gzip pays when that is clearly faster — on a 100 Mbit/s site link with NDJSON
 * (r 5-10x, C far above 12 MB/s), never on a 1 GbE link with a Pi's gzip, never for data that does not compress.
 */
export function decideCompression(m: { linkBps: number | null; compressBps: number | null; ratio: number | null }, now = new Date()): FlushCompression {
  const base = { linkBps: m.linkBps, compressBps: m.compressBps, ratio: m.ratio, decidedAt: now.toISOString() };
  if (m.ratio === null) return { ...base, choice: 'none', reason: 'the device has no gzip' };
  if (m.ratio < MIN_GAIN) return { ...base, choice: 'none', reason: `the spool's data compresses only ${m.ratio.toFixed(2)}x` };
  if (m.compressBps === null) return { ...base, choice: 'none', reason: "the device's gzip rate could not be measured" };
  if (m.linkBps === null) return { ...base, choice: 'none', reason: 'the link rate could not be measured' };
  const gain = Math.min(m.compressBps, m.ratio * m.linkBps) / m.linkBps;
  if (gain >= MIN_GAIN) return { ...base, choice: 'gzip', reason: `link ${mb(m.linkBps)}, device gzip ${mb(m.compressBps)} at ${m.ratio.toFixed(1)}x: ~${gain.toFixed(1)}x faster compressed` };
  return { ...base, choice: 'none', reason: `link ${mb(m.linkBps)} is about as fast as the device compresses (${mb(m.compressBps)} at ${m.ratio.toFixed(1)}x)` };
}

/** A recorded decision that still holds, or null when the next big flush should measure again. */
export function standingDecision(recorded: FlushCompression | undefined, now = new Date()): FlushCompression | null {
  if (!recorded) return null;
  const age = now.getTime() - Date.parse(recorded.decidedAt);
  return Number.isFinite(age) && age >= 0 && age < DECISION_TTL_MS ? recorded : null;
}

/**
 * gzip -1 of the first segments on the device, timed there (/proc/uptime, 10 ms steps: the sample is sized to take
 * tens of ms even on a fast CPU). Arguments: root, sample bytes, first-look bytes, the files. Prints `nogzip`;
 * `look <compressed bytes>` when the first look (LOOK_PROBE_BYTES) compressed by less than 1/0.9 (~1.11x, far below
 * MIN_GAIN: no timed run needed); or `<compressed bytes> <t0> <t1>`.
 */
export const COMPRESS_PROBE = [
  'cd "$1" || exit 3',
  'n=$2',
  'q=$3',
  'shift 3',
  'command -v gzip >/dev/null 2>&1 || { echo nogzip; exit 0; }',
  'z=$(cat -- "$@" | head -c "$q" | gzip -1 -c | wc -c)',
  'if [ "$((z * 10))" -gt "$((q * 9))" ]; then echo "look $z"; exit 0; fi',
  'read a _ < /proc/uptime',
  'z=$(cat -- "$@" | head -c "$n" | gzip -1 -c | wc -c)',
  'read b _ < /proc/uptime',
  'echo "$z $a $b"',
].join('\n');

/** The first look's answer (`look <compressed bytes>`): the ratio of an incompressible sample, else null. */
export function parseLookProbe(stdout: string, lookBytes: number): number | null {
  const m = /^look (\d+)\s*$/m.exec(stdout);
  if (!m || !(Number(m[1]) > 0)) return null;
  const ratio = lookBytes / Number(m[1]);
  return ratio < LOOK_MIN_RATIO ? ratio : null;
}

export function parseCompressProbe(stdout: string, inputBytes: number): { compressBps: number; ratio: number } | null {
  const m = /^(\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)\s*$/m.exec(stdout);
  if (!m) return null;
  const compressed = Number(m[1]);
  // /proc/uptime counts in 10 ms steps: a sample done within one step took at most that.
  const seconds = Math.max(Number(m[3]) - Number(m[2]), 0.01);
  if (!(compressed > 0) || !(inputBytes > 0)) return null;
  return { compressBps: inputBytes / seconds, ratio: inputBytes / compressed };
}

/**
 * Times the second half of LINK_PROBE_BYTES of /dev/urandom as the laptop receives it. The first half only fills
 * what buffers along the way (the exec's set-up, a switch's or a shaper's burst allowance, the SSH window) and would
 * make a slow link look fast.
 */
export async function probeLink(conn: SshConnection, stallMs: number): Promise<number | null> {
  const handle = await conn.exec(['head', '-c', String(LINK_PROBE_BYTES), '/dev/urandom']);
  let received = 0;
  let from = 0;
  let fromBytes = 0;
  let last = 0;
  const timer = setTimeout(() => handle.channel.close(), stallMs);
  try {
    for await (const chunk of handle.stdout as AsyncIterable<Buffer>) {
      received += chunk.length;
      last = performance.now();
      if (!from && received >= LINK_PROBE_BYTES / 2) {
        from = last;
        fromBytes = received;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  const seconds = (last - from) / 1000;
  const bytes = received - fromBytes;
  return from && received === LINK_PROBE_BYTES && bytes >= LINK_PROBE_BYTES / 4 && seconds > 0 ? bytes / seconds : null;
}

/** Measures the device's gzip on the spool's first segments, then (only if the data compresses) the link. */
export async function measureCompression(conn: SshConnection, root: string, entries: readonly SizedEntry[], stallMs: number): Promise<FlushCompression> {
  const sample: SizedEntry[] = [];
  let sampleBytes = 0;
  for (const e of entries) {
    if (sampleBytes >= COMPRESS_PROBE_BYTES) break;
    sample.push(e);
    sampleBytes += e.size;
  }
  const input = Math.min(sampleBytes, COMPRESS_PROBE_BYTES);
  const look = Math.min(input, LOOK_PROBE_BYTES);
  const r = await runBounded(conn, ['sh', '-c', COMPRESS_PROBE, 'outpost-gzip-probe', root, String(input), String(look), ...sample.map((e) => e.rel)], stallMs, 'measuring the device\'s gzip');
  const out = r.stdout.toString('utf8');
  const lookRatio = parseLookProbe(out, look);
  if (lookRatio !== null) return decideCompression({ linkBps: null, compressBps: null, ratio: lookRatio });
  const gz = out.includes('nogzip') ? null : parseCompressProbe(out, input);
  if (!gz || gz.ratio < MIN_GAIN) return decideCompression({ linkBps: null, compressBps: gz?.compressBps ?? null, ratio: gz?.ratio ?? null });
  return decideCompression({ linkBps: await probeLink(conn, stallMs), ...gz });
}
