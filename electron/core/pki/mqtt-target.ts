import type { InstallPlan, MqttTargetOptions, PlannedChange } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';
import { applyServiceChange, processRunning } from './apply-change';
import { hashRemote, runOnDevice, type RemoteFile } from './device-ops';
import { fromBase64, initProbe, parseInit, parseKv, serviceRestart, type InitSystem } from './service-manager';

export const MOSQUITTO_CONF = '/etc/mosquitto/mosquitto.conf';
export const MQTT_TLS_DIR = '/etc/mosquitto/outpost';
export const MQTT_FILES = { ca: `${MQTT_TLS_DIR}/ca.pem`, cert: `${MQTT_TLS_DIR}/cert.pem`, key: `${MQTT_TLS_DIR}/key.pem`, crl: `${MQTT_TLS_DIR}/crl.pem` } as const;
const LISTENER_FILE = 'outpost-tls.conf';
const INCLUDE_MARK = '# outpost: the mTLS listener lives in conf.d';

export interface MosquittoFacts {
  init: InitSystem;
  installed: boolean;
  version: string | null;
  running: boolean;
  /** The mosquitto account exists: its group may read the key. */
  user: boolean;
  group: boolean;
  mainConf: string | null;
  /** Every other *.conf in the include_dir(s) the main config names, with its content (ours excluded). */
  others: Array<{ path: string; content: string }>;
}

const FACTS_SCRIPT = `
${initProbe('mosquitto')}
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
  echo installed=1
  printf 'version='; (PATH="$PATH:/usr/sbin"; mosquitto -h 2>&1 | head -n 1)
fi
pidof mosquitto >/dev/null 2>&1 && echo running=1
grep -q '^mosquitto:' /etc/passwd 2>/dev/null && echo user=1
grep -q '^mosquitto:' /etc/group 2>/dev/null && echo group=1
if [ -f ${MOSQUITTO_CONF} ]; then
  printf 'conf='; base64 < ${MOSQUITTO_CONF} | tr -d '\\n'; echo
  for d in $(sed -n 's/^[[:space:]]*include_dir[[:space:]]\\{1,\\}\\([^[:space:]]*\\).*/\\1/p' ${MOSQUITTO_CONF}); do
    for f in "$d"/*.conf; do
      [ -f "$f" ] || continue
      [ "$(basename "$f")" = ${LISTENER_FILE} ] && continue
      printf 'other=%s ' "$f"; base64 < "$f" | tr -d '\\n'; echo
    done
  done
fi
`;

export async function readMosquittoFacts(ssh: SshConnection): Promise<MosquittoFacts> {
  const r = await runOnDevice(ssh, ['sh', '-c', FACTS_SCRIPT]);
  if (r.code !== 0) throw new OutpostError('protocol', `${ssh.target.host}: could not read mosquitto's set-up: ${r.stderr.trim()}`);
  return parseMosquittoFacts(r.stdout);
}

export function parseMosquittoFacts(out: string): MosquittoFacts {
  const kv = parseKv(out);
  const one = (k: string) => kv.get(k)?.[0];
  return {
    init: parseInit(one('init')),
    installed: one('installed') === '1',
    version: one('version')?.trim() || null,
    running: one('running') === '1',
    user: one('user') === '1',
    group: one('group') === '1',
    mainConf: fromBase64(one('conf')),
    others: (kv.get('other') ?? []).map((v) => {
      const i = v.lastIndexOf(' ');
      return { path: v.slice(0, i), content: fromBase64(v.slice(i + 1)) ?? '' };
    }),
  };
}

/** mosquitto.conf directives as [name, rest] pairs, comments and blank lines dropped. */
export function directives(conf: string): Array<[string, string]> {
  return conf
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+)\s*(.*)$/.exec(l) as RegExpExecArray;
      return [m[1] as string, (m[2] ?? '').trim()];
    });
}

export interface MqttPlanInput {
  deviceName: string;
  facts: MosquittoFacts;
  options: MqttTargetOptions;
  caPem: string;
  certPem: string;
  crlPem: string;
  /** The device's key, copied on the device itself (it never travels back to the laptop). */
  keySource: string;
  hashes: Map<string, string>;
  sha256: (text: string) => string;
}

export interface MqttPlan extends InstallPlan {
  files: RemoteFile[];
  restartArgv: string[] | null;
  port: number;
}

/** The listener, as mosquitto reads it: TLS settings belong to the listener line above them. */
export function listenerConf(o: MqttTargetOptions, keepLocal: boolean): string {
  return [
    '# Written by Outpost: the MQTT mTLS listener (site CA). Reinstalling rewrites this file; keep your own settings in other files.',
    ...(keepLocal ? ['# mosquitto had no listener of its own (local-only mode on localhost:1883): kept as it was', 'listener 1883 127.0.0.1', 'allow_anonymous true', ''] : []),
    `listener ${o.port}`,
    `cafile ${MQTT_FILES.ca}`,
    `certfile ${MQTT_FILES.cert}`,
    `keyfile ${MQTT_FILES.key}`,
    `crlfile ${MQTT_FILES.crl}`,
    'require_certificate true',
    `use_identity_as_username ${o.identityAsUsername ? 'true' : 'false'}`,
    'tls_version tlsv1.2',
    '',
  ].join('\n');
}

