import { describe, expect, it } from 'vitest';
import type { BulkSummary, CertificateRecord } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { createOutpostStore } from './index';
import { deviceExpiry } from './pki-slice';
import { memoryStorage, ScriptedApi } from './scripted-api';

const now = new Date('2026-06-01T00:00:00Z');
const inDays = (d: number) => new Date(now.getTime() + d * 86_400_000).toISOString();
const cert = (serial: string, over: Partial<CertificateRecord>): CertificateRecord => ({
  serial,
  caId: 'ca',
  profile: 'device-identity',
  deviceId: 'd1',
  deviceName: 'gw-1',
  subject: 'CN=gw-1',
  sans: [],
  notBefore: inDays(-300),
  notAfter: inDays(100),
  issuedAt: inDays(-300),
  spkiSha256: '',
  keyOrigin: 'device',
  status: 'valid',
  revokedAt: null,
  revokeReason: null,
  replaces: null,
  installed: [],
  pem: '',
  ...over,
});

describe('certificate expiry per device', () => {
  it('warns on the newest valid certificate of each profile; expired wins over expiring; revoked and renewed ones are ignored', () => {
    const list = [
      cert('old', { notAfter: inDays(-5) }), // renewed by 'new' below: no warning for it
      cert('new', { notAfter: inDays(300) }),
      cert('tls', { profile: 'docker-server', notAfter: inDays(12) }),
      cert('d2-exp', { deviceId: 'd2', notAfter: inDays(20) }),
      cert('d2-gone', { deviceId: 'd2', profile: 'docker-server', notAfter: inDays(-1) }),
      cert('d3-rev', { deviceId: 'd3', notAfter: inDays(-1), status: 'revoked' }),
      cert('laptop', { deviceId: null, notAfter: inDays(-1) }),
    ];
    expect(deviceExpiry(list, now)).toEqual({
      d1: { state: 'expiring', notAfter: inDays(12), profile: 'docker-server' },
      d2: { state: 'expired', notAfter: inDays(-1), profile: 'docker-server' },
    });
  });
});

describe('pki slice', () => {
  const summary = (failed: number): BulkSummary => ({
    runId: 'run-1',
    profile: 'device-identity',
    install: null,
    total: 2,
    succeeded: 2 - failed,
    failed,
    outcomes: [
      { deviceId: 'd1', deviceName: 'gw-1', ok: true, stage: 'done', attempts: 1 },
      failed ? { deviceId: 'd2', deviceName: 'gw-2', ok: false, stage: 'clock', attempts: 1, error: { kind: 'clock-skew', message: '1970' } } : { deviceId: 'd2', deviceName: 'gw-2', ok: true, stage: 'done', attempts: 2 },
    ],
  });

  it('provisions with the link override, follows progress, and retries the failures of that run only', async () => {
    const api = new ScriptedApi();
    const store = createOutpostStore({ api, storage: memoryStorage(), refreshDelayMs: 10 });
    api.answer('pki:ca-list', []).answer('pki:cert-list', []);
    api.answer('pki:issue-bulk', summary(1)).answer('pki:bulk-retry', summary(0));
    store.getState().setLinkOverride({ user: 'pi' });
    store.getState().applyPkiProgress({ deviceId: 'd1', deviceName: 'gw-1', stage: 'key', step: 'making the key on the device', done: false });
    expect(store.getState().provisionProgress.d1?.stage).toBe('key');
    await store.getState().provisionDevices({ devices: ['d1', 'd2'], profile: 'device-identity' });
    expect(api.argsOf('pki:issue-bulk')).toEqual([{ devices: ['d1', 'd2'], profile: 'device-identity', link: { user: 'pi' } }]);
    expect(store.getState().provisionSummary?.failed).toBe(1);
    await store.getState().retryFailedProvisioning(true);
    expect(api.argsOf('pki:bulk-retry')).toEqual([{ runId: 'run-1', setClock: true, link: { user: 'pi' } }]);
    expect(store.getState()).toMatchObject({ provisioning: false, provisionSummary: { failed: 0, succeeded: 2 } });
  });

  it('a CA operation refused because the vault is locked opens the unlock dialog', async () => {
    const api = new ScriptedApi();
    const store = createOutpostStore({ api, storage: memoryStorage(), refreshDelayMs: 10 });
    api.answer('pki:ca-create', new OutpostError('auth', 'the key of CA plant-3 is locked: give its passphrase'));
    expect(await store.getState().createCa({ name: 'plant-3' })).toBeNull();
    expect(store.getState().unlockDialogOpen).toBe(true);
  });
});
