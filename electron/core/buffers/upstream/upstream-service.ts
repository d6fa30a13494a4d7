import type { ParsedArgsOf } from '../../../../shared/contract';
import type { UpstreamReach } from '../../../../shared/contract/app';
import type { UpstreamSettings } from '../../../../shared/contract/buffers';
import { OutpostError, toErrorBody } from '../../../../shared/errors';
import type { JobRegistry } from '../../jobs/job-registry';
import { OnlineMonitor, reachTarget, redactUrl, type ReachTarget } from '../../online';
import type { EventBus, Router } from '../../router';
import type { Db } from '../../store/database';
import type { UpstreamForwarder } from './forwarder';
import { HttpTarget, MqttTarget, type UpstreamTarget } from './targets';

type PushArgs = ParsedArgsOf<'upstream:push'>;
type Target = NonNullable<UpstreamSettings['target']>;

const DEFAULTS = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000 };

function targetsOf(args: Target): UpstreamTarget[] {
  const out: UpstreamTarget[] = [];
  if (args.mqtt) out.push(new MqttTarget(args.mqtt.url, { clientId: args.mqtt.clientId, username: args.mqtt.username, passwordFile: args.mqtt.passwordFile, tls: args.mqtt.tls }));
  if (args.http) out.push(new HttpTarget(args.http.url, { tls: args.http.tls, batchRecords: args.http.batchRecords }));
  return out;
}

/** Upstream settings live with the buffer settings: one row each, shared by every process on the store. */
class SettingsRepo {
  constructor(private readonly db: Db) {}

  private get(key: string): string | null {
    const row = this.db.prepare(`SELECT value FROM buffer_settings WHERE key = ?`).get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  private set(key: string, value: string | null): void {
    if (value === null) this.db.prepare(`DELETE FROM buffer_settings WHERE key = ?`).run(key);
    else this.db.prepare(`INSERT INTO buffer_settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  read(): UpstreamSettings {
    const target = this.get('upstream.target');
    return { target: target ? (JSON.parse(target) as Target) : null, autoPush: this.get('upstream.autoPush') === '1', checkIntervalSeconds: Number(this.get('upstream.checkSeconds') ?? 30) };
  }

  write(change: Partial<UpstreamSettings>): UpstreamSettings {
    if (change.target !== undefined) this.set('upstream.target', change.target ? JSON.stringify(change.target) : null);
    if (change.autoPush !== undefined) this.set('upstream.autoPush', change.autoPush ? '1' : '0');
    if (change.checkIntervalSeconds !== undefined) this.set('upstream.checkSeconds', String(change.checkIntervalSeconds));
    return this.read();
  }
}

/** The first configured target (the broker if both are set): what "online" is measured against. */
function reachOf(target: Target | null): ReachTarget | null {
  if (target?.mqtt) return reachTarget(target.mqtt.url, target.mqtt.tls);
  if (target?.http) return reachTarget(target.http.url, target.http.tls);
  return null;
}

export interface UpstreamService {
  monitor: OnlineMonitor;
  close(): void;
}

/**
 * upstream:push/status/settings/check, and "online": the configured upstream is checked periodically and whenever
 * the laptop's interfaces change; each change is announced as `app:online-changed`. With auto-push on, segments
 * waiting for the upstream are pushed (as a cancellable job) as soon as it becomes reachable.
 */
export function registerUpstreamService(deps: { router: Router; bus: EventBus; db: Db; forwarder: UpstreamForwarder; jobs: JobRegistry; watch: boolean; onReach(reach: UpstreamReach): void }): UpstreamService {
  const { router, forwarder, jobs } = deps;
  const settings = new SettingsRepo(deps.db);
  // One push at a time in this process: two on one target would send the same pending records twice.
  let pushing: Promise<unknown> = Promise.resolve();
  // An automatic push that failed is not retried until the state changes again (or a push by hand succeeds).
  let autoPushFailed = false;

  const push = (target: Target, policy: Pick<PushArgs, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>, label: string) => {
    const run = pushing.then(() =>
      jobs.run({ kind: 'upstream-push', label }, async (job) => {
        const targets = targetsOf(target);
        if (!targets.length) throw new OutpostError('invalid-input', 'give an MQTT broker URL or an HTTP endpoint');
        let recordsForwarded = 0;
        let segmentsForwarded = 0;
        for (const t of targets) {
          const done = await forwarder.push(t, { ...policy, topicPrefix: target.mqtt?.topicPrefix ?? 'outpost', signal: job.signal });
          recordsForwarded += done.records;
          segmentsForwarded += done.segments;
        }
        return { recordsForwarded, segmentsForwarded, streams: forwarder.status() };
      }),
    );
    pushing = run.catch(() => undefined);
    return run;
  };

  let autoPushing = false;
  const autoPush = async (reach: UpstreamReach) => {
    const current = settings.read();
    if (!deps.watch || reach.state !== 'upstream-reachable' || !current.autoPush || !current.target || autoPushing || autoPushFailed) return;
    if (!targetsOf(current.target).some((t) => forwarder.pendingCount(t.key) > 0)) return;
    autoPushing = true;
    try {
      await push(current.target, DEFAULTS, `automatic push to ${reach.target ?? 'the upstream'}`);
      deps.bus.emit('upstream:pushed', { automatic: true, error: null });
    } catch (err) {
      // The queue shows the failure per stream (upstream:status); the UI is told once.
      autoPushFailed = true;
      deps.bus.emit('upstream:pushed', { automatic: true, error: { kind: toErrorBody(err).kind, message: toErrorBody(err).message } });
    } finally {
      autoPushing = false;
    }
  };

  const monitor = new OnlineMonitor({
    target: () => reachOf(settings.read().target),
    intervalMs: () => settings.read().checkIntervalSeconds * 1000,
    onChange: (reach) => {
      autoPushFailed = false;
      deps.onReach(reach);
      deps.bus.emit('app:online-changed', { online: reach.state === 'upstream-reachable', upstream: reach });
    },
    // Every check, not only a change: segments flushed while the upstream stays reachable go on the next check.
    onChecked: (reach) => void autoPush(reach),
  });
  if (deps.watch) monitor.start();

  router.handle('upstream:push', async (args) => {
    const target: Target = { mqtt: args.mqtt, http: args.http };
    const label = `push to ${[args.mqtt?.url, args.http?.url].filter(Boolean).map((u) => redactUrl(u as string)).join(' and ')}`;
    // The last upstream pushed to is the configured one: "online" is measured against it from now on.
    settings.write({ target });
    const out = await push(target, args, label);
    autoPushFailed = false;
    if (deps.watch) void monitor.check();
    return out;
  });
  router.handle('upstream:status', () => ({ streams: forwarder.status() }));
  router.handle('upstream:settings', (change) => {
    const next = settings.write(change);
    if (change.autoPush) autoPushFailed = false;
    // The app re-checks a new target or interval at once; switching auto-push on starts a push when the upstream
    // answers. (A one-shot CLI run only stores the settings: the app reads them at its next check.)
    if (deps.watch && (change.target !== undefined || change.checkIntervalSeconds !== undefined || change.autoPush)) void monitor.check();
    return next;
  });
  router.handle('upstream:check', () => monitor.check());

  return { monitor, close: () => monitor.stop() };
}
