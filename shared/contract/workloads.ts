import { z } from 'zod';
import { channel } from './define';
import { LinkOptions } from './link';
import { EngineFound } from './devices';

const LinkArg = LinkOptions.optional();

const DeviceRef = z.string().min(1).max(200);

export const PortMapping = z.object({
  hostIp: z.string().optional(),
  host: z.number().int().min(1).max(65535).optional(),
  container: z.number().int().min(1).max(65535),
  protocol: z.enum(['tcp', 'udp']),
});
export const VolumeMount = z.object({ source: z.string(), target: z.string(), readOnly: z.boolean(), type: z.enum(['bind', 'volume']) });
export const DeviceMapping = z.object({ host: z.string(), container: z.string(), permissions: z.string() });
export const HealthSpec = z.object({
  test: z.array(z.string()),
  intervalMs: z.number().int().nonnegative().optional(),
  timeoutMs: z.number().int().nonnegative().optional(),
  startPeriodMs: z.number().int().nonnegative().optional(),
  retries: z.number().int().nonnegative().optional(),
});
export const RestartPolicy = z.object({ name: z.enum(['no', 'always', 'unless-stopped', 'on-failure']), maximumRetryCount: z.number().int().nonnegative().optional() });
export const LoggingSpec = z.object({ driver: z.string(), options: z.record(z.string(), z.string()) });

