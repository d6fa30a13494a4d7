import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, BulkSummary, Device, PayloadOf } from '../../shared/contract';
import { sshBanner, startLab, waitFor, type Lab } from './lab';

// Bulk provisioning against real devices: three sshd devices, one of them living in 1970 (libfaketime). The 1970
// device fails at the clock stage with kind clock-skew while the others get their certificates; after `clock set`
// a retry runs that device only. Then the same through the CLI (`outpost cert issue a b c --json`).
let lab: Lab;
let core: Core;
let api: Api;
let home: string;
const devices: Record<string, Device> = {};
const link = { acceptNewHostKey: true, identityFile: '' };
const passphrase = 'bulk lab passphrase';
const bin = resolve(__dirname, '../../bin/outpost.mjs');
const EPOCH_1970 = '@1970-01-01 00:00:00';

const sh = async (name: string, script: string) => (await lab.device(name).exec(['sh', '-c', script])).stdout;
const certCount = async (name: string) => (await api.invoke('pki:cert-list', { deviceId: devices[name]!.id })).length;

/**
 * Restarts the device's sshd under its current fake clock. A lab artefact, not device behaviour: each process under
 * libfaketime re-reads its start time (/etc/faketimerc) every few seconds, so an sshd forked just before a clock change
 * jumps by 56 years mid-session and stops answering ("No response from server"); a real device's sshd times on
 * CLOCK_MONOTONIC, which `date -s` does not move.
 */
async function restartSshd(name: string): Promise<void> {
  await sh(name, '/etc/init.d/ssh restart >/dev/null 2>&1');
  const ip = lab.device(name).ip;
  await waitFor(`sshd of ${name} after its restart`, async () => (await sshBanner(ip).catch(() => '')).startsWith('SSH-'), 15_000);
}

/** Puts the device back in 1970, as a gateway without RTC after a reboot. */
async function backTo1970(): Promise<void> {
  await sh('bulk-1970', `echo '${EPOCH_1970}' > /etc/faketimerc`);
  await restartSshd('bulk-1970');
  expect((await sh('bulk-1970', 'date -u +%Y')).trim()).toBe('1970');
}

function outpost(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--identity', lab.clientKeyPath, '--json'], { env: { ...process.env, OUTPOST_HOME: home, OUTPOST_PASSPHRASE: passphrase }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, json: JSON.parse(r.stdout || 'null') as Record<string, unknown>, stderr: r.stderr };
}

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'bulk-a' }, { name: 'bulk-b' }, { name: 'bulk-1970', clock: EPOCH_1970 }] });
  link.identityFile = lab.clientKeyPath;
  home = join(mkdtempSync(join(tmpdir(), 'outpost-pki-bulk-')), 'home');
  core = createCore({ dataDir: home, transport: 'in-process' });
  api = inProcessApi(core);
  for (const d of lab.devices) devices[d.name] = core.devices.add({ name: d.name, host: d.ip });
  await api.invoke('pki:ca-create', { name: 'plant-7', passphrase });
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

describe('bulk provisioning', () => {
  let summary: BulkSummary;

  it('provisions the good devices in parallel; the 1970 device fails at the clock with kind clock-skew and is left as it was', async () => {
    const events: Array<PayloadOf<'pki:progress'>> = [];
    const off = api.on('pki:progress', (e) => events.push(e));
    summary = await api.invoke('pki:issue-bulk', { devices: ['bulk-a', 'bulk-b', 'bulk-1970'], profile: 'device-identity', link, passphrase, concurrency: 3 });
    off();
    expect(summary).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    const [a, b, old] = summary.outcomes;
    for (const o of [a, b]) {
      expect(o).toMatchObject({ ok: true, stage: 'done', attempts: 1 });
      expect(o!.result!.certificate).toMatchObject({ keyOrigin: 'device', profile: 'device-identity' });
      expect(o!.result!.notes.join('\n')).toContain('own openssl accepts the certificate');
    }
    expect(old).toMatchObject({ deviceName: 'bulk-1970', ok: false, stage: 'clock', error: { kind: 'clock-skew' } });
    expect(old!.error!.message).toContain('1970-01-01');
    expect(await sh('bulk-1970', 'ls /etc/outpost/pki 2>/dev/null | wc -l')).toBe('0\n');
    // Per-device progress, in order, tagged with the run.
    const stagesOf = (name: string) => events.filter((e) => e.deviceName === name && e.runId === summary.runId).map((e) => e.stage);
    expect([...new Set(stagesOf('bulk-a'))]).toEqual(['queued', 'connect', 'clock', 'key', 'sign', 'store', 'verify', 'done']);
    expect(stagesOf('bulk-1970')).toEqual(['queued', 'connect', 'clock', 'failed']);
    expect(events.find((e) => e.stage === 'failed')).toMatchObject({ deviceName: 'bulk-1970', kind: 'clock-skew', step: 'failed at clock' });
    // What the devices got is what their own openssl accepts.
    expect(await sh('bulk-b', 'cd /etc/outpost/pki/device-identity && openssl verify -CAfile ca.pem cert.pem && stat -c %a key.pem')).toBe('cert.pem: OK\n600\n');
    expect(core.jobs.list()).toEqual([]);
  });

  it('after clock set, retry runs only the failed device', async () => {
    const set = await api.invoke('pki:clock-set', { device: 'bulk-1970', link });
    expect(set.ok).toBe(true);
    const again = await api.invoke('pki:bulk-retry', { runId: summary.runId, link, passphrase });
    expect(again).toMatchObject({ runId: summary.runId, total: 3, succeeded: 3, failed: 0 });
    expect(again.outcomes.map((o) => [o.deviceName, o.ok, o.attempts])).toEqual([
      ['bulk-a', true, 1],
      ['bulk-b', true, 1],
      ['bulk-1970', true, 2],
    ]);
    expect([await certCount('bulk-a'), await certCount('bulk-b'), await certCount('bulk-1970')]).toEqual([1, 1, 1]);
    expect(await sh('bulk-1970', 'cd /etc/outpost/pki/device-identity && openssl verify -CAfile ca.pem cert.pem')).toBe('cert.pem: OK\n');
  });
});

describe('outpost cert issue with several devices', () => {
  it('prints per-device progress on stderr and a summary with each outcome in --json; exits 1 when one failed', async () => {
    await backTo1970();
    const r = outpost('cert', 'issue', 'bulk-a', 'bulk-1970', '--profile', 'device-identity');
    expect(r.code, `${JSON.stringify(r.json).slice(0, 800)}\n${r.stderr}`).toBe(1);
    const s = r.json as unknown as BulkSummary;
    expect(s).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
    expect(s.outcomes[0]).toMatchObject({ deviceName: 'bulk-a', ok: true, stage: 'done' });
    expect(s.outcomes[0]!.result!.certificate!.pem).toContain('BEGIN CERTIFICATE');
    expect(s.outcomes[1], r.stderr).toMatchObject({ deviceName: 'bulk-1970', ok: false, stage: 'clock', error: { kind: 'clock-skew' } });
    expect(r.stderr).toContain('bulk-a: making the key on the device');
    expect(r.stderr).toMatch(/bulk-1970: failed at clock \[clock-skew\]/);
  });

  it('a single device that fails exits with its own kind', async () => {
    const r = outpost('cert', 'issue', 'bulk-1970', '--profile', 'device-identity');
    expect(r.code).not.toBe(0);
    expect(r.json, r.stderr).toMatchObject({ error: { kind: 'clock-skew' } });
  });
});
