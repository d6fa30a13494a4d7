import { z } from 'zod';
import { channel } from './define';
import { LinkOptions } from './link';
import { ComposeSource } from './workloads';

const DeviceRef = z.string().min(1).max(200);
const TargetSpec = z.string().min(1).max(2048);
const Ms = z.number().nullable();

/** Figures in milliseconds over a window of samples; a lost probe counts in `lost`, never as 0 ms. */
export const LatencySummary = z.object({
  count: z.number().int(),
  lost: z.number().int(),
  lossPct: z.number(),
  min: Ms,
  p50: Ms,
  p95: Ms,
  p99: Ms,
  max: Ms,
  mean: Ms,
  jitter: Ms,
});
export type LatencySummaryWire = z.infer<typeof LatencySummary>;

export const Thresholds = z.object({ p95Ms: z.number().positive().max(600_000).nullable().default(null), lossPct: z.number().min(0).max(100).nullable().default(null) }).strict();
export type Thresholds = z.infer<typeof Thresholds>;
export const ThresholdState = z.enum(['ok', 'p95', 'loss', 'no-data']);
export type ThresholdState = z.infer<typeof ThresholdState>;

export const SeriesInfo = z.object({
  id: z.string(),
  deviceId: z.string(),
  deviceName: z.string(),
  /** Canonical target (see shared/latency/targets.ts). */
  target: z.string(),
  onDevice: z.boolean(),
  /** What actually measures: e.g. "tcp connect from the laptop", "python3 on the device". */
  method: z.string(),
  label: z.string(),
  intervalMs: z.number().int(),
  timeoutMs: z.number().int(),
  running: z.boolean(),
  startedAt: z.string(),
  /** Rolling figures over the last `windowMs`. */
  windowMs: z.number().int(),
  stats: LatencySummary,
  /** Time to first byte, for HTTP probes. */
  ttfb: LatencySummary.nullable(),
  thresholds: Thresholds,
  state: ThresholdState,
  lastError: z.object({ kind: z.string(), message: z.string() }).nullable(),
});
export type SeriesInfo = z.infer<typeof SeriesInfo>;

const ProbeArgs = {
  device: DeviceRef,
  target: TargetSpec,
  /** Run the probe on the device itself (tcp and http), so link and workload latency are told apart. */
  onDevice: z.boolean().default(false),
  intervalMs: z.number().int().min(50).max(60_000).default(1000),
  timeoutMs: z.number().int().min(50).max(60_000).default(2000),
  link: LinkOptions.optional(),
};

export const SeriesWindow = z.object({ seriesId: z.string(), t: z.array(z.number()), v: z.array(z.number().nullable()) });
export type SeriesWindow = z.infer<typeof SeriesWindow>;

export const RecordingInfo = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  series: z.array(z.object({ deviceId: z.string(), deviceName: z.string(), target: z.string(), onDevice: z.boolean(), label: z.string(), points: z.number().int(), stats: LatencySummary })),
});
export type RecordingInfo = z.infer<typeof RecordingInfo>;

export const TargetSuggestion = z.object({ target: z.string(), label: z.string(), source: z.enum(['ssh', 'engine', 'discovery', 'published-port', 'probe-label']), onDevice: z.boolean() });
export type TargetSuggestion = z.infer<typeof TargetSuggestion>;

const Difference = z.object({ value: z.number(), ci95: z.tuple([z.number(), z.number()]) });
export const AbVariantResult = z.object({
  name: z.string(),
  /** What the engine reported for the service's container while it was probed: proof the variant really ran. */
  container: z.object({ id: z.string(), image: z.string(), networkMode: z.string(), cpuset: z.string(), startedAt: z.string() }),
  deploy: z.object({ id: z.string(), phase: z.string(), message: z.string() }),
  startedAt: z.string(),
  summary: LatencySummary,
});
export const AbReport = z.object({
  id: z.string(),
  deviceId: z.string(),
  deviceName: z.string(),
  service: z.string(),
  target: z.string(),
  onDevice: z.boolean(),
  intervalMs: z.number().int(),
  durationS: z.number(),
  createdAt: z.string(),
  variants: z.tuple([AbVariantResult, AbVariantResult]),
  /** B − A, in ms, with a 95 % percentile-bootstrap confidence interval. Negative = B is faster. */
  difference: z.object({ median: Difference, p95: Difference, resamples: z.number().int() }),
  /** The variant whose median is lower, when the interval excludes 0; otherwise "no clear winner". */
  winner: z.enum(['A', 'B', 'none']),
  verdict: z.string(),
});
export type AbReport = z.infer<typeof AbReport>;