/** One service of a deploy, normalised from the compose subset; undefined means "not given by the user". */
export const ServiceSpec = z.object({
  name: z.string(),
  image: z.string(),
  command: z.array(z.string()).optional(),
  entrypoint: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()),
  envFiles: z.array(z.string()),
  ports: z.array(PortMapping),
  volumes: z.array(VolumeMount),
  tmpfs: z.array(z.string()).optional(),
  networkMode: z.string().optional(),
  cpuset: z.string().optional(),
  cpus: z.number().positive().optional(),
  memLimitBytes: z.number().int().positive().optional(),
  restart: RestartPolicy.optional(),
  healthcheck: HealthSpec.nullable().optional(),
  capDrop: z.array(z.string()).optional(),
  capAdd: z.array(z.string()),
  readOnly: z.boolean().optional(),
  user: z.string().optional(),
  devices: z.array(DeviceMapping),
  labels: z.record(z.string(), z.string()),
  logging: LoggingSpec.optional(),
  securityOpt: z.array(z.string()).optional(),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

export const AppliedDefault = z.object({ service: z.string(), field: z.string(), value: z.unknown(), reason: z.string() });
export type AppliedDefault = z.infer<typeof AppliedDefault>;

export const CachedLayer = z.object({ digest: z.string(), diffId: z.string(), size: z.number().int().nonnegative(), compressed: z.boolean() });
export const CachedImage = z.object({
  id: z.string(),
  repoTags: z.array(z.string()),
  layers: z.array(CachedLayer),
  size: z.number().int().nonnegative(),
  importedAt: z.string(),
  source: z.string(),
  /** Devices whose engine was last seen running a container of this image (from deploy history). */
  devices: z.array(z.string()).default([]),
});
export type CachedImage = z.infer<typeof CachedImage>;

export const ComposeSource = z
  .object({ path: z.string().min(1).max(4096).optional(), text: z.string().max(1_000_000).optional(), name: z.string().max(200).optional() })
  .strict()
  .refine((c) => c.path !== undefined || c.text !== undefined, { message: 'give a compose file path or its text' });

export const DevicePlan = z.object({
  deviceId: z.string(),
  service: z.string(),
  image: z.string(),
  imageId: z.string(),
  layersTotal: z.number().int(),
  layersToSend: z.number().int(),
  bytesToSend: z.number().int(),
  error: z.object({ kind: z.string(), message: z.string() }).optional(),
});
export const DeployPlan = z.object({ services: z.array(ServiceSpec), applied: z.array(AppliedDefault), devices: z.array(DevicePlan) });
export type DeployPlan = z.infer<typeof DeployPlan>;

/**
 * A rollout's steps. Up to `new-started` an interruption is undone (the candidate was never judged healthy);
 * from `healthy` on it is finished forward (`old-aside`: the old container renamed `<svc>.outpost-old`;
 * `promoted`: the candidate holds the service's name). `failed` is the laptop's word for "interrupted, the device
 * still says where it stopped": reconcile settles it as `done` or `rolled-back`.
 */
export const RolloutPhase = z.enum(['started', 'transferred', 'old-stopped', 'new-started', 'healthy', 'old-aside', 'promoted', 'done', 'rolling-back', 'rolled-back', 'failed']);
export type RolloutPhase = z.infer<typeof RolloutPhase>;
/** Phases after which a rollout is settled: exactly one version of the service runs. */
export const SETTLED_PHASES: readonly RolloutPhase[] = ['done', 'rolled-back'];
/** Phases from which an interrupted rollout is finished forward, never undone. */
export const FORWARD_PHASES: readonly RolloutPhase[] = ['healthy', 'old-aside', 'promoted', 'done'];

export const DeployRecord = z.object({
  id: z.string(),
  deviceId: z.string(),
  service: z.string(),
  image: z.string(),
  imageId: z.string(),
  previousImageId: z.string().nullable(),
  phase: RolloutPhase,
  message: z.string(),
  bytesSent: z.number().int(),
  startedAt: z.string(),
  updatedAt: z.string(),
  /** The deploy whose container this one replaced (the history chain a rollback follows); null when none. */
  previousDeployId: z.string().nullable().default(null),
  /** Set on a rollback: the earlier deploy whose image and settings it reinstated. */
  rollbackOf: z.string().nullable().default(null),
});
export type DeployRecord = z.infer<typeof DeployRecord>;

/** A service whose last rollout on a device was interrupted and not yet settled (the Workloads view's banner). */
export const PendingRollout = z.object({
  deviceId: z.string(),
  deviceName: z.string(),
  service: z.string(),
  record: DeployRecord,
  /** A rollout of it is running in this process right now (not left behind: nothing to do). */
  inProgress: z.boolean(),
  /** The last step the device itself recorded (the laptop's record may say `failed`). */
  devicePhase: RolloutPhase,
  /** What reconcile will do, from the phase the rollout stopped at. */
  resolution: z.enum(['finish', 'undo']),
  /** Why the last automatic attempt did not settle it yet (engine down, link cut), if one was made. */
  lastError: z.string().nullable(),
});
export type PendingRollout = z.infer<typeof PendingRollout>;

export const DeviceResultError = z.object({ kind: z.string(), message: z.string() });
/** One device's part of a fleet answer: a dead engine is reported, never blanks the others. */
export function perDevice<T extends z.ZodType>(value: T) {
  return z.array(
    z.object({
      deviceId: z.string(),
      deviceName: z.string(),
      ok: z.boolean(),
      value: value.optional(),
      error: DeviceResultError.optional(),
      /** Which engine answered and where (the device's details keep the full record). */
      engine: z.object({ socket: z.string(), source: z.string(), product: z.string(), version: z.string().optional() }).optional(),
    }),
  );
}

export const ContainerSummary = z.object({
  id: z.string(),
  name: z.string(),
  image: z.string(),
  imageId: z.string(),
  state: z.string(),
  health: z.string().nullable(),
  restarts: z.number().int(),
  startedAt: z.string().nullable(),
  uptimeSeconds: z.number().nullable(),
  service: z.string().nullable(),
});
export type ContainerSummary = z.infer<typeof ContainerSummary>;

export const ContainerStats = z.object({
  cpuPercent: z.number(),
  memoryBytes: z.number(),
  memoryLimitBytes: z.number(),
  throttledPeriods: z.number(),
  throttledTimeNs: z.number(),
  networkRxBytes: z.number(),
  networkTxBytes: z.number(),
  blockReadBytes: z.number(),
  blockWriteBytes: z.number(),
});

export const DeviceFacts = z.object({
  engine: z.record(z.string(), z.unknown()),
  diskFree: z.string(),
  memory: z.string(),
  loadAverage: z.string(),
  temperatureC: z.number().nullable(),
  clockSkewMs: z.number(),
});

const Target = { device: DeviceRef, link: LinkArg };
const DeployArgs = z.object({ devices: z.array(DeviceRef).min(1), compose: ComposeSource, link: LinkArg, healthTimeoutMs: z.number().int().min(1000).max(3_600_000).default(60_000) }).strict();

export const workloadsChannels = {
  'workloads:images-import': channel(z.object({ path: z.string().min(1).max(4096) }).strict(), z.array(CachedImage)),
  'workloads:images-list': channel(z.object({}).strict().default({}), z.array(CachedImage)),
  'workloads:images-verify': channel(z.object({ ref: z.string().optional() }).strict().default({}), z.array(z.object({ id: z.string(), ok: z.boolean(), problems: z.array(z.string()) }))),
  'workloads:images-remove': channel(z.object({ ref: z.string().min(1) }).strict(), z.object({ removed: z.array(z.string()), blobsFreed: z.number().int() })),
  'workloads:plan': channel(DeployArgs, DeployPlan),
  'workloads:deploy': channel(DeployArgs, z.object({ plan: DeployPlan, results: perDevice(z.array(DeployRecord)) })),
  'workloads:rollback': channel(z.object({ ...Target, service: z.string().min(1) }).strict(), DeployRecord),
  'workloads:reconcile': channel(z.object({ ...Target }).strict(), z.array(DeployRecord)),
  'workloads:pending': channel(z.object({ device: DeviceRef.optional() }).strict().default({}), z.array(PendingRollout)),
  'workloads:history': channel(z.object({ device: DeviceRef.optional(), limit: z.number().int().min(1).max(10_000).default(100) }).strict(), z.array(DeployRecord)),
  'workloads:ps': channel(z.object({ devices: z.array(DeviceRef).min(1), link: LinkArg, timeoutMs: z.number().int().min(100).max(120_000).default(8000) }).strict(), perDevice(z.array(ContainerSummary))),
  'workloads:logs': channel(z.object({ ...Target, container: z.string().min(1), since: z.string().optional(), tail: z.number().int().min(0).max(100_000).optional(), grep: z.string().max(1000).optional() }).strict(), z.object({ lines: z.array(z.string()) })),
  'workloads:stats': channel(z.object({ ...Target, container: z.string().min(1) }).strict(), ContainerStats),
  'workloads:inspect': channel(z.object({ ...Target, container: z.string().min(1) }).strict(), z.record(z.string(), z.unknown())),
  'workloads:facts': channel(z.object({ ...Target }).strict(), DeviceFacts),
  /** Looks for the device's engine again now (after its socket setting changed, or an engine was started). */
  'workloads:locate-engine': channel(z.object({ ...Target }).strict(), EngineFound),
  'workloads:bundle': channel(
    // `out`: a file on this laptop (the CLI, Electron's save dialog). Without it (browser mode) the zip comes back
    // in the answer for the page to download, and nothing is left on disk.
    z.object({ ...Target, out: z.string().min(1).max(4096).optional() }).strict(),
    z.object({ path: z.string().nullable(), entries: z.array(z.string()), bytes: z.number().int(), zipBase64: z.string().optional() }),
  ),
  'workloads:follow': channel(
    z.object({ ...Target, kind: z.enum(['logs', 'stats', 'events']), container: z.string().optional(), since: z.string().optional(), grep: z.string().max(1000).optional() }).strict(),
    z.object({ streamId: z.string() }),
  ),
  'workloads:unfollow': channel(z.object({ streamId: z.string() }).strict(), z.object({ stopped: z.boolean() })),
};

export const workloadsEvents = {
  'workloads:progress': z.object({
    deviceId: z.string(),
    phase: z.enum(['building', 'staging', 'loading', 'verifying']),
    bytesSent: z.number(),
    bytesTotal: z.number(),
    bytesPerSecond: z.number(),
    etaSeconds: z.number().nullable(),
  }),
  'workloads:rollout': DeployRecord,
  'workloads:stream': z.object({ streamId: z.string(), deviceId: z.string(), kind: z.enum(['logs', 'stats', 'events']), data: z.string(), end: z.boolean().optional() }),
};
