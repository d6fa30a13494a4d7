import { request } from 'node:http';
import { connect } from 'node:net';
import type Docker from 'dockerode';
import type { EngineFound } from '../../../shared/contract';

export const LABEL_PROBE = 'outpost.probe';

export type Verdict = { status: 'ready' } | { status: 'failed'; reason: string } | { status: 'waiting'; reason: string };

/** `tcp:8080` or `http:8080/healthz`, from the service's `outpost.probe` label. */
export function parseProbe(label: string | undefined): { kind: 'tcp' | 'http'; port: number; path: string } | undefined {
  const m = /^(tcp|http):(\d{1,5})(\/.*)?$/.exec(label ?? '');
  if (!m) return undefined;
  return { kind: m[1] as 'tcp' | 'http', port: Number(m[2]), path: m[3] ?? '/' };
}

const PROBE_TIMEOUT_MS = 2000;

/** One probe from the laptop: ready only on a TCP connect, or on a 2xx for HTTP (a redirect or an error page is not ready). */
function probeOnce(host: string, probe: { kind: 'tcp' | 'http'; port: number; path: string }): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const failed = (err: Error) => resolve({ ok: false, detail: err.message });
    if (probe.kind === 'tcp') {
      const s = connect({ host, port: probe.port, timeout: PROBE_TIMEOUT_MS }, () => {
        s.destroy();
        resolve({ ok: true, detail: 'connected' });
      });
      s.on('error', failed);
      s.on('timeout', () => s.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
      return;
    }
    const req = request({ host, port: probe.port, path: probe.path, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status >= 200 && status < 300, detail: `answered HTTP ${status}` });
    });
    req.on('error', failed);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.end();
  });
}

/**
 * Why Outpost must run a container's healthcheck itself on this engine, or undefined when the engine runs it:
 * Podman schedules healthchecks with systemd timers, so on a device without systemd it never runs one.
 */
export function ownHealthcheckReason(found: Pick<EngineFound, 'product' | 'systemd'> | undefined): string | undefined {
  if (found?.product === 'podman' && found.systemd === false) return 'Podman on a device without systemd never runs healthchecks (they need systemd timers), so Outpost runs it';
  return undefined;
}

interface HealthcheckConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

/** Between two looks of one rollout: how the healthcheck Outpost runs itself has gone so far. */
export interface OwnHealthcheckState {
  failures: number;
  lastRunAt: number;
  last?: string;
}

/** A long interval (Docker's default is 30 s) is shortened: the rollout's own deadline bounds the wait anyway. */
const OWN_INTERVAL_CAP_MS = 5_000;
const nsToMs = (ns: number | undefined): number => (ns ? Math.round(ns / 1e6) : 0);

/** The health `ps` shows on an engine that never runs healthchecks (Outpost runs them only while gating a rollout). */
export const HEALTH_NOT_RUN = 'not run (no systemd for Podman)';

/** A Docker healthcheck `test` as the argv to run: CMD runs as given, CMD-SHELL through /bin/sh -c. */
export function healthcheckArgv(test: string[] | undefined): string[] | undefined {
  if (!test?.length || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.length > 1 ? test.slice(1) : undefined;
  return test;
}

/** Runs the healthcheck in the container through the engine (exec), as the engine itself would. */
async function runHealthcheck(docker: Docker, containerId: string, argv: string[], timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let output = '';
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      stream.destroy();
      resolve();
    }, timeoutMs);
    stream.on('data', (c: Buffer) => {
      if (output.length < 4096) output += c.toString('utf8');
    });
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', () => resolve());
    stream.once('end', () => clearTimeout(timer));
  });
  const info = await exec.inspect();
  if (info.Running) return { ok: false, detail: `still running after ${timeoutMs} ms` };
  return { ok: info.ExitCode === 0, detail: `exit ${info.ExitCode}${output.trim() ? `: ${output.trim().slice(0, 300)}` : ''}` };
}

/**
 * One look at a candidate container: its Docker healthcheck decides when it has one; otherwise the `outpost.probe`
 * readiness probe from the laptop; otherwise "running and not restarting for a few seconds".
 */
export async function judge(
  docker: Docker,
  containerId: string,
  opts: { host: string; probeLabel?: string; stableMs: number; startedAt: number; ownHealthcheck?: string; ownState?: OwnHealthcheckState },
): Promise<Verdict> {
  const info = await docker.getContainer(containerId).inspect();
  const state = info.State;
  if (state.Status === 'exited' || state.Status === 'dead') return { status: 'failed', reason: `exited with code ${state.ExitCode}${state.Error ? `: ${state.Error}` : ''}` };
  if (state.Restarting || info.RestartCount > 0) return { status: 'failed', reason: `restarting (restart count ${info.RestartCount})` };
  const health = (state as { Health?: { Status: string; Log?: Array<{ Output: string }> } }).Health;
  const check = (info.Config as { Healthcheck?: HealthcheckConfig } | undefined)?.Healthcheck;
  const ownArgv = opts.ownHealthcheck ? healthcheckArgv(check?.Test) : undefined;
  if (ownArgv) {
    // As the engine would: one run per interval, failures during the start period do not count, and `retries`
    // failures in a row make the candidate unhealthy.
    const own = opts.ownState ?? { failures: 0, lastRunAt: 0 };
    const nowMs = Date.now();
    const intervalMs = Math.min(nsToMs(check?.Interval) || 30_000, OWN_INTERVAL_CAP_MS);
    if (own.lastRunAt && nowMs - own.lastRunAt < intervalMs) return { status: 'waiting', reason: own.last ?? 'healthcheck (run by Outpost) waiting for its next interval' };
    own.lastRunAt = nowMs;
    const result = await runHealthcheck(docker, containerId, ownArgv, Math.min(nsToMs(check?.Timeout) || 30_000, PROBE_TIMEOUT_MS * 5));
    if (result.ok) return { status: 'ready' };
    const inStartPeriod = nowMs - opts.startedAt < nsToMs(check?.StartPeriod);
    if (!inStartPeriod) own.failures += 1;
    const retries = check?.Retries || 3;
    own.last = `healthcheck (${opts.ownHealthcheck ?? ''}): ${result.detail}`;
    if (own.failures >= retries) return { status: 'failed', reason: `healthcheck failed ${own.failures} times in a row, run by Outpost (${opts.ownHealthcheck ?? ''}): ${result.detail}` };
    return { status: 'waiting', reason: own.last };
  }
  if (health) {
    if (health.Status === 'healthy') return { status: 'ready' };
    if (health.Status === 'unhealthy') return { status: 'failed', reason: `healthcheck failed: ${health.Log?.at(-1)?.Output.trim().slice(0, 300) ?? ''}` };
    return { status: 'waiting', reason: `healthcheck ${health.Status}` };
  }
  const probe = parseProbe(opts.probeLabel);
  if (probe) {
    const result = await probeOnce(opts.host, probe);
    return result.ok ? { status: 'ready' } : { status: 'waiting', reason: `${LABEL_PROBE} ${opts.probeLabel ?? ''} from the laptop: ${result.detail}` };
  }
  // Laptop clock on both ends: the device's clock may be skewed.
  const upMs = Date.now() - opts.startedAt;
  return upMs >= opts.stableMs ? { status: 'ready' } : { status: 'waiting', reason: 'running, watching for a crash' };
}
