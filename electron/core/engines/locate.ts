import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import type Docker from 'dockerode';
import type { EngineFound } from '../../../shared/contract';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import { dockerOverSsh, type SshEngineAgent } from '../transport/docker-link';
import type { SshConnection } from '../transport/ssh-connection';
import { withTimeout } from './engine-errors';

type Source = EngineFound['source'];

/**
 * One exec learns what the device says about its engine, without building a shell string from anything the device
 * or the technician typed: the script is a constant.
 * - `uid`: for the rootless places under /run/user/<uid>;
 * - `env`: DOCKER_HOST as sshd gives it to a command (sshd `SetEnv`, ~/.ssh/environment) — what `docker -H ssh://`
 *   sees when it runs `docker system dial-stdio` there;
 * - `login`: DOCKER_HOST after the user's login shell read its profile (/etc/profile, ~/.profile);
 * - `socket <path>`: each well-known place that holds a socket; `systemd` when systemd is the device's init.
 */
export const ENGINE_PROBE = [
  'uid=$(id -u)',
  'printf "uid %s\\n" "$uid"',
  'printf "env %s\\n" "${DOCKER_HOST-}"',
  'login=$("${SHELL:-/bin/sh}" -lc \'printf "\\nOUTPOST_DOCKER_HOST=%s\\n" "${DOCKER_HOST-}"\' </dev/null 2>/dev/null | sed -n "s/^OUTPOST_DOCKER_HOST=//p" | tail -n 1)',
  'printf "login %s\\n" "$login"',
  'for p in "$@" "${DOCKER_HOST#unix://}" "${login#unix://}" "/run/user/$uid/docker.sock" "/run/user/$uid/podman/podman.sock"; do if [ -n "$p" ] && [ -S "$p" ]; then printf "socket %s\\n" "$p"; fi; done',
  '[ -d /run/systemd/system ] && echo systemd',
  'exit 0',
].join('\n');

export const WELL_KNOWN: ReadonlyArray<{ socket: string; source: Source }> = [
  { socket: '/var/run/docker.sock', source: 'docker' },
  { socket: '/var/run/balena-engine.sock', source: 'balena-engine' },
  { socket: '/run/podman/podman.sock', source: 'podman' },
];

export interface ProbeAnswer {
  uid: string;
  dockerHost: { env: string; login: string };
  sockets: Set<string>;
  systemd: boolean;
}

export function parseProbe(stdout: string): ProbeAnswer {
  const out: ProbeAnswer = { uid: '', dockerHost: { env: '', login: '' }, sockets: new Set(), systemd: false };
  for (const line of stdout.split('\n')) {
    const [tag, ...rest] = line.split(' ');
    const value = rest.join(' ').trim();
    if (tag === 'uid') out.uid = value;
    else if (tag === 'env') out.dockerHost.env = value;
    else if (tag === 'login') out.dockerHost.login = value;
    else if (tag === 'socket') out.sockets.add(value);
    else if (tag === 'systemd') out.systemd = true;
  }
  return out;
}

export interface Candidate {
  socket: string;
  source: Source;
  /** Set when the place cannot be used at all (e.g. a DOCKER_HOST that is not a unix socket). */
  unusable?: string;
}

/** The places to try, in order: the device's setting, DOCKER_HOST, /var/run/docker.sock, balena, Podman, rootless. */
export function candidates(setting: string | undefined, probe: ProbeAnswer): Candidate[] {
  const list: Candidate[] = [];
  if (setting) list.push({ socket: setting, source: 'setting' });
  for (const host of [probe.dockerHost.env, probe.dockerHost.login]) {
    if (!host || list.some((c) => c.source === 'DOCKER_HOST')) continue;
    const unix = /^unix:\/\/(\/.+)$/.exec(host);
    if (unix?.[1]) list.push({ socket: unix[1], source: 'DOCKER_HOST' });
    else list.push({ socket: host, source: 'DOCKER_HOST', unusable: `DOCKER_HOST=${host} is not a unix socket (only unix:// engines are reached over SSH)` });
  }
  list.push(...WELL_KNOWN);
  if (probe.uid) {
    list.push({ socket: `/run/user/${probe.uid}/docker.sock`, source: 'rootless-docker' });
    list.push({ socket: `/run/user/${probe.uid}/podman/podman.sock`, source: 'rootless-podman' });
  }
  // The same socket named twice (DOCKER_HOST=unix:///var/run/docker.sock) is tried once, under its first reason.
  return list.filter((c, i) => list.findIndex((o) => o.socket === c.socket) === i);
}

interface VersionAnswer {
  Version?: string;
  ApiVersion?: string;
  Components?: Array<{ Name?: string; Version?: string }>;
  Platform?: { Name?: string };
}

/** Which engine answered: Podman names itself in its components, balena-engine in its platform or version. */
export function productOf(v: VersionAnswer): EngineFound['product'] {
  const names = [v.Platform?.Name ?? '', ...(v.Components ?? []).map((c) => c.Name ?? '')].join(' ');
  if (/podman/i.test(names)) return 'podman';
  if (/balena/i.test(`${names} ${v.Version ?? ''}`)) return 'balena-engine';
  return 'docker';
}

export interface LocatedEngine {
  found: EngineFound;
  docker: Docker;
  agent: SshEngineAgent;
}