/**
 * `latency:*`: live probes (monotonic high-resolution timings, a timeout is loss), rolling percentiles, thresholds,
 * recordings in the laptop store, and the latency lab's A/B comparison of two deploys of one workload.
 */
export const latencyChannels = {
  'latency:start': channel(z.object({ ...ProbeArgs, thresholds: Thresholds.optional() }).strict(), SeriesInfo),
  'latency:stop': channel(z.object({ seriesId: z.string().min(1).max(100) }).strict(), z.object({ stopped: z.boolean() })),
  'latency:remove': channel(z.object({ seriesId: z.string().min(1).max(100) }).strict(), z.object({ removed: z.boolean() })),
  'latency:list': channel(z.object({}).strict().default({}), z.array(SeriesInfo)),
  'latency:window': channel(z.object({ seriesId: z.string().min(1).max(100), sinceMs: z.number().optional() }).strict(), SeriesWindow),
  'latency:measure': channel(
    z.object({ ...ProbeArgs, durationS: z.number().min(0.1).max(86_400).default(10) }).strict(),
    z.object({ device: z.string(), target: z.string(), onDevice: z.boolean(), method: z.string(), intervalMs: z.number().int(), summary: LatencySummary, ttfb: LatencySummary.nullable(), lastError: z.object({ kind: z.string(), message: z.string() }).nullable() }),
  ),
  'latency:thresholds': channel(z.object({ seriesId: z.string().min(1).max(100), thresholds: Thresholds }).strict(), SeriesInfo),
  'latency:suggest': channel(z.object({ device: DeviceRef }).strict(), z.array(TargetSuggestion)),
  'latency:recording-save': channel(z.object({ name: z.string().min(1).max(200), seriesIds: z.array(z.string()).min(1).max(500) }).strict(), RecordingInfo),
  'latency:recordings': channel(z.object({}).strict().default({}), z.array(RecordingInfo)),
  'latency:recording-open': channel(z.object({ id: z.string().min(1).max(100) }).strict(), z.object({ info: RecordingInfo, series: z.array(z.object({ label: z.string(), t: z.array(z.number()), v: z.array(z.number().nullable()) })) })),
  'latency:recording-export': channel(z.object({ id: z.string().min(1).max(100), out: z.string().min(1).max(4096).optional() }).strict(), z.object({ path: z.string().nullable(), rows: z.number().int(), csv: z.string() })),
  'latency:recording-delete': channel(z.object({ id: z.string().min(1).max(100) }).strict(), z.object({ deleted: z.boolean() })),
  'latency:ab': channel(
    z
      .object({
        device: DeviceRef,
        variants: z.tuple([ComposeSource, ComposeSource]),
        target: TargetSpec,
        onDevice: z.boolean().default(false),
        intervalMs: z.number().int().min(50).max(60_000).default(100),
        durationS: z.number().min(1).max(3600).default(30),
        /** Samples taken before this are dropped (caches, JIT, the first TCP handshakes). */
        warmupS: z.number().min(0).max(600).default(2),
        timeoutMs: z.number().int().min(50).max(60_000).default(2000),
        healthTimeoutMs: z.number().int().min(1000).max(3_600_000).default(60_000),
        link: LinkOptions.optional(),
      })
      .strict(),
    AbReport,
  ),
  'latency:ab-history': channel(z.object({ device: DeviceRef.optional(), limit: z.number().int().min(1).max(1000).default(50) }).strict(), z.array(AbReport)),
};

export const SampleBatch = z.object({
  series: z.array(
    z.object({
      id: z.string(),
      t: z.array(z.number()),
      v: z.array(z.number().nullable()),
      stats: LatencySummary.optional(),
      state: ThresholdState.optional(),
    }),
  ),
});
export type SampleBatch = z.infer<typeof SampleBatch>;

export const latencyEvents = {
  /** New samples, batched about every 100 ms (never one event per sample). */
  'latency:samples': SampleBatch,
  /** A threshold was crossed (or cleared). */
  'latency:threshold': z.object({ seriesId: z.string(), deviceId: z.string(), deviceName: z.string(), target: z.string(), state: ThresholdState, previous: ThresholdState, message: z.string() }),
  /** Series were started, stopped or removed: re-fetch `latency:list`. */
  'latency:series-changed': z.object({}),
  'latency:ab-progress': z.object({ deviceId: z.string(), variant: z.enum(['A', 'B']), phase: z.enum(['deploying', 'warming-up', 'probing', 'done']), message: z.string() }),
};
