import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = resolve(__dirname, '../../bin/outpost.mjs');

function outpost(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('outpost CLI', () => {
  it('round-trips devices add/list through SQLite under $OUTPOST_HOME', () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-cli-'));
    const added = outpost(home, 'devices', 'add', '--name', 'X', '--host', 'gw-7.local', '--tag', 'site=north', '--json');
    expect(added.code).toBe(0);
    const device = JSON.parse(added.stdout);
    expect(device).toMatchObject({ name: 'X', hostnames: ['gw-7.local'], tags: { site: 'north' } });
    expect(existsSync(join(home, 'outpost.db'))).toBe(true);
    const listed = outpost(home, 'devices', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([device]);
    expect(outpost(home, 'devices', 'get', 'gw-7.local', '--json').stdout).toContain(device.id);
  });

  it('prints one JSON error document with kind and a non-zero exit', () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-cli-'));
    const bad = outpost(home, 'devices', 'add', '--host', 'a b', '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({ error: { kind: 'invalid-input', message: expect.stringContaining('host') } });
    const missing = outpost(home, 'devices', 'get', 'nothing-here', '--json');
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error.kind).toBe('not-found');
    const usage = outpost(home, 'devices', 'add', '--port', 'x', '--json');
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout).error.kind).toBe('invalid-input');
  });

  it('lists its commands in --help and reports info', () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-cli-'));
    const help = outpost(home, '--help');
    expect(help.code).toBe(0);
    for (const word of ['devices', 'info', 'serve']) expect(help.stdout).toContain(word);
    const info = JSON.parse(outpost(home, 'info', '--json').stdout);
    expect(info).toMatchObject({ name: 'Outpost', dataDir: home });
  });
});

describe('outpost <device> conventions', () => {
  it('buffers config adds an unknown address with the user and port given; the device keeps a key file set for it', () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-cli-'));
    const r = outpost(home, 'buffers', 'config', '10.0.4.17', '--spool', '/data/spool', '--user', 'pi', '--identity', '/keys/site', '--port', '2222', '--no-check', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ spools: ['/data/spool'], defaults: false, check: null });
    const device = JSON.parse(outpost(home, 'devices', 'get', '10.0.4.17', '--json').stdout);
    expect(device).toMatchObject({ addresses: ['10.0.4.17'], ssh: { user: 'pi', port: 2222 } });
    // --identity was for that run; the inventory keeps a key only when told to.
    expect(device.ssh.identityFile).toBeUndefined();
    expect(JSON.parse(outpost(home, 'devices', 'update', '10.0.4.17', '--identity', '/keys/site', '--json').stdout).ssh.identityFile).toBe('/keys/site');
    const cleared = JSON.parse(outpost(home, 'devices', 'update', '10.0.4.17', '--no-identity', '--json').stdout);
    expect(cleared.ssh.identityFile).toBeUndefined();
    const set = JSON.parse(outpost(home, 'devices', 'update', '10.0.4.17', '--identity', '/keys/other', '--json').stdout);
    expect(set.ssh).toMatchObject({ user: 'pi', identityFile: '/keys/other' });
    // Six CLI start-ups: generous on a loaded 2-core machine.
  }, 90_000);
});
