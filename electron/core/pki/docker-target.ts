import type { InstallPlan, PlannedChange } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';
import { serviceRestart } from './service-manager';
import { applyServiceChange, processRunning } from './apply-change';
import { hashRemote, runOnDevice, type RemoteFile } from './device-ops';

export const DOCKER_TLS_PORT = 2376;
export const DOCKER_TLS_DIR = '/etc/docker/tls';
export const DAEMON_JSON = '/etc/docker/daemon.json';
export const SYSTEMD_DROP_IN = '/etc/systemd/system/docker.service.d/outpost-tls.conf';
const TCP_HOST = `tcp://0.0.0.0:${DOCKER_TLS_PORT}`;
const DEFAULTS_MARK = '# outpost: Docker TLS listener';

export interface DockerFacts {
  init: 'systemd' | 'openrc' | 'sysv' | 'none';
  /** argv of the running dockerd, if one runs. */
  argv: string[] | null;
  daemonJson: string | null;
  /** /etc/default/docker (Debian sysvinit) or /etc/conf.d/docker (OpenRC), where the init script reads DOCKER_OPTS. */
  defaultsFile: string | null;
  defaultsContent: string | null;
  dropIn: string | null;
}

const FACTS_SCRIPT = `
if [ -d /run/systemd/system ]; then init=systemd
elif command -v rc-service >/dev/null 2>&1 && [ -d /run/openrc ]; then init=openrc
elif [ -x /etc/init.d/docker ]; then init=sysv
else init=none; fi
echo "init=$init"
pid=$(pidof dockerd 2>/dev/null | cut -d' ' -f1)
if [ -n "$pid" ]; then printf 'argv='; base64 < "/proc/$pid/cmdline" | tr -d '\\n'; echo; fi
if [ -f /etc/docker/daemon.json ]; then printf 'daemonjson='; base64 < /etc/docker/daemon.json | tr -d '\\n'; echo; fi
for f in /etc/default/docker /etc/conf.d/docker; do
  if [ -f "$f" ]; then echo "defaults=$f"; printf 'defaultscontent='; base64 < "$f" | tr -d '\\n'; echo; break; fi
done
if [ -f ${SYSTEMD_DROP_IN} ]; then printf 'dropin='; base64 < ${SYSTEMD_DROP_IN} | tr -d '\\n'; echo; fi
`;

export async function readDockerFacts(ssh: SshConnection): Promise<DockerFacts> {
  const r = await runOnDevice(ssh, ['sh', '-c', FACTS_SCRIPT]);
  if (r.code !== 0) throw new OutpostError('protocol', `${ssh.target.host}: could not read the Docker engine's set-up: ${r.stderr.trim()}`);
  return parseFacts(r.stdout);
}

export function parseFacts(out: string): DockerFacts {
  const kv = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1));
  }
  const b64 = (k: string): string | null => (kv.has(k) ? Buffer.from(kv.get(k) as string, 'base64').toString('utf8') : null);
  const argv = b64('argv');
  const init = kv.get('init');
  return {
    init: init === 'systemd' || init === 'openrc' || init === 'sysv' ? init : 'none',
    argv: argv === null ? null : argv.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1),
    daemonJson: b64('daemonjson'),
    defaultsFile: kv.get('defaults') ?? null,
    defaultsContent: b64('defaultscontent'),
    dropIn: b64('dropin'),
  };
}

/** `-H x`, `-Hx`, `-H=x`, `--host x`, `--host=x`: the listeners dockerd was given on its command line. */
export function hostFlags(argv: string[]): string[] {
  const hosts: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-H' || a === '--host') hosts.push(argv[++i] ?? '');
    else if (a.startsWith('--host=')) hosts.push(a.slice(7));
    else if (a.startsWith('-H=')) hosts.push(a.slice(3));
    else if (a.startsWith('-H') && a.length > 2 && !a.startsWith('--')) hosts.push(a.slice(2));
  }
  return hosts;
}

const systemdQuote = (a: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);

export interface DockerPlanInput {
  deviceName: string;
  facts: DockerFacts;
  caPem: string;
  certPem: string;
  /** The device's new key, copied on the device itself. */
  keySource: string;
  /** sha256 on the device of each path (and of keySource), `-` when absent. */
  hashes: Map<string, string>;
  sha256: (text: string) => string;
}

export interface DockerPlan extends InstallPlan {
  files: RemoteFile[];
  restartArgv: string[] | null;
}

