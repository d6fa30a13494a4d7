// Discovery row: time to a complete inventory of the lab's devices on its /24 — our sweep + fingerprint
// (SSH banner and host key of every device) against `nmap -sn -n` (host discovery only), same netns, same run.
import { spawn } from 'node:child_process';
import { inProcessApi } from '../../../electron/core/app';
import type { BenchContext, BenchRow } from '../types';

const ROUNDS = 3;

function timed(argv: string[]): Promise<{ ms: number; stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, stdout, code }));
  });
}

/** Both tools start from a cold neighbour table, as in a plant room the laptop just walked into. */
async function flushNeighbours(): Promise<void> {
  await timed(['ip', 'neigh', 'flush', 'dev', 'lab0']);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function rows(ctx: BenchContext): Promise<BenchRow[]> {
  const api = inProcessApi(ctx.core);
  const expected = ctx.lab.devices.map((d) => d.ip);
  const ours: number[] = [];
  const nmap: number[] = [];
  let oursFound = 0;
  let oursKeys = 0;
  let nmapFound = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await flushNeighbours();
    const n = await timed(['nmap', '-sn', '-n', ctx.lab.subnet]);
    if (n.code !== 0) throw new Error(`nmap exited with ${n.code}`);
    nmap.push(n.ms);
    nmapFound = expected.filter((ip) => new RegExp(`Nmap scan report for ${ip.replace(/\./g, '\\.')}\\b`).test(n.stdout)).length;

    await flushNeighbours();
    const started = performance.now();
    const result = await api.invoke('discovery:scan', { cidrs: [ctx.lab.subnet], interfaces: ['lab0'], mdns: false });
    ours.push(performance.now() - started);
    const byIp = new Map(result.devices.flatMap((d) => d.addresses.map((a) => [a, d] as const)));
    oursFound = expected.filter((ip) => byIp.has(ip)).length;
    oursKeys = ctx.lab.devices.filter((d) => byIp.get(d.ip)?.ssh.hostKeyFingerprint === d.hostKeyFingerprint).length;
    ctx.log(`discovery round ${round + 1}: ours ${Math.round(ours.at(-1) ?? 0)} ms (${oursFound}/${expected.length}, ${oursKeys} host keys), nmap -sn ${Math.round(n.ms)} ms (${nmapFound}/${expected.length})`);
  }
  return [
    {
      metric: `inventory of ${expected.length} devices on a /24 (median of ${ROUNDS})`,
      ours: Math.round(median(ours)),
      anchor: Math.round(median(nmap)),
      unit: 'ms',
      anchorName: 'nmap -sn -n',
      note: `ours found ${oursFound}/${expected.length} with ${oursKeys} SSH host keys (sweep 7 ports + fingerprint); nmap found ${nmapFound}/${expected.length} (host discovery only)`,
    },
  ];
}