/**
 * The exact changes, decided before anything is touched: the four PEM files (the key copied from the device's own
 * store, readable by mosquitto's group only), a listener file of ours in the include_dir the main config names
 * (the main config gains an include_dir line only when it has none), nothing else of the broker's config rewritten.
 * A listener already on the port in someone else's file is a conflict: nothing is changed.
 */
export function planMqttTls(input: MqttPlanInput): MqttPlan {
  const { facts, options } = input;
  const name = input.deviceName;
  if (!facts.installed) throw new OutpostError('unsupported', `${name}: mosquitto is not installed (no mosquitto binary); install it (apt-get install mosquitto), then install again — nothing was changed`);
  if (facts.mainConf === null) throw new OutpostError('unsupported', `${name}: ${MOSQUITTO_CONF} does not exist; Outpost adds a listener to an existing mosquitto configuration — nothing was changed`);
  const main = directives(facts.mainConf);
  const includeDir = main.find(([k]) => k === 'include_dir')?.[1].split(/\s+/)[0];
  const dir = includeDir ?? '/etc/mosquitto/conf.d';
  const listenerPath = `${dir.replace(/\/+$/, '')}/${LISTENER_FILE}`;
  const all = [{ path: MOSQUITTO_CONF, conf: main }, ...facts.others.map((o) => ({ path: o.path, conf: directives(o.content) }))];
  for (const f of all) {
    for (const [k, v] of f.conf) {
      const port = k === 'listener' ? Number(v.split(/\s+/)[0]) : k === 'port' ? Number(v) : NaN;
      if (port === options.port) throw new OutpostError('conflict', `${name}: ${f.path} already has a listener on port ${options.port} ("${k} ${v}"); remove it or choose another port (--mqtt-port) — nothing was changed`);
    }
  }
  const anyListener = all.some((f) => f.conf.some(([k]) => k === 'listener' || k === 'port'));
  const anyAnonymous = all.some((f) => f.conf.some(([k]) => k === 'allow_anonymous'));
  const keepLocal = !anyListener && !anyAnonymous;
  const notes: string[] = [];
  if (keepLocal) notes.push('mosquitto had no listener configured (local-only mode on localhost:1883); adding one ends that mode, so the plan keeps a localhost:1883 listener as it was');
  if (all.some((f) => f.conf.some(([k, v]) => k === 'per_listener_settings' && v === 'true'))) notes.push('per_listener_settings is on: authentication settings of the TLS listener are its own');
  if (all.some((f) => f.conf.some(([k]) => k === 'acl_file'))) notes.push(`an acl_file is in use: clients on ${options.port} are named by their certificate's CN; give them ACL entries`);
  if (!options.identityAsUsername) notes.push('use_identity_as_username is off: mosquitto 2 refuses clients without a username unless allow_anonymous or a password file lets them in');

  const owner = facts.group ? 'root:mosquitto' : facts.user ? 'mosquitto:root' : 'root:root';
  const keyMode = facts.group ? '0640' : '0600';
  const files: RemoteFile[] = [
    { path: MQTT_FILES.ca, content: input.caPem, owner: 'root:root', mode: '0644' },
    { path: MQTT_FILES.cert, content: input.certPem, owner: 'root:root', mode: '0644' },
    { path: MQTT_FILES.key, copyFrom: input.keySource, owner, mode: keyMode },
    { path: MQTT_FILES.crl, content: input.crlPem, owner: 'root:root', mode: '0644' },
    { path: listenerPath, content: listenerConf(options, keepLocal), owner: 'root:root', mode: '0644' },
  ];
  if (!includeDir) {
    files.push({ path: MOSQUITTO_CONF, content: `${facts.mainConf.replace(/\n?$/, '\n')}${INCLUDE_MARK}\ninclude_dir ${dir}\n`, owner: 'root:root', mode: '0644' });
  }
  const what = (f: RemoteFile): string =>
    f.path === MQTT_FILES.ca
      ? 'the site CA certificate (+ chain)'
      : f.path === MQTT_FILES.cert
        ? 'the broker’s certificate (mqtt-server)'
        : f.path === MQTT_FILES.key
          ? `the device's key (copied on the device from ${f.copyFrom}; it never leaves the device)`
          : f.path === MQTT_FILES.crl
            ? 'the CA’s revocation list (rewritten on every revoke)'
            : f.path === MOSQUITTO_CONF
              ? `append "include_dir ${dir}"; every other line kept`
              : `listener ${options.port}: require_certificate true, use_identity_as_username ${options.identityAsUsername}, cafile/certfile/keyfile/crlfile above${keepLocal ? '; localhost:1883 kept' : ''}`;
  const toWrite = files.filter((f) => (input.hashes.get(f.path) ?? '-') !== (f.copyFrom ? (input.hashes.get(f.copyFrom) ?? '?') : input.sha256(f.content ?? '')));
  const changes: PlannedChange[] = files.map((f) => {
    const writes = toWrite.includes(f);
    return { action: writes ? (f.path === MOSQUITTO_CONF ? 'merge' : 'write') : 'keep', path: f.path, owner: f.owner, mode: f.mode, detail: writes ? what(f) : `unchanged: ${what(f)}` };
  });
  const restartArgv = toWrite.length === 0 ? null : serviceRestart(facts.init, 'mosquitto');
  if (restartArgv) changes.push({ action: 'run', detail: `restart the broker: ${restartArgv.join(' ')}` });
  return { target: 'mqtt', deviceName: name, changes, restart: restartArgv ? restartArgv.join(' ') : null, unchanged: toWrite.length === 0, notes, files: toWrite, restartArgv, port: options.port };
}

