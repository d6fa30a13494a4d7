// Certificate rows: signing throughput on the laptop against `openssl x509 -req` run once per certificate (as a
// shell script signs), and end-to-end Docker daemon TLS provisioning of several lab devices in parallel against the
// same steps scripted with ssh + openssl + the docker CLI, both measured in this run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profile } from '../../../electron/core/pki/profiles';
import { ALGORITHMS, generateKeyPair, x509 } from '../../../electron/core/pki/crypto';
import { parseSan, signRequest } from '../../../electron/core/pki/signer';
import { dockerPing, waitFor, type LabDevice } from '../../lab/lab';
import type { BenchContext, BenchRow } from '../types';

const SIGN_COUNT = Number(process.env.OUTPOST_BENCH_PKI_SIGN ?? 400);
const DEVICES = Number(process.env.OUTPOST_BENCH_PKI_DEVICES ?? 10);
const IN_FLIGHT = 8;
const passphrase = 'bench-pki-passphrase';

function sh(argv: string[], opts: { input?: string; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // a child that exits without reading its input
      child.stdin.end(opts.input);
    }
  });
}

async function ok(argv: string[], opts: { input?: string; cwd?: string } = {}): Promise<string> {
  const r = await sh(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} exited ${r.code}: ${r.stderr.slice(0, 400)}`);
  return r.stdout;
}

/** CPU time (user + system, µs) of this process's children that have exited and been reaped. */
function childrenCpuUs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": field 3 is fields[0]
  const ticks = Number(fields[13]) + Number(fields[14]); // cutime, cstime (fields 16, 17)
  return (ticks / CLOCK_TICKS) * 1e6;
}
/** sysconf(_SC_CLK_TCK): 100 on every Linux this runs on (getconf is not worth a process per read). */
const CLOCK_TICKS = 100;

/** Certificates signed per second: CSR checked and signed by the profile (P-256 CA), vs one openssl process per CSR. */
async function signingRows(ctx: BenchContext, work: string): Promise<BenchRow[]> {
  const { cas } = await ctx.core.pki.load();
  const ca = await cas.create({ name: 'bench-sign', algorithm: 'ec-p256', validityDays: 365, passphrase });
  const signing = await cas.unlock(ca, passphrase);
  const prof = profile('docker-server');
  const approved = { commonName: 'gw', sans: [parseSan('10.0.4.17')!, parseSan('gw.local')!] };
  ctx.log(`pki: ${SIGN_COUNT} P-256 CSRs`);
  const csrs: string[] = [];
  for (let i = 0; i < SIGN_COUNT; i++) {
    const keys = await generateKeyPair('ec-p256');
    csrs.push((await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=gw-${i}`, keys, signingAlgorithm: ALGORITHMS['ec-p256'].sign })).toString('pem'));
  }
  // The anchor's CA: a P-256 key and certificate openssl reads from files, the same extensions from an extfile.
  await ok(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'ca.key'), '-out', join(work, 'ca.pem'), '-subj', '/CN=bench openssl CA', '-days', '365']);
  writeFileSync(join(work, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=IP:10.0.4.17,DNS:gw.local\n');
  csrs.forEach((c, i) => writeFileSync(join(work, `${i}.csr`), c));

  // Both sides with the same number in flight (issue-bulk's default, 8), in alternating halves so a change in the
  // machine's load falls on both: ours as concurrent signings in this process, the anchor as concurrent processes.
  const pool = async (from: number, to: number, one: (i: number) => Promise<unknown>) => {
    let next = from;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < to) await one(next++);
    }));
  };
  let oursMs = 0;
  let anchorMs = 0;
  // CPU time besides wall time: on a shared machine the wall rate follows the load from one second to the next, the
  // CPU spent per certificate much less. Ours is this process's (main thread and the crypto thread pool), the
  // anchor's its openssl processes' (reaped children, from /proc/self/stat).
  let oursCpuUs = 0;
  let anchorCpuUs = 0;
  const half = Math.floor(SIGN_COUNT / 2);
  for (const [from, to] of [[0, half], [half, SIGN_COUNT]] as const) {
    let t = performance.now();
    const cpu = process.cpuUsage();
    await pool(from, to, (i) => signRequest(csrs[i] as string, prof, approved, signing));
    oursMs += performance.now() - t;
    const used = process.cpuUsage(cpu);
    oursCpuUs += used.user + used.system;
    t = performance.now();
    const children = childrenCpuUs();
    await pool(from, to, (i) => ok(['openssl', 'x509', '-req', '-in', join(work, `${i}.csr`), '-CA', join(work, 'ca.pem'), '-CAkey', join(work, 'ca.key'), '-set_serial', `0x${(i + 1).toString(16)}`, '-days', '730', '-sha256', '-extfile', join(work, 'leaf.ext'), '-out', join(work, `${i}.pem`)]));
    anchorMs += performance.now() - t;
    anchorCpuUs += childrenCpuUs() - children;
  }
  const ours = (SIGN_COUNT / oursMs) * 1000;
  const anchor = (SIGN_COUNT / anchorMs) * 1000;
  return [
    {
      metric: `certificates signed per second (P-256 CA, docker-server profile, CSR checked; ${SIGN_COUNT} CSRs, ${IN_FLIGHT} in flight)`,
      ours,
      anchor,
      unit: 'cert/s',
      anchorName: `\`openssl x509 -req\` per certificate, one process each, ${IN_FLIGHT} at once`,
      note: `goal ≥ 300/s${ours >= 300 ? '' : ': not met'}`,
    },
    {
      metric: 'CPU time per certificate signed (same run; all threads of this process vs the openssl processes)',
      ours: oursCpuUs / SIGN_COUNT / 1000,
      anchor: anchorCpuUs / SIGN_COUNT / 1000,
      unit: 'ms',
      anchorName: '`openssl x509 -req`, user + system of each process',
      note: 'lower is better; steadier than the rate when the machine is shared',
    },
  ];
}

