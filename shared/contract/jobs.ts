import { z } from 'zod';
import { channel } from './define';

export const JOB_KINDS = ['flush', 'scan', 'image-import', 'deploy', 'rollback', 'reconcile', 'key-install', 'upstream-push', 'provision'] as const;
export const JobKind = z.enum(JOB_KINDS);
export type JobKind = z.infer<typeof JobKind>;

/** A long operation running in this process: what it is, on which devices, how far, and whether a cancel was asked. */
export const JobInfo = z.object({
  id: z.string(),
  kind: JobKind,
  label: z.string(),
  deviceIds: z.array(z.string()),
  startedAt: z.string(),
  progress: z.object({ done: z.number(), total: z.number().nullable(), unit: z.enum(['bytes', 'items']) }).nullable(),
  cancelling: z.boolean(),
});
export type JobInfo = z.infer<typeof JobInfo>;

/** Who holds a device (in any process sharing $OUTPOST_HOME): a second flush or rollout fails with kind `busy`. */
export const DeviceLockInfo = z.object({
  deviceId: z.string(),
  pid: z.number().int(),
  processKind: z.string(),
  operation: z.string(),
  jobId: z.string(),
  since: z.string(),
  hostname: z.string(),
  /** True when the holder is this process. */
  ours: z.boolean(),
});
export type DeviceLockInfo = z.infer<typeof DeviceLockInfo>;

export const jobsChannels = {
  'jobs:list': channel(z.object({}).strict().default({}), z.object({ jobs: z.array(JobInfo), locks: z.array(DeviceLockInfo) })),
  /** Cancels one job by id, or every running job of a kind (optionally only those touching one device). */
  'jobs:cancel': channel(
    z
      .object({ id: z.string().optional(), kind: JobKind.optional(), deviceId: z.string().optional() })
      .strict()
      .refine((a) => a.id !== undefined || a.kind !== undefined, { message: 'give a job id or a kind' }),
    z.object({ cancelled: z.array(z.string()) }),
  ),
};

export const jobsEvents = {
  'jobs:changed': z.object({ jobs: z.array(JobInfo) }),
};
