import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOKEN_COOKIE } from '../../shared/transport/ws-protocol';
import { ensureRendererBuilt } from '../e2e/support/renderer-build';
import { assertInTechNetns, waitFor } from './lab';

// Browser mode as `npm start` launches it: the bundled CLI's `serve` (bin/outpost.mjs → dist-cli/), in the lab's
// technician netns. The bundle must find the built renderer from its own folder and stop cleanly on SIGTERM.
const bin = resolve(__dirname, '../../bin/outpost.mjs');

function page(base: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    get(base, { headers: { cookie: `${TOKEN_COOKIE}=${token}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    }).on('error', fail);
  });
}

describe('outpost serve (bundled CLI)', () => {
  it('serves the built UI with its token and exits 0 on SIGTERM', async () => {
    assertInTechNetns();
    ensureRendererBuilt();
    const home = mkdtempSync(join(tmpdir(), 'outpost-cli-serve-'));
    const child = spawn(process.execPath, [bin, 'serve', '--json'], { env: { ...process.env, OUTPOST_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    try {
      await waitFor('outpost serve to print its URL', async () => out.includes('\n') || child.exitCode !== null, 30_000);
      const started = JSON.parse(out.split('\n')[0]!) as { url: string; port: number; dataDir: string };
      expect(started.dataDir).toBe(home);
      const url = new URL(started.url);
      const token = url.searchParams.get('token')!;
      const served = await page(`http://127.0.0.1:${started.port}/`, token);
      expect(served.status).toBe(200);
      expect(served.body).toContain('<div id="root">');
      expect((await page(`http://127.0.0.1:${started.port}/`, 'wrong')).status).toBe(401);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(err).toBe('');
    }
  });
});
