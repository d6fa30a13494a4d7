// Fleet refresh rows (issue 12, item 7): a full container listing of many devices with engines, as the Workloads
// view's refresh and `outpost ps <devices…> --json` do it, against what a technician would script without Outpost:
// `docker -H ssh://root@<ip> ps -a` looped over the same devices. All in this run, against the same dockerds.
// The devices are added here (OUTPOST_BENCH_FLEET devices, default 10) and removed afterwards; each runs a few
// long-lived containers from the lab's offline busybox image.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCore, inProcessApi } from '../../../electron/core/app';
import { importBusyboxImage } from '../../lab/images';
import type { LabDevice } from '../../lab/lab';
import type { BenchContext, BenchRow } from '../types';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'bin', 'outpost.mjs');
const FLEET = Number(process.env.OUTPOST_BENCH_FLEET ?? 10);
const CONTAINERS = 3;
const ROUNDS = 5;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}… exited ${code}: ${err.trim().slice(0, 400)}`))));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** A HOME whose ssh config carries the lab key for every fleet device, for the docker CLI's ssh:// transport. */
function sshHome(devices: LabDevice[], keyPath: string): string {
  const home = mkdtempSync(join(tmpdir(), 'outpost-bench-fleet-'));
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(home, '.ssh', 'id_lab'), readFileSync(keyPath), { mode: 0o600 });
  writeFileSync(join(home, '.ssh', 'known_hosts'), '');
  const hosts = devices.map((d) => d.ip).join(' ');
  writeFileSync(
    join(home, '.ssh', 'config'),
    `Host ${hosts}\n  User root\n  IdentityFile ${join(home, '.ssh', 'id_lab')}\n  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile ${join(home, '.ssh', 'known_hosts')}\n`,
    { mode: 0o600 },
  );
  mkdirSync(join(home, 'bin'));
  writeFileSync(join(home, 'bin', 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${join(home, '.ssh', 'config')} "$@"\n`, { mode: 0o755 });
  return home;
}

async function startContainers(dev: LabDevice): Promise<void> {
  await importBusyboxImage(dev, 'outpost/busybox:lab');
  for (let i = 0; i < CONTAINERS; i++) {
    const r = await dev.exec(['docker', 'run', '-d', '--name', `fleet-${i}`, '--network', 'none', '--restart', 'unless-stopped', 'outpost/busybox:lab', 'sleep', '86400']);
    if (r.code !== 0) throw new Error(`docker run on ${dev.name} failed: ${r.stderr.trim()}`);
  }
}