/**
 * The exact changes, decided before anything is touched: the three PEM files, `daemon.json` merged (every other
 * setting kept), and where the TCP listener goes. A dockerd given `-H` on its command line (`-H fd://` in Debian's
 * systemd unit) refuses to start with `hosts` in daemon.json too, so the listener then goes beside the flags: a
 * systemd drop-in that restates ExecStart, or DOCKER_OPTS in the init script's defaults file.
 */
export function planDockerTls(input: DockerPlanInput): DockerPlan {
  const { facts } = input;
  let current: Record<string, unknown> = {};
  if (facts.daemonJson !== null && facts.daemonJson.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(facts.daemonJson);
    } catch (err) {
      throw new OutpostError('invalid-input', `${input.deviceName}: ${DAEMON_JSON} is not JSON (${(err as Error).message}); fix or remove it first — nothing was changed`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new OutpostError('invalid-input', `${input.deviceName}: ${DAEMON_JSON} is not a JSON object; nothing was changed`);
    current = parsed as Record<string, unknown>;
  }
  const notes: string[] = [];
  const changes: PlannedChange[] = [];
  const files: RemoteFile[] = [];
  const tls = { tls: true, tlsverify: true, tlscacert: `${DOCKER_TLS_DIR}/ca.pem`, tlscert: `${DOCKER_TLS_DIR}/cert.pem`, tlskey: `${DOCKER_TLS_DIR}/key.pem` };
  const merged: Record<string, unknown> = { ...current, ...tls };
  const flags = facts.argv ? hostFlags(facts.argv) : [];
  let listener: RemoteFile | null = null;
  if (flags.length === 0) {
    const existing = Array.isArray(current.hosts) ? (current.hosts as string[]) : ['unix:///var/run/docker.sock'];
    merged.hosts = existing.includes(TCP_HOST) ? existing : [...existing, TCP_HOST];
  } else if (flags.includes(TCP_HOST)) {
    notes.push(`dockerd already listens on ${TCP_HOST} (a command-line flag)`);
  } else if (facts.init === 'systemd' && facts.argv) {
    const argv = [...facts.argv, '-H', TCP_HOST];
    const content = `# Written by Outpost: the Docker TLS listener beside the unit's own -H flags (they conflict with "hosts" in daemon.json)\n[Service]\nExecStart=\nExecStart=${argv.map(systemdQuote).join(' ')}\n`;
    listener = { path: SYSTEMD_DROP_IN, content, owner: 'root:root', mode: '0644' };
    notes.push(`dockerd is started with ${flags.map((f) => `-H ${f}`).join(' ')} by systemd: the TCP listener goes into a drop-in, not daemon.json`);
  } else if ((facts.init === 'sysv' || facts.init === 'openrc') && facts.defaultsFile) {
    const before = facts.defaultsContent ?? '';
    const content = before.includes(DEFAULTS_MARK) ? before : `${before.replace(/\n?$/, '\n')}DOCKER_OPTS="$DOCKER_OPTS -H ${TCP_HOST}" ${DEFAULTS_MARK}\n`;
    listener = { path: facts.defaultsFile, content, owner: 'root:root', mode: '0644' };
    notes.push(`dockerd is started with ${flags.map((f) => `-H ${f}`).join(' ')} by its init script: the TCP listener goes into DOCKER_OPTS in ${facts.defaultsFile}`);
  } else {
    throw new OutpostError('unsupported', `${input.deviceName}: dockerd is started with -H flags by an init Outpost cannot edit (${facts.init}); add "-H ${TCP_HOST}" there, then install again`);
  }
  const daemonJson = `${JSON.stringify(merged, null, 2)}\n`;
  files.push({ path: `${DOCKER_TLS_DIR}/ca.pem`, content: input.caPem, owner: 'root:root', mode: '0644' });
  files.push({ path: `${DOCKER_TLS_DIR}/cert.pem`, content: input.certPem, owner: 'root:root', mode: '0644' });
  files.push({ path: `${DOCKER_TLS_DIR}/key.pem`, copyFrom: input.keySource, owner: 'root:root', mode: '0600' });
  files.push({ path: DAEMON_JSON, content: daemonJson, owner: 'root:root', mode: '0644' });
  if (listener) files.push(listener);

  const toWrite = files.filter((f) => {
    const now = input.hashes.get(f.path) ?? '-';
    const next = f.copyFrom ? (input.hashes.get(f.copyFrom) ?? '?') : input.sha256(f.content ?? '');
    return now !== next;
  });
  for (const f of files) {
    const writes = toWrite.includes(f);
    const what =
      f.path === DAEMON_JSON
        ? `merge ${Object.keys(tls).join(', ')}${merged.hosts ? ', hosts += ' + TCP_HOST : ''}; keep ${Object.keys(current).filter((k) => !(k in tls) && k !== 'hosts').join(', ') || 'nothing else (no other settings)'}`
        : f.copyFrom
          ? `the device's new key (copied on the device from ${f.copyFrom}; it never leaves the device)`
          : f.path.endsWith('ca.pem')
            ? 'the site CA certificate (+ chain)'
            : f.path.endsWith('cert.pem')
              ? 'the engine’s certificate (docker-server)'
              : 'the TCP listener on 2376';
    changes.push({ action: writes ? (f.path === DAEMON_JSON ? 'merge' : 'write') : 'keep', path: f.path, owner: f.owner, mode: f.mode, detail: writes ? what : `unchanged: ${what}` });
  }
  const restartArgv = toWrite.length === 0 ? null : restartCommand(facts);
  if (restartArgv) changes.push({ action: 'run', detail: `restart the engine: ${restartArgv.join(' ')}` });
  notes.push('dockerd does not check certificate revocation lists: a revoked docker-client certificate is accepted until it expires (move engines to a new CA to lock one out)');
  return { target: 'docker', deviceName: input.deviceName, changes, restart: restartArgv ? restartArgv.join(' ') : null, unchanged: toWrite.length === 0, notes, files: toWrite, restartArgv };
}

export function restartCommand(facts: Pick<DockerFacts, 'init'>): string[] {
  return serviceRestart(facts.init, 'docker');
}

const WHY_SCRIPT = `if [ -d /run/systemd/system ]; then journalctl -u docker -n 12 --no-pager -o cat 2>/dev/null; elif [ -f /var/log/docker.log ]; then tail -n 12 /var/log/docker.log; fi`;

/** The engine's last words, from its log: the line that says why it did not start. */
export async function engineFailureReason(ssh: SshConnection): Promise<string> {
  const r = await runOnDevice(ssh, ['sh', '-c', WHY_SCRIPT]).catch(() => ({ stdout: '' }));
  const lines = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const why = [...lines].reverse().find((l) => /failed to start|unable to|error|invalid|conflict|directives are specified/i.test(l)) ?? lines.at(-1);
  return why ? why.replace(/^.*?level=\w+ msg="?/, '').replace(/"$/, '').slice(0, 400) : 'no log found';
}

export interface ApplyDeps {
  ssh: SshConnection;
  /** The engine answers over mTLS with the laptop's client certificate. */
  tlsHealthy(): Promise<boolean>;
  /** The engine answers on its local socket (over the SSH link), after a rollback. */
  localHealthy(): Promise<boolean>;
  timeoutMs?: number;
}

/**
 * Writes the planned files, restarts through the service manager and waits for the engine over mTLS. If it does
 * not come back, the previous files go back, the engine is restarted again, and the error says why (kind
 * `rolled-back`); the device is left as it was.
 */
export async function applyDockerPlan(plan: DockerPlan, deps: ApplyDeps): Promise<void> {
  if (plan.unchanged) return;
  const { ssh } = deps;
  await applyServiceChange(ssh, {
    files: plan.files,
    restartArgv: plan.restartArgv as string[],
    healthy: deps.tlsHealthy,
    running: () => processRunning(ssh, 'dockerd'),
    backAsBefore: deps.localHealthy,
    failureReason: () => engineFailureReason(ssh),
    timeoutMs: deps.timeoutMs ?? 45_000,
    pollMs: 300,
    failed: (why, back) =>
      new OutpostError(
        'rolled-back',
        `${plan.deviceName}: dockerd did not come back with TLS (${why}); the previous files were restored and the engine ${back ? 'is running again as before' : 'was restarted but is NOT answering yet — check it on the device'}`,
        { why, engineBack: back },
      ),
  });
}

export async function dockerHashes(ssh: SshConnection, keySource: string, facts: DockerFacts): Promise<Map<string, string>> {
  const paths = [`${DOCKER_TLS_DIR}/ca.pem`, `${DOCKER_TLS_DIR}/cert.pem`, `${DOCKER_TLS_DIR}/key.pem`, DAEMON_JSON, keySource, SYSTEMD_DROP_IN];
  if (facts.defaultsFile) paths.push(facts.defaultsFile);
  return hashRemote(ssh, paths);
}
