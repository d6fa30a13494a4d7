// Workloads rows: the Docker API round trip over our persistent SSH channel against stock dockerode `ssh`, the
// docker CLI over ssh:// and the engine's unix socket; and an upgrade where one layer changed, bytes on the wire
// against `docker save | docker load` of the whole image. All measured in this run against bench-00's dockerd.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { inProcessApi } from '../../../electron/core/app';
import type { LabDevice } from '../../lab/lab';
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
  return rows;
}
