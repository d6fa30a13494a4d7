// Workloads rows: the Docker API round trip over our persistent SSH channel against stock dockerode `ssh`, the
// docker CLI over ssh:// and the engine's unix socket; and an upgrade where one layer changed, bytes on the wire
// against `docker save | docker load` of the whole image. All measured in this run against bench-00's dockerd.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { inProcessApi } from '../../../electron/core/app';
import { buildImage, type LabDevice } from '../../lab/lab';
import { buildLabImages } from '../../lab/workloads-fixtures';
import type { BenchContext, BenchRow } from '../types';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function timedMs(n: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: connection set-up is not what this row measures for the persistent clients
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

function exec(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(0) : reject(new Error(`${argv.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

/**
 * A throw-away HOME whose ssh config carries the lab key, so `docker -H ssh://` needs no DOCKER_SSH_OPTS. OpenSSH
 * finds ~/.ssh through the password database, not $HOME, so a `bin/ssh` shim on PATH points it at that config.
 */
function sshHome(dev: LabDevice, keyPath: string): string {
  const home = mkdtempSync(join(tmpdir(), 'outpost-bench-sshhome-'));
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(home, '.ssh', 'id_lab'), readFileSync(keyPath), { mode: 0o600 });
  writeFileSync(join(home, '.ssh', 'known_hosts'), '');
  writeFileSync(
    join(home, '.ssh', 'config'),
    `Host ${dev.ip}\n  User root\n  IdentityFile ${join(home, '.ssh', 'id_lab')}\n  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile ${join(home, '.ssh', 'known_hosts')}\n`,
    { mode: 0o600 },
  );
  mkdirSync(join(home, 'bin'));
  writeFileSync(join(home, 'bin', 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${join(home, '.ssh', 'config')} "$@"\n`, { mode: 0o755 });
  return home;
}

/** Bytes the device's eth0 has received; /proc/net/dev follows the reader's netns where the shared /sys does not. */
async function rxBytes(dev: LabDevice): Promise<number> {
  const r = await dev.exec(['cat', '/proc/net/dev']);
  const line = r.stdout.split('\n').find((l) => l.trim().startsWith('eth0:'));
  const rx = Number(line?.split(':')[1]?.trim().split(/\s+/)[0]);
  if (!Number.isFinite(rx) || rx <= 0) throw new Error(`cannot read eth0 rx bytes on ${dev.name}: ${r.stdout.slice(0, 300)}`);
  return rx;
}

export async function rows(ctx: BenchContext): Promise<BenchRow[]> {
  const dev = ctx.lab.devices.find((d) => d.dockerSocketHostPath);
  if (!dev?.dockerSocketHostPath) throw new Error('workloads rows need a lab device with dockerd');
  const api = inProcessApi(ctx.core);
  const device = ctx.core.devices.find(dev.ip) ?? ctx.core.devices.add({ name: `${dev.name}-wl`, host: dev.ip });
  const link = { identityFile: ctx.lab.clientKeyPath, acceptNewHostKey: true };
  const ours = (await ctx.core.engines.engine(device, link)).docker;
  const unix = new Docker({ socketPath: dev.dockerSocketHostPath });
  const stock = new Docker({ protocol: 'ssh', host: dev.ip, port: 22, username: 'root', sshOptions: { privateKey: readFileSync(ctx.lab.clientKeyPath) } } as Docker.DockerOptions);
  const home = sshHome(dev, ctx.lab.clientKeyPath);
  const cliEnv = { ...process.env, HOME: home, DOCKER_CONFIG: join(home, '.docker'), PATH: `${join(home, 'bin')}:${process.env.PATH ?? ''}` };

  ctx.log('workloads: /_ping round trips');
  const oursMs = await timedMs(200, () => ours.ping());
  const unixMs = await timedMs(200, () => unix.ping());
  const stockMs = await timedMs(10, () => stock.ping());
  const cliMs = await timedMs(5, () => exec(['docker', '-H', `ssh://root@${dev.ip}`, 'version', '--format', '{{.Server.APIVersion}}'], cliEnv));
  const rows: BenchRow[] = [
    { metric: 'Docker /_ping round trip (median)', ours: oursMs, anchor: unixMs, unit: 'ms', anchorName: 'dockerode on the unix socket directly', note: 'goal: ≤ 2x the socket' },
    { metric: 'Docker /_ping round trip (median)', ours: oursMs, anchor: stockMs, unit: 'ms', anchorName: "dockerode stock protocol:'ssh'", note: 'goal: ≥ 50x faster' },
    { metric: 'Docker API round trip (median)', ours: oursMs, anchor: cliMs, unit: 'ms', anchorName: 'docker -H ssh://root@ip version (CLI)' },
  ];

  ctx.log('workloads: building images for the one-layer upgrade');
  const work = mkdtempSync(join(ctx.dataDir, 'workloads-bench-'));
  const images = await buildLabImages(dev, [dev], work, 2 * 1024 * 1024);
  for (const a of Object.values(images.archives)) await api.invoke('workloads:images-import', { path: a });
  // The device keeps v1 (and its layers) but must receive v2, as after a release.
  await unix.getImage(images.v2).remove({ force: true });
  const compose = (image: string) => ({ text: `services:\n  bench-web:\n    image: ${image}\n    labels:\n      outpost.latency-critical: "true"\n`, name: 'compose.yml' });
  await api.invoke('workloads:deploy', { devices: [device.id], compose: compose(images.v1), link, healthTimeoutMs: 60_000 });
  const changed = ctx.core.workloads.cache.get(images.v2).layers.at(-1)!.size;
  const before = await rxBytes(dev);
  const result = await api.invoke('workloads:deploy', { devices: [device.id], compose: compose(images.v2), link, healthTimeoutMs: 60_000 });
  const wire = (await rxBytes(dev)) - before;
  const record = result.results[0]?.value?.[0];
  if (record?.phase !== 'done') throw new Error(`upgrade deploy did not finish: ${JSON.stringify(result.results[0])}`);
  const wholeImage = statSync(images.archives.v2).size;
  rows.push({
    metric: 'upgrade, one layer changed: bytes into the device / changed-layer bytes',
    ours: wire / changed,
    anchor: wholeImage / changed,
    unit: 'x',
    anchorName: 'docker save | docker load of the whole image',
    note: `goal ≤ 1.05; changed layer ${changed} B, staged archive ${record.bytesSent} B, device rx ${wire} B (incl. SSH framing and API calls)`,
  });
  rows.push(...(await compressionRows(ctx, dev, device.id, link, unix, work, images.v1, compose)));
  return rows;
}

/**
 * A one-layer upgrade whose new layer is 24 MiB of text-like files (configs, scripts: what compresses), over the
 * 100 Mbit/s shaped link and unshaped: the staged archive gzipped as decided (the deploy measures the link itself)
 * against the same upgrade told the link is fast (so it stages plain). Wall time of the whole upgrade, health gate
 * included, and bytes into the device.
 */
async function compressionRows(ctx: BenchContext, dev: LabDevice, deviceId: string, link: { identityFile: string; acceptNewHostKey: boolean }, unix: Docker, work: string, v1: string, compose: (image: string) => { text: string; name: string }): Promise<BenchRow[]> {
  const api = inProcessApi(ctx.core);
  const v3 = 'outpost/app:3';
  const body = Buffer.from(Array.from({ length: (24 * 1024 * 1024) / 64 }, (_, i) => `export SETTING_${i % 997}="value-${(i * 7) % 131}" # site image v3\n`.padEnd(64, ' ')).join(''));
  await buildImage(dev, v3, { from: v1, files: { '/www/index.html': 'v3\n', '/etc/site.conf': body }, cmd: ['/app/run.sh'] });
  const archive = join(work, 'app3.tar');
  await pipeline((await unix.getImage(v3).get()) as unknown as Readable, createWriteStream(archive));
  await api.invoke('workloads:images-import', { path: archive });
  const upgrade = async (forcePlain: boolean): Promise<{ ms: number; wire: number; note: string }> => {
    // Back on v1 without v3 and nothing staged, as before a release; the plain run is told the link is fast.
    await api.invoke('workloads:deploy', { devices: [deviceId], compose: compose(v1), link, healthTimeoutMs: 60_000 });
    await unix.getImage(v3).remove({ force: true }).catch(() => undefined);
    await dev.exec(['sh', '-c', 'rm -f /var/lib/outpost/staging/*']);
    const current = ctx.core.devices.get(deviceId);
    const { compression: _measured, ...ssh } = current.ssh;
    const given = { choice: 'none' as const, linkBps: 1e12, compressBps: null, ratio: null, reason: 'given by the bench: a fast link', decidedAt: new Date().toISOString() };
    ctx.core.devices.save({ ...current, ssh: forcePlain ? { ...ssh, compression: given } : ssh });
    const before = await rxBytes(dev);
    const t = performance.now();
    const result = await api.invoke('workloads:deploy', { devices: [deviceId], compose: compose(v3), link, healthTimeoutMs: 60_000 });
    const ms = performance.now() - t;
    const record = result.results[0]?.value?.[0];
    if (record?.phase !== 'done') throw new Error(`v3 upgrade did not finish: ${JSON.stringify(result.results[0])}`);
    return { ms, wire: (await rxBytes(dev)) - before, note: record.message };
  };
  const rows: BenchRow[] = [];
  try {
    for (const kbit of [100_000, null]) {
      await dev.rateLimit(kbit);
      const label = kbit ? '100 Mbit/s' : 'unshaped (veth)';
      ctx.log(`workloads: compressed upgrade, ${label}`);
      const plain = await upgrade(true);
      const decided = await upgrade(false);
      const gz = /staged (gzip [^;—]*)/.exec(decided.note)?.[1] ?? 'plain';
      rows.push({ metric: `upgrade, one 24 MiB text-like layer changed, ${label}: staged archive as decided`, ours: decided.ms, anchor: plain.ms, unit: 'ms', anchorName: 'the same upgrade staged plain', note: `chose ${gz}; device rx ${(decided.wire / 1e6).toFixed(1)} MB vs ${(plain.wire / 1e6).toFixed(1)} MB plain (health gate included)` });
    }
  } finally {
    await dev.rateLimit(null);
    const current = ctx.core.devices.get(deviceId);
    const { compression: _given, ...ssh } = current.ssh;
    ctx.core.devices.save({ ...current, ssh });
  }
  return rows;
}
