import { randomUUID } from 'node:crypto';
import type { Device } from '../../../shared/contract';
import type { BulkOutcome, BulkSummary, IssueResult, ProvisionStage } from '../../../shared/contract/pki';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { JobRegistry } from '../jobs/job-registry';
import type { EventBus } from '../router';
import type { IssueOptions } from './issuer';

/**
 * Runs `work` over every item with at most `concurrency` in flight; each item answers for itself (a rejection is
 * the item's own business: `work` records it), and the next item starts as soon as one finishes.
 */
export async function runBounded<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** The stages a device goes through, in order: a job's progress is how many it has passed. */
const STAGES: readonly ProvisionStage[] = ['connect', 'clock', 'key', 'sign', 'store', 'install', 'verify', 'done'];

export type BulkOptions = Omit<IssueOptions, 'device' | 'signal' | 'runId' | 'onStage'>;

interface Run {
  summary: BulkSummary;
  /** What the run was asked, without the passphrase (a retry brings its own, or the vault answers). */
  options: Omit<BulkOptions, 'passphrase'>;
  concurrency: number;
}

export interface BulkDeps {
  issue(opts: IssueOptions): Promise<IssueResult>;
  findDevice(ref: string): Device | undefined;
  jobs: Pick<JobRegistry, 'run'>;
  bus: EventBus;
}

/** Runs kept for a retry: the newest few in this process. */
const KEPT_RUNS = 20;

/**
 * Provisioning many devices at once: each device is its own job (cancellable, holding the device's lock) with
 * per-device progress on `pki:progress`; the summary says per device whether it got its certificate or at which
 * stage it failed and with which kind; `retry` runs only the failed devices again and updates the summary.
 */
export class BulkProvisioner {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly deps: BulkDeps) {}

  async start(refs: string[], opts: BulkOptions, concurrency = 8): Promise<BulkSummary> {
    const unique = [...new Set(refs)];
    const runId = randomUUID();
    const outcomes: BulkOutcome[] = unique.map((ref) => {
      const device = this.deps.findDevice(ref);
      return { deviceId: device?.id ?? ref, deviceName: device?.name ?? ref, ok: false, stage: 'queued', attempts: 0 };
    });
    const summary: BulkSummary = { runId, profile: opts.profile, install: opts.install ?? null, total: outcomes.length, succeeded: 0, failed: 0, outcomes };
    const { passphrase: _p, ...options } = opts;
    const run: Run = { summary, options, concurrency };
    this.runs.set(runId, run);
    for (const old of [...this.runs.keys()].slice(0, Math.max(0, this.runs.size - KEPT_RUNS))) this.runs.delete(old);
    await this.runDevices(run, outcomes.map((_, i) => i), opts.passphrase);
    return summary;
  }

  /** Runs the failed devices of a run again, and only those; `setClock` lets this attempt fix their clocks. */
  async retry(runId: string, overrides: Pick<BulkOptions, 'setClock' | 'link' | 'passphrase'> = {}): Promise<BulkSummary> {
    const run = this.runs.get(runId);
    if (!run) throw new OutpostError('not-found', `no bulk run ${runId} in this session (the newest ${KEPT_RUNS} are kept until the app quits): issue to the failed devices again`);
    const { passphrase, ...rest } = overrides;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && !(typeof v === 'object' && v !== null && Object.keys(v).length === 0)));
    run.options = { ...run.options, ...defined };
    const failed = run.summary.outcomes.flatMap((o, i) => (o.ok ? [] : [i]));
    for (const i of failed) run.summary.outcomes[i] = { ...(run.summary.outcomes[i] as BulkOutcome), stage: 'queued', error: undefined };
    await this.runDevices(run, failed, passphrase);
    return run.summary;
  }

  private async runDevices(run: Run, indexes: number[], passphrase: string | undefined): Promise<void> {
    const { summary } = run;
    for (const i of indexes) {
      const o = summary.outcomes[i] as BulkOutcome;
      this.deps.bus.emit('pki:progress', { deviceId: o.deviceId, deviceName: o.deviceName, runId: summary.runId, stage: 'queued', step: 'waiting for a slot', done: false });
    }
    await runBounded(indexes, run.concurrency, async (i) => {
      const before = summary.outcomes[i] as BulkOutcome;
      const device = this.deps.findDevice(before.deviceId);
      let stage: ProvisionStage = 'queued';
      const attempts = before.attempts + 1;
      try {
        if (!device) throw new OutpostError('not-found', `no device matches ${JSON.stringify(before.deviceId)}`);
        const result = await this.deps.jobs.run({ kind: 'provision', label: `${summary.profile} certificate for ${device.name}`, deviceIds: [device.id] }, (job) =>
          job.holdDevice(
            device.id,
            () =>
              this.deps.issue({
                ...run.options,
                passphrase,
                device: device.id,
                signal: job.signal,
                runId: summary.runId,
                onStage: (s) => {
                  stage = s;
                  job.progress(STAGES.indexOf(s), STAGES.length - 1, 'items');
                },
              }),
            device.name,
          ),
        );
        summary.outcomes[i] = { deviceId: device.id, deviceName: device.name, ok: true, stage: 'done', attempts, result };
      } catch (err) {
        const body = toErrorBody(err);
        const kind = body.kind;
        summary.outcomes[i] = { deviceId: before.deviceId, deviceName: before.deviceName, ok: false, stage, attempts, error: { kind, message: body.message } };
        this.deps.bus.emit('pki:progress', { deviceId: before.deviceId, deviceName: before.deviceName, runId: summary.runId, stage: 'failed', step: `failed at ${stage}`, done: true, error: body.message, kind });
      }
      summary.succeeded = summary.outcomes.filter((o) => o.ok).length;
      summary.failed = summary.total - summary.succeeded;
    });
  }
}
