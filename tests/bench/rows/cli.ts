// CLI rows: how fast `outpost` answers and how much memory it takes, each against a bare `node -e 0` (or an idle
// node) measured in the same run. Everything runs the bundled CLI (bin/outpost.mjs → dist-cli/), as installed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOKEN_COOKIE } from '../../../shared/transport/ws-protocol';
import { ensureRendererBuilt } from '../../e2e/support/renderer-build';
import type { BenchContext, BenchRow } from '../types';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'bin', 'outpost.mjs');
const ROUNDS = Number(process.env.OUTPOST_BENCH_CLI_ROUNDS ?? 7);
const MiB = 1024 * 1024;
// Loaded before the program: reports the process's peak RSS (getrusage) on fd 3 as it exits.
const PEAK_RSS = `data:text/javascript,${encodeURIComponent("import{writeSync}from'node:fs';process.on('exit',()=>{try{writeSync(3,String(process.resourceUsage().maxRSS))}catch{}})")}`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Wall time (ms) and peak RSS (MiB) of one node process run to completion. */
function measure(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; peakMiB: number; code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', PEAK_RSS, ...args], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let rss = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => (rss += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${stderr.slice(0, 400)}`));
      else resolve({ ms, peakMiB: (Number(rss) * 1024) / MiB, code, stdout });
    });
  });
}

/** Wall time (ms) of a non-node command run to completion (peak memory not measured: 0). */
function wallOf(cmd: string, args: string[]): Promise<{ ms: number; peakMiB: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - started, peakMiB: 0 }) : reject(new Error(`${cmd} exited ${code}: ${stderr.slice(0, 400)}`))));
  });
}

/** Alternating rounds of ours and the anchor, medians of each. */
async function alternate(ours: () => Promise<{ ms: number; peakMiB: number }>, anchor: () => Promise<{ ms: number; peakMiB: number }>) {
  const o: Array<{ ms: number; peakMiB: number }> = [];
  const a: Array<{ ms: number; peakMiB: number }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(await anchor());
    o.push(await ours());
  }
  return {
    ours: { ms: median(o.map((x) => x.ms)), peakMiB: median(o.map((x) => x.peakMiB)), all: o.map((x) => x.ms) },
    anchor: { ms: median(a.map((x) => x.ms)), peakMiB: median(a.map((x) => x.peakMiB)), all: a.map((x) => x.ms) },
  };
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return (Number(line?.split(/\s+/)[1] ?? 0) * 1024) / MiB;
}