/** The hand-made way, one device per background job: clock, key + CSR on the device, sign, copy, DOCKER_OPTS, restart, wait for the docker CLI over TLS. */
const ANCHOR_SCRIPT = `#!/bin/bash
set -u
W=$1; KEY=$2; shift 2
SSH=(ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ControlMaster=auto -o "ControlPath=$W/cm-%h" -o ControlPersist=120)
one() {
  ip=$1; d="$W/dev-$ip"; mkdir -p "$d"
  now=$(date -u +%s); t=$("\${SSH[@]}" root@"$ip" date -u +%s) || return 1
  [ $((t - now)) -lt 300 ] && [ $((now - t)) -lt 300 ] || { echo "$ip: clock off" >&2; return 1; }
  "\${SSH[@]}" root@"$ip" 'umask 077; mkdir -p /etc/docker/tls && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out /etc/docker/tls/key.pem 2>/dev/null && openssl req -new -key /etc/docker/tls/key.pem -subj /CN=gw -batch' > "$d/csr" || return 1
  printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=serverAuth\\nsubjectAltName=IP:%s\\n' "$ip" > "$d/ext"
  openssl x509 -req -in "$d/csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -CAserial "$d/srl" -days 730 -sha256 -extfile "$d/ext" -out "$d/cert.pem" 2>/dev/null || return 1
  cat "$W/ca.pem" | "\${SSH[@]}" root@"$ip" 'cat > /etc/docker/tls/ca.pem' || return 1
  cat "$d/cert.pem" | "\${SSH[@]}" root@"$ip" 'cat > /etc/docker/tls/cert.pem && chmod 644 /etc/docker/tls/ca.pem /etc/docker/tls/cert.pem && echo "DOCKER_OPTS=\\"\\$DOCKER_OPTS --tlsverify --tlscacert=/etc/docker/tls/ca.pem --tlscert=/etc/docker/tls/cert.pem --tlskey=/etc/docker/tls/key.pem -H tcp://0.0.0.0:2376\\"" >> /etc/default/docker && /etc/init.d/docker restart >/dev/null' || return 1
  for i in $(seq 1 300); do
    docker --tlsverify --tlscacert "$W/ca.pem" --tlscert "$W/client.pem" --tlskey "$W/client.key" -H "tcp://$ip:2376" version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  echo "$ip: docker over TLS never answered" >&2; return 1
}
pids=()
for ip in "$@"; do one "$ip" & pids+=($!); done
rc=0; for p in "\${pids[@]}"; do wait "$p" || rc=1; done
for ip in "$@"; do "\${SSH[@]}" -O exit root@"$ip" 2>/dev/null; done
exit $rc
`;