export async function mqttHashes(ssh: SshConnection, keySource: string, facts: MosquittoFacts): Promise<Map<string, string>> {
  const main = facts.mainConf ? directives(facts.mainConf) : [];
  const dir = (main.find(([k]) => k === 'include_dir')?.[1].split(/\s+/)[0] ?? '/etc/mosquitto/conf.d').replace(/\/+$/, '');
  return hashRemote(ssh, [...Object.values(MQTT_FILES), keySource, MOSQUITTO_CONF, `${dir}/${LISTENER_FILE}`]);
}

const WHY_SCRIPT = `if [ -d /run/systemd/system ]; then journalctl -u mosquitto -n 15 --no-pager -o cat 2>/dev/null; fi
for f in /var/log/mosquitto/mosquitto.log /var/log/mosquitto.log /run/mosquitto/mosquitto.log; do [ -f "$f" ] && tail -n 15 "$f"; done`;

/** The broker's last words: the line that says why it did not start or refused the listener. */
export async function brokerFailureReason(ssh: SshConnection): Promise<string> {
  const r = await runOnDevice(ssh, ['sh', '-c', WHY_SCRIPT]).catch(() => ({ stdout: '' }));
  const lines = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const why = [...lines].reverse().find((l) => /error|unable|invalid|failed|refus/i.test(l)) ?? lines.at(-1);
  return why ? why.replace(/^\d+: /, '').slice(0, 400) : 'no log found';
}

export interface MqttApplyDeps {
  ssh: SshConnection;
  /** An MQTT CONNECT over mTLS with the laptop's mqtt-client certificate is accepted. */
  tlsHealthy(): Promise<boolean>;
  timeoutMs?: number;
}

/**
 * Writes the planned files, restarts the broker through the service manager and waits for an mTLS CONNECT to be
 * accepted. If it is not, the previous files go back, the broker is restarted again, and the error (kind
 * `rolled-back`) says why, from the broker's log.
 */
export async function applyMqttPlan(plan: MqttPlan, deps: MqttApplyDeps): Promise<void> {
  if (plan.unchanged) return;
  const { ssh } = deps;
  const running = () => processRunning(ssh, 'mosquitto');
  await applyServiceChange(ssh, {
    files: plan.files,
    restartArgv: plan.restartArgv as string[],
    healthy: deps.tlsHealthy,
    running,
    backAsBefore: running,
    failureReason: () => brokerFailureReason(ssh),
    timeoutMs: deps.timeoutMs ?? 20_000,
    backTimeoutMs: 10_000,
    failed: (why, back) =>
      new OutpostError(
        'rolled-back',
        `${plan.deviceName}: mosquitto did not accept an mTLS connection on ${plan.port} after the change (${why}); the previous files were restored and the broker ${back ? 'is running again as before' : 'was restarted but is NOT running — check it on the device'}`,
        { why, brokerBack: back },
      ),
  });
}

/** Replaces only the CRL and restarts the broker (mosquitto reads its crlfile at start), then checks it answers. */
export async function pushCrlToBroker(ssh: SshConnection, init: InitSystem, crlPem: string, port: number, deps: Omit<MqttApplyDeps, 'ssh'>): Promise<void> {
  const file: RemoteFile = { path: MQTT_FILES.crl, content: crlPem, owner: 'root:root', mode: '0644' };
  const restart = serviceRestart(init, 'mosquitto');
  await applyMqttPlan(
    { target: 'mqtt', deviceName: ssh.target.host, changes: [], restart: restart.join(' '), unchanged: false, notes: [], files: [file], restartArgv: restart, port },
    { ...deps, ssh },
  );
}
