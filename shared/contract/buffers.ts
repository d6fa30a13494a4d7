import { z } from 'zod';
import { UpstreamReach } from './app';
import { channel } from './define';
import { LinkOptions } from './link';

const absolutePath = z
  .string()
  .min(2)
  .max(1024)
  .regex(/^\/[A-Za-z0-9._/-]*$/, 'an absolute path of letters, digits and . _ - /')
  .refine((p) => !p.split('/').includes('..'), 'no .. components');

export const OutboxSpec = z
  .object({
    file: absolutePath,
    table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a plain SQL identifier').default('outbox'),
  })
  .strict();
export type OutboxSpec = z.infer<typeof OutboxSpec>;

export const BufferConfig = z.object({
  deviceId: z.string(),
  spools: z.array(absolutePath),
  outboxes: z.array(OutboxSpec),
  /** What happens to a segment on the device once the laptop holds it durably. */
  ack: z.enum(['delete', 'move']),
  /** True while the device has never been configured and the defaults apply. */
  defaults: z.boolean(),
});
export type BufferConfig = z.infer<typeof BufferConfig>;

/** What a `buffers:config` found on the device for the locations it names. */
export const ConfigCheck = z.object({
  /** False when the device could not be reached: the settings are kept, unchecked. */
  reached: z.boolean(),
  /** Configured spool directories and outbox files that do not exist there (or an outbox without sqlite3). */
  missing: z.array(z.string()),
  error: z.object({ kind: z.string(), message: z.string() }).optional(),
});
export type ConfigCheck = z.infer<typeof ConfigCheck>;

export const RefusedEntry = z.object({ path: z.string(), reason: z.string() });
export type RefusedEntry = z.infer<typeof RefusedEntry>;

export const StreamScan = z.object({
  stream: z.string(),
  kind: z.enum(['spool', 'outbox']),
  source: z.string(),
  segments: z.number().int(),
  bytes: z.number().int(),
  /** ISO time of the oldest segment (file mtime; for an outbox the first row's ts when it is a time). */
  oldest: z.string().nullable(),
});
export type StreamScan = z.infer<typeof StreamScan>;

export const BufferScan = z.object({
  deviceId: z.string(),
  streams: z.array(StreamScan),
  refused: z.array(RefusedEntry),
  missing: z.array(z.string()),
});
export type BufferScan = z.infer<typeof BufferScan>;

export const StreamFlush = z.object({
  segments: z.number().int(),
  bytes: z.number().int(),
  duplicatesSkipped: z.number().int(),
  quarantined: z.number().int(),
});
export type StreamFlush = z.infer<typeof StreamFlush>;

export const DeviceFlush = z.object({
  deviceId: z.string(),
  streams: z.record(z.string(), StreamFlush),
  refused: z.array(RefusedEntry),
  quarantined: z.array(z.object({ stream: z.string(), segment: z.string(), reason: z.string() })),
  error: z.object({ kind: z.string(), message: z.string() }).optional(),
});
export type DeviceFlush = z.infer<typeof DeviceFlush>;

export const FlushArgs = z
  .object({
    devices: z.union([z.array(z.string().min(1)).min(1), z.literal('all')]),
    link: LinkOptions.optional(),
    concurrency: z.number().int().min(1).max(64).default(4),
    /** A transfer that moves no byte for this long is abandoned (cut link); resuming later is harmless. */
    stallTimeoutSeconds: z.number().min(1).max(3600).default(20),
  })
  .strict();

export const StoredSegment = z.object({
  id: z.number().int(),
  deviceId: z.string(),
  stream: z.string(),
  segment: z.string(),
  sha256: z.string(),
  bytes: z.number().int(),
  kind: z.enum(['spool', 'outbox']),
  records: z.number().int().nullable(),
  sourceTime: z.string().nullable(),
  storedAt: z.string(),
});
export type StoredSegment = z.infer<typeof StoredSegment>;

export const SegmentPreview = z.object({
  format: z.enum(['ndjson', 'csv', 'text', 'binary']),
  lines: z.array(z.string()),
  truncated: z.boolean(),
});
export type SegmentPreview = z.infer<typeof SegmentPreview>;

const StoreFilter = z
  .object({
    deviceId: z.string().optional(),
    stream: z.string().optional(),
    since: z.string().optional(),
    until: z.string().optional(),
    limit: z.number().int().min(1).max(100_000).default(1000),
  })
  .strict();

export const UpstreamTls = z
  .object({ caFile: z.string().optional(), certFile: z.string().optional(), keyFile: z.string().optional(), insecure: z.boolean().optional() })
  .strict();

