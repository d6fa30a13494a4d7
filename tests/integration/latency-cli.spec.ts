import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = resolve(__dirname, '../../bin/outpost.mjs');

function outpost(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('outpost latency (CLI contract)', () => {
  it('refuses a bad target, a too-short interval and a lone A/B variant with kind invalid-input (exit 2)', () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-latency-cli-'));
    for (const args of [
      ['latency', '127.0.0.1', '--target', 'gopher:70', '--duration', '0.2', '--json'],
      ['latency', '127.0.0.1', '--target', 'tcp:22', '--interval', '10', '--json'],
      ['latency', '127.0.0.1', '--json'],
      ['latency', 'ab', '127.0.0.1', '-f', 'a.yml', '--target', 'tcp:22', '--json'],
    ]) {
      const r = outpost(home, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout).error.kind).toBe('invalid-input');
    }
  });

  it('reports a target that refuses every probe as 100 % loss, never as 0 ms, and exits 4', async () => {
    // A port that was just free on loopback: connecting is refused.
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => done(p));
      });
    });
    const home = mkdtempSync(join(tmpdir(), 'outpost-latency-cli-'));
    const r = outpost(home, 'latency', '127.0.0.1', '--target', `tcp:${port}`, '--interval', '50', '--duration', '0.5', '--json');
    expect(r.code).toBe(4);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ target: `tcp:${port}`, lossPct: 100, p50: null, max: null, lastError: { kind: 'unreachable' } });
    expect(out.count).toBeGreaterThan(3);
  });
});