/** The page itself, as the browser asks for it after trading the URL's token for the cookie. */
function httpStatus(urlWithToken: string): Promise<number> {
  const url = new URL(urlWithToken);
  const token = url.searchParams.get('token') ?? '';
  url.search = '';
  return new Promise((resolve) => {
    get(url, { headers: { cookie: `${TOKEN_COOKIE}=${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', () => resolve(0));
  });
}

/** `outpost serve`: ms from spawn until the UI's page answers 200, and the process's RSS once idle. */
async function serveOnce(env: NodeJS.ProcessEnv): Promise<{ ms: number; idleMiB: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, 'serve', '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    // Polled every 5 ms (waitFor backs off, which would blur a figure of a few hundred ms).
    for (;;) {
      const url = /"url":"([^"]+)"/.exec(out)?.[1];
      if (url && (await httpStatus(url)) === 200) break;
      if (child.exitCode !== null) throw new Error(`outpost serve exited ${child.exitCode}`);
      if (performance.now() - started > 30_000) throw new Error('outpost serve did not answer its page within 30 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - started;
    // Idle: every service built (serve loads them all once it answers), nothing asked of it.
    await new Promise((r) => setTimeout(r, 3000));
    return { ms, idleMiB: rssOf(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}

async function idleNodeMiB(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    return rssOf(child.pid!);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}

export async function rows(ctx: BenchContext): Promise<BenchRow[]> {
  const home = mkdtempSync(join(tmpdir(), 'outpost-bench-cli-'));
  const env = { ...process.env, OUTPOST_HOME: home };
  const out: BenchRow[] = [];
  try {
    // The bundle is current and the data dir exists (laptop key, database): a technician's second command onward.
    spawnSync(process.execPath, [bin, 'devices', 'list', '--json'], { env });
    const nodeNothing = () => measure(['-e', '0'], env);
    const info = await alternate(() => measure([bin, 'info', '--json'], env), nodeNothing);
    const spread = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    out.push({ metric: 'outpost info --json: wall time', ours: info.ours.ms, anchor: info.anchor.ms, unit: 'ms', anchorName: 'node -e 0', note: `goal ≤ 3x; medians of ${ROUNDS} (ours ${spread(info.ours.all)}; node ${spread(info.anchor.all)})` });
    out.push({ metric: 'outpost info --json: peak memory (max RSS)', ours: info.ours.peakMiB, anchor: info.anchor.peakMiB, unit: 'MiB', anchorName: 'node -e 0', note: 'goal ≤ 60 MiB' });

    const dev = ctx.lab.devices[ctx.lab.devices.length - 1]!;
    const flushArgs = [bin, 'flush', dev.ip, '--json', '--identity', ctx.lab.clientKeyPath, '--yes'];
    await measure(flushArgs, env); // pins the host key, like the technician's first visit
    const flush = await alternate(() => measure(flushArgs, env), nodeNothing);
    out.push({ metric: 'outpost flush <device> --json, empty spool (SSH handshake included)', ours: flush.ours.ms, anchor: flush.anchor.ms, unit: 'ms', anchorName: 'node -e 0', note: `goal ≤ 400 ms; medians of ${ROUNDS} (ours ${spread(flush.ours.all)})` });
    // The floor any SSH tool pays on this device: OpenSSH logging in and running `true` (sshd forks, re-execs,
    // exchanges keys, authenticates, starts a shell), alternated with the same flush.
    const sshTrue = () => wallOf('ssh', ['-i', ctx.lab.clientKeyPath, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `root@${dev.ip}`, 'true']);
    const vsSsh = await alternate(() => measure(flushArgs, env), sshTrue);
    out.push({ metric: 'outpost flush <device> --json, empty spool, vs one OpenSSH login', ours: vsSsh.ours.ms, anchor: vsSsh.anchor.ms, unit: 'ms', anchorName: 'ssh <device> true', note: `medians of ${ROUNDS} (ssh ${spread(vsSsh.anchor.all)})` });
    // The technician's usual login: the laptop's own key, installed once (`outpost ssh install-key`) and kept
    // encrypted in the vault, the passphrase in the environment. Each process opens it: one scrypt derivation.
    const vaultHome = mkdtempSync(join(tmpdir(), 'outpost-bench-cli-vault-'));
    try {
      const vaultEnv = { ...process.env, OUTPOST_HOME: vaultHome, OUTPOST_PASSPHRASE: 'bench vault passphrase', SSH_AUTH_SOCK: '' };
      const install = spawnSync(process.execPath, [bin, 'ssh', 'install-key', dev.ip, '--identity', ctx.lab.clientKeyPath, '--yes', '--json'], { env: vaultEnv, encoding: 'utf8' });
      if (install.status !== 0 || !(JSON.parse(install.stdout) as { verified?: boolean }).verified) throw new Error(`ssh install-key failed: ${install.stdout}${install.stderr}`);
      const vaultFlush = [bin, 'flush', dev.ip, '--json'];
      await measure(vaultFlush, vaultEnv);
      const withVault = await alternate(() => measure(vaultFlush, vaultEnv), sshTrue);
      out.push({ metric: 'same, logged in with the laptop key from the vault (OUTPOST_PASSPHRASE), vs one OpenSSH login', ours: withVault.ours.ms, anchor: withVault.anchor.ms, unit: 'ms', anchorName: 'ssh <device> true', note: `medians of ${ROUNDS} (ours ${spread(withVault.ours.all)})` });
    } finally {
      rmSync(vaultHome, { recursive: true, force: true });
    }

    ensureRendererBuilt();
    const serves: Array<{ ms: number; idleMiB: number }> = [];
    const nodes: number[] = [];
    for (let i = 0; i < 3; i++) {
      nodes.push((await nodeNothing()).ms);
      serves.push(await serveOnce(env));
    }
    out.push({ metric: 'browser mode (outpost serve): launch to the page answering', ours: median(serves.map((s) => s.ms)), anchor: median(nodes), unit: 'ms', anchorName: 'node -e 0', note: `goal ≤ 1000 ms; medians of 3 (ours ${spread(serves.map((s) => s.ms))})` });
    out.push({ metric: 'browser mode core, idle RSS (every service built)', ours: median(serves.map((s) => s.idleMiB)), anchor: await idleNodeMiB(), unit: 'MiB', anchorName: 'idle node', note: 'goal ≤ 120 MB' });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return out;
}