export const UpstreamArgs = z
  .object({
    mqtt: z.object({ url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//), topicPrefix: z.string().max(200).default('outpost'), clientId: z.string().max(64).optional(), username: z.string().optional(), passwordFile: z.string().optional(), tls: UpstreamTls.optional() }).strict().optional(),
    http: z.object({ url: z.string().regex(/^https?:\/\//), tls: UpstreamTls.optional(), batchRecords: z.number().int().min(1).max(10_000).default(500) }).strict().optional(),
    maxAttempts: z.number().int().min(1).max(1000).default(8),
    baseDelayMs: z.number().int().min(1).max(600_000).default(500),
    maxDelayMs: z.number().int().min(1).max(3_600_000).default(30_000),
  })
  .strict()
  .refine((a) => a.mqtt !== undefined || a.http !== undefined, { message: 'give an MQTT broker URL or an HTTP endpoint' });

export const UpstreamStreamStatus = z.object({
  target: z.string(),
  deviceId: z.string(),
  stream: z.string(),
  status: z.enum(['waiting', 'in-flight', 'forwarded', 'failed']),
  segmentsPending: z.number().int(),
  recordsForwarded: z.number().int(),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type UpstreamStreamStatus = z.infer<typeof UpstreamStreamStatus>;

export const PruneArgs = z
  .object({
    deviceId: z.string().min(1).optional(),
    stream: z.string().min(1).optional(),
    /** Only segments this laptop has held for longer than this (by when they were stored here). */
    olderThanSeconds: z.number().int().min(0).optional(),
    /** Select every segment forwarded upstream or exported, whatever its device, stream or age. */
    allForwarded: z.boolean().optional(),
    /** Also delete segments neither forwarded nor exported (their only copy may be this one). */
    force: z.boolean().optional(),
    /** Say what would go and what it would free; delete nothing. */
    dryRun: z.boolean().optional(),
  })
  .strict()
  .refine((a) => a.deviceId !== undefined || a.stream !== undefined || a.olderThanSeconds !== undefined || a.allForwarded === true, {
    message: 'say what to prune: a device, a stream, an age, or every forwarded segment',
  });

export const PruneGroup = z.object({
  deviceId: z.string(),
  stream: z.string(),
  /** Segments (and their bytes) that go, or would go. */
  segments: z.number().int(),
  bytes: z.number().int(),
  /** Selected but kept: neither forwarded nor exported, and no force. */
  keptSegments: z.number().int(),
  keptBytes: z.number().int(),
});
export type PruneGroup = z.infer<typeof PruneGroup>;

export const PruneResult = z.object({
  dryRun: z.boolean(),
  segments: z.number().int(),
  bytes: z.number().int(),
  /** Blob bytes that leave the disk: content still held by a segment that stays is not freed. */
  freedBytes: z.number().int(),
  keptSegments: z.number().int(),
  keptBytes: z.number().int(),
  groups: z.array(PruneGroup),
  usedBytes: z.number().int(),
  quotaBytes: z.number().int().nullable(),
});
export type PruneResult = z.infer<typeof PruneResult>;

/** The upstream this laptop forwards to (saved by each push, or set on its own), and whether to push by itself. */
export const UpstreamSettings = z.object({
  /** MQTT broker and/or HTTP endpoint, as given to upstream:push (null: none configured yet). */
  target: z
    .object({ mqtt: UpstreamArgs.shape.mqtt, http: UpstreamArgs.shape.http })
    .strict()
    .nullable(),
  /** When the upstream becomes reachable and segments wait, push them without being asked. Off by default. */
  autoPush: z.boolean(),
  /** How often the upstream is re-checked (interface changes re-check at once). */
  checkIntervalSeconds: z.number().int().min(1).max(3600),
});
export type UpstreamSettings = z.infer<typeof UpstreamSettings>;

export const buffersChannels = {
  'buffers:scan': channel(z.object({ deviceId: z.string().min(1), link: LinkOptions.optional() }).strict(), BufferScan),
  'buffers:flush': channel(FlushArgs, z.object({ devices: z.array(DeviceFlush) })),
  'buffers:config': channel(
    z
      .object({
        deviceId: z.string().min(1),
        spools: z.array(absolutePath).optional(),
        outboxes: z.array(OutboxSpec).optional(),
        ack: z.enum(['delete', 'move']).optional(),
        reset: z.boolean().optional(),
        /** Check on the device that the spool directories and outbox files exist (default: when any is named). */
        check: z.boolean().optional(),
        link: LinkOptions.optional(),
      })
      .strict(),
    BufferConfig.extend({ check: ConfigCheck.nullable() }),
  ),
  'store:list': channel(StoreFilter.default({ limit: 1000 }), z.object({ segments: z.array(StoredSegment), totalBytes: z.number().int(), quotaBytes: z.number().int().nullable() })),
  'store:get': channel(z.object({ id: z.number().int(), previewLines: z.number().int().min(0).max(1000).default(20) }).strict(), z.object({ segment: StoredSegment, preview: SegmentPreview })),
  'store:export': channel(StoreFilter.extend({ dir: z.string().min(1).max(4096) }).strict(), z.object({ dir: z.string(), files: z.number().int(), bytes: z.number().int() })),
  'store:quota': channel(z.object({ bytes: z.number().int().min(0).nullable().optional() }).strict().default({}), z.object({ quotaBytes: z.number().int().nullable(), usedBytes: z.number().int() })),
  'store:prune': channel(PruneArgs, PruneResult),
  'upstream:push': channel(UpstreamArgs, z.object({ recordsForwarded: z.number().int(), segmentsForwarded: z.number().int(), streams: z.array(UpstreamStreamStatus) })),
  'upstream:settings': channel(UpstreamSettings.partial().strict().default({}), UpstreamSettings),
  'upstream:check': channel(z.object({}).strict().default({}), UpstreamReach),
  'upstream:status': channel(z.object({}).strict().default({}), z.object({ streams: z.array(UpstreamStreamStatus) })),
};

export const buffersEvents = {
  'flush:progress': z.object({
    deviceId: z.string(),
    stream: z.string(),
    bytesDone: z.number(),
    bytesTotal: z.number(),
    rate: z.number(),
    etaSeconds: z.number().nullable(),
  }),
  /** An automatic push (auto-push on, upstream became reachable) finished: the queue changed, or why it failed. */
  'upstream:pushed': z.object({ automatic: z.boolean(), error: z.object({ kind: z.string(), message: z.string() }).nullable() }),
};