async function resetDocker(dev: LabDevice): Promise<void> {
  const r = await dev.exec(['sh', '-c', "/etc/init.d/docker stop >/dev/null; rm -rf /etc/docker/tls /etc/docker/daemon.json /etc/outpost/pki; printf '# extra dockerd flags for this lab device\\nDOCKER_OPTS=\"\"\\n' > /etc/default/docker; /etc/init.d/docker start >/dev/null"]);
  if (r.code !== 0) throw new Error(`reset of ${dev.name}: ${r.stderr}`);
  await waitFor(`dockerd on ${dev.name} after its reset`, () => dockerPing(dev.dockerSocketHostPath as string), 60_000);
}

async function provisioningRows(ctx: BenchContext, work: string): Promise<BenchRow[]> {
  ctx.log(`pki: starting ${DEVICES} Docker devices`);
  const names = Array.from({ length: DEVICES }, (_, i) => `pki-${String(i).padStart(2, '0')}`);
  const devs: LabDevice[] = [];
  try {
    for (let i = 0; i < names.length; i += 4) devs.push(...(await Promise.all(names.slice(i, i + 4).map((name) => ctx.lab.addDevice({ name, docker: true })))));
    // The anchor's laptop client certificate, made once (not timed), like Outpost's own on its first install.
    await ok(['openssl', 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'client.key'), '-out', join(work, 'client.csr'), '-subj', '/CN=laptop']);
    writeFileSync(join(work, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    await ok(['openssl', 'x509', '-req', '-in', join(work, 'client.csr'), '-CA', join(work, 'ca.pem'), '-CAkey', join(work, 'ca.key'), '-CAcreateserial', '-days', '30', '-extfile', join(work, 'client.ext'), '-out', join(work, 'client.pem')]);
    writeFileSync(join(work, 'anchor.sh'), ANCHOR_SCRIPT, { mode: 0o755 });

    ctx.log(`pki: scripted ssh + openssl + docker CLI on ${DEVICES} devices`);
    let t = performance.now();
    const r = await sh(['bash', join(work, 'anchor.sh'), work, ctx.lab.clientKeyPath, ...devs.map((d) => d.ip)]);
    const anchorMs = performance.now() - t;
    if (r.code !== 0) throw new Error(`the scripted anchor failed: ${r.stderr.slice(0, 800)}`);
    for (let i = 0; i < devs.length; i += 4) await Promise.all(devs.slice(i, i + 4).map(resetDocker));

    const { cas } = await ctx.core.pki.load();
    const ca = await cas.create({ name: 'bench-docker', algorithm: 'ec-p256', validityDays: 365, passphrase });
    const ids = devs.map((d) => ctx.core.devices.add({ name: d.name, host: d.ip }).id);
    const link = { acceptNewHostKey: true, identityFile: ctx.lab.clientKeyPath };
    const api = (await import('../../../electron/core/app')).inProcessApi(ctx.core);
    ctx.log(`pki: outpost cert issue --profile docker-server --install docker on ${DEVICES} devices`);
    const previous = process.env.OUTPOST_PASSPHRASE;
    process.env.OUTPOST_PASSPHRASE = passphrase;
    t = performance.now();
    const results = await api.invoke('pki:issue-bulk', { devices: ids, profile: 'docker-server', install: 'docker', caId: ca.id, concurrency: DEVICES, link, passphrase });
    const oursMs = performance.now() - t;
    if (previous === undefined) delete process.env.OUTPOST_PASSPHRASE;
    else process.env.OUTPOST_PASSPHRASE = previous;
    const failed = results.outcomes.filter((x) => !x.ok);
    if (failed.length) throw new Error(`provisioning failed on ${failed.map((f) => `${f.deviceName}: ${f.error?.message}`).join('; ')}`);
    return [
      {
        metric: `Docker daemon TLS on ${DEVICES} lab devices in parallel (clock, key on the device, sign, install, restart, verify over mTLS)`,
        ours: oursMs,
        anchor: anchorMs,
        unit: 'ms',
        anchorName: 'the same steps scripted: ssh (ControlMaster) + openssl + docker CLI, one background job per device',
        note: 'ours also plans first (reads the init, dockerd argv, daemon.json, checksums), keeps the previous files for rollback, records the inventory',
      },
    ];
  } finally {
    for (const d of devs) await ctx.lab.removeDevice(d.name).catch((err: Error) => ctx.log(`pki: removing ${d.name}: ${err.message}`));
  }
}

export async function rows(ctx: BenchContext): Promise<BenchRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'outpost-bench-pki-'));
  await ctx.core.loadAll();
  try {
    const out = await signingRows(ctx, work);
    if (DEVICES > 0) out.push(...(await provisioningRows(ctx, work)));
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