export async function rows(ctx: BenchContext): Promise<BenchRow[]> {
  const added: LabDevice[] = [];
  const home = mkdtempSync(join(tmpdir(), 'outpost-bench-fleet-home-'));
  // A technician's own setup: the laptop key encrypted in the vault, the passphrase from the environment.
  const vaultHome = mkdtempSync(join(tmpdir(), 'outpost-bench-fleet-vault-'));
  let sshHomeDir: string | undefined;
  try {
    ctx.log(`fleet: adding ${FLEET} devices with dockerd`);
    for (let i = 0; i < FLEET; i++) added.push(await ctx.lab.addDevice({ name: `fleet-${String(i).padStart(2, '0')}`, docker: true }));
    await Promise.all(added.map(startContainers));
    const ips = added.map((d) => d.ip);
    const link = ['--identity', ctx.lab.clientKeyPath, '--yes'];
    const env = { ...process.env, OUTPOST_HOME: home };
    // First contact: host keys pinned and each engine found, as on the technician's first visit.
    const first = JSON.parse(await run(process.execPath, [bin, 'ps', ...ips, '--json', ...link], env)) as Array<{ ok: boolean; value?: unknown[] }>;
    const listed = first.reduce((n, r) => n + (r.value?.length ?? 0), 0);
    if (first.some((r) => !r.ok) || listed !== FLEET * CONTAINERS) throw new Error(`outpost ps listed ${listed} containers, expected ${FLEET * CONTAINERS}: ${JSON.stringify(first).slice(0, 400)}`);
    // The lab key as a laptop key from before the vault: the first run with the passphrase moves it into the vault.
    mkdirSync(join(vaultHome, 'keys'), { mode: 0o700 });
    copyFileSync(ctx.lab.clientKeyPath, join(vaultHome, 'keys', 'id_ed25519'));
    const vaultEnv = { ...process.env, OUTPOST_HOME: vaultHome, OUTPOST_PASSPHRASE: 'bench-fleet-passphrase', SSH_AUTH_SOCK: '' };
    const viaVault = JSON.parse(await run(process.execPath, [bin, 'ps', ...ips, '--json', '--yes'], vaultEnv)) as Array<{ ok: boolean }>;
    if (viaVault.some((r) => !r.ok)) throw new Error(`outpost ps with the vault's laptop key failed: ${JSON.stringify(viaVault).slice(0, 400)}`);

    sshHomeDir = sshHome(added, ctx.lab.clientKeyPath);
    const cliEnv = { ...process.env, HOME: sshHomeDir, DOCKER_CONFIG: join(sshHomeDir, '.docker'), PATH: `${join(sshHomeDir, 'bin')}:${process.env.PATH ?? ''}` };
    const dockerLoop = async () => {
      for (const ip of ips) await run('docker', ['-H', `ssh://root@${ip}`, 'ps', '-a', '--format', '{{.Names}} {{.Status}}'], cliEnv);
    };
    await dockerLoop(); // known_hosts filled

    // The Workloads view's refresh: the same core path (workloads:ps) over links the app keeps open.
    const core = createCore({ dataDir: home, transport: 'in-process' });
    const api = inProcessApi(core);
    try {
      const ids = ips.map((ip) => core.devices.find(ip)!.id);
      const refresh = () => api.invoke('workloads:ps', { devices: ids, link: { identityFile: ctx.lab.clientKeyPath } });
      await refresh(); // links open
      const cli: number[] = [];
      const cliVault: number[] = [];
      const view: number[] = [];
      const docker: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        docker.push(await timed(dockerLoop));
        cli.push(await timed(() => run(process.execPath, [bin, 'ps', ...ips, '--json', ...link], env)));
        cliVault.push(await timed(() => run(process.execPath, [bin, 'ps', ...ips, '--json'], vaultEnv)));
        view.push(await timed(refresh));
      }
      const spread = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
      const n = `${FLEET} devices × ${CONTAINERS} containers`;
      return [
        { metric: `outpost ps <${FLEET} devices> --json (new process, links dialled)`, ours: median(cli), anchor: median(docker), unit: 'ms', anchorName: 'docker -H ssh:// ps -a, looped', note: `goal ≤ 1000 ms for 10; ${n}; medians of ${ROUNDS} (ours ${spread(cli)}; docker ${spread(docker)})` },
        { metric: `same, the laptop key from the vault (OUTPOST_PASSPHRASE)`, ours: median(cliVault), anchor: median(docker), unit: 'ms', anchorName: 'docker -H ssh:// ps -a, looped', note: `one scrypt derivation per process, off the event loop while the links handshake; medians of ${ROUNDS} (ours ${spread(cliVault)})` },
        { metric: `Workloads view refresh, ${FLEET} devices (links kept open)`, ours: median(view), anchor: median(docker), unit: 'ms', anchorName: 'docker -H ssh:// ps -a, looped', note: `${n}; medians of ${ROUNDS} (ours ${spread(view)})` },
      ];
    } finally {
      await core.close();
    }
  } finally {
    for (const d of added) await ctx.lab.removeDevice(d.name).catch((err: unknown) => ctx.log(`fleet: removing ${d.name}: ${String(err)}`));
    rmSync(home, { recursive: true, force: true });
    rmSync(vaultHome, { recursive: true, force: true });
    if (sshHomeDir) rmSync(sshHomeDir, { recursive: true, force: true });
  }
}