/**
 * The engine's answer to `/_ping`: its headers name the engine and its version (`Server: Docker/20.10.24 (linux)`,
 * `Api-Version`). dockerd answers it from memory, whereas `/version` runs `runc --version` and `docker-init --version`
 * on the device each time (~10–15 ms of the device's CPU and as much wall time, measured on the lab's dockerd).
 */
export function pingEngine(agent: Agent): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: 'docker', port: 80, path: '/_ping', method: 'GET' }, (res) => {
      res.resume();
      res.once('error', reject);
      res.once('end', () => (res.statusCode === 200 ? resolve(res.headers) : reject(new Error(`/_ping answered ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * Whether a ping's headers show the engine recorded: the same product (Podman says Libpod), the same version in
 * `Server`, the same API version. Anything else (an upgrade, another engine at that socket, a header missing) means
 * asking `/version` again.
 */
export function pingShowsRecorded(known: EngineFound, headers: IncomingHttpHeaders): boolean {
  const server = /^([^/\s]+)\/(\S+)/.exec(String(headers.server ?? ''));
  if (!server?.[1] || !known.version || server[2] !== known.version) return false;
  if (known.apiVersion && headers['api-version'] !== known.apiVersion) return false;
  const libpod = /libpod|podman/i.test(server[1]) || headers['libpod-api-version'] !== undefined;
  return libpod === (known.product === 'podman');
}

/**
 * The engine where it answered last time (recorded with the device), asked directly: no probe exec, no login shell
 * on the device. One `/_ping` confirms it (the channel it opens is kept for the call that follows); `/version` is
 * asked only when the ping's headers no longer match the record (the engine was upgraded or replaced). A fleet
 * refresh after the first visit costs one cheap round trip per device before its listing. Only when that place no
 * longer answers, or the technician's socket setting changed since, is the device asked again in full (locateEngine).
 */
export async function locateKnownEngine(
  conn: SshConnection,
  deviceName: string,
  setting: string | undefined,
  known: EngineFound | undefined,
  opts: { timeoutMs?: number; now?: () => Date } = {},
): Promise<LocatedEngine> {
  // The record holds while the technician's setting is what it was: set and found there, or unset and found elsewhere.
  const stillSo = known?.socket && (setting ? known.source === 'setting' && known.socket === setting : known.source !== 'setting');
  if (known && stillSo) {
    const timeoutMs = opts.timeoutMs ?? 8000;
    const { docker, agent } = dockerOverSsh(conn, { socketPath: known.socket });
    try {
      const headers = await withTimeout(pingEngine(agent), timeoutMs, `no answer within ${timeoutMs} ms`);
      if (pingShowsRecorded(known, headers)) return { found: known, docker, agent };
      const version = (await withTimeout(docker.version() as Promise<VersionAnswer>, timeoutMs, `no answer within ${timeoutMs} ms`)) as VersionAnswer;
      return { found: { ...known, product: productOf(version), version: version.Version, apiVersion: version.ApiVersion }, docker, agent };
    } catch {
      agent.destroy();
    }
  }
  return locateEngine(conn, deviceName, setting, opts);
}

/**
 * Finds the device's engine where the device keeps it: asks the device (one exec), then tries each place in order
 * until one answers the Engine API's /version. When none does, the error names every place and why it failed.
 */
export async function locateEngine(conn: SshConnection, deviceName: string, setting: string | undefined, opts: { timeoutMs?: number; now?: () => Date } = {}): Promise<LocatedEngine> {
  const timeoutMs = opts.timeoutMs ?? 8000;
  const run = await withTimeout(
    conn.run(['sh', '-c', ENGINE_PROBE, 'outpost-engine-probe', ...WELL_KNOWN.map((w) => w.socket), ...(setting ? [setting] : [])], { maxBytes: 64 * 1024 }),
    timeoutMs,
    `${deviceName}: looking for the container engine got no answer within ${timeoutMs} ms`,
  );
  const probe = parseProbe(run.stdout.toString('utf8'));
  const tried: EngineFound['tried'] = [];
  for (const c of candidates(setting, probe)) {
    if (c.unusable) {
      tried.push({ socket: c.socket, source: c.source, result: c.unusable });
      continue;
    }
    if (!probe.sockets.has(c.socket)) {
      tried.push({ socket: c.socket, source: c.source, result: 'no socket there' });
      continue;
    }
    const { docker, agent } = dockerOverSsh(conn, { socketPath: c.socket });
    try {
      const version = (await withTimeout(docker.version() as Promise<VersionAnswer>, timeoutMs, `no answer within ${timeoutMs} ms`)) as VersionAnswer;
      const found: EngineFound = {
        socket: c.socket,
        source: c.source,
        product: productOf(version),
        version: version.Version,
        apiVersion: version.ApiVersion,
        systemd: probe.systemd,
        foundAt: (opts.now?.() ?? new Date()).toISOString(),
        tried,
      };
      return { found, docker, agent };
    } catch (err) {
      agent.destroy();
      tried.push({ socket: c.socket, source: c.source, result: `no engine answered: ${toErrorBody(err).message}` });
    }
  }
  const list = tried.map((t) => `${t.socket} (${t.source}): ${t.result}`).join('; ');
  throw new OutpostError('engine-not-found', `${deviceName}: no container engine answered; tried ${list}. Set the device's engine socket if it lives elsewhere.`, { tried });
}
