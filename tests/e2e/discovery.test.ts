// Discovery through the UI against the real device lab: scan the lab subnet from the Devices view, check sources,
// the detail drawer's host key against the lab's own, pinning and a changed key, and edits that reach the core.
// Run: bash tests/lab/in-lab.sh npx vitest run --project e2e tests/e2e/discovery.test.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLab, type Lab, type LabDevice } from '../lab/lab';
import { openBrowserSession, type BrowserSession } from './pages/browser-session';
import { DevicesPage } from './pages/devices-page';

let lab: Lab;
let session: BrowserSession;
let devices: DevicesPage;

/** The raw public key blob of a lab device's ed25519 host key (what sshd offers on the wire). */
function hostKeyBlob(dev: LabDevice): Buffer {
  const line = readFileSync(join(dev.root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8');
  return Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
}

beforeAll(async () => {
  lab = await startLab({
    devices: [
      { name: 'pi-avahi', avahi: true, services: [{ type: '_outpost._tcp', port: 8443, txt: { site: 'north', role: 'gateway' } }] },
      { name: 'edge-1' },
      { name: 'edge-2' },
      { name: 'edge-3' },
      // Two gateways flashed from one image: one SSH host key.
      { name: 'clone-1', hostKeyGroup: 'golden' },
      { name: 'clone-2', hostKeyGroup: 'golden' },
    ],
  });
  session = await openBrowserSession();
  devices = new DevicesPage(session.page);
});

afterAll(async () => {
  await session?.close();
  await lab?.teardown();
});

describe('Devices view over the lab', () => {
  it('scans the lab subnet from the UI; the progress bar runs to the end and every device appears with its sources', async () => {
    await session.shell.goTo('devices');
    expect(await devices.page.getByTestId('devices-empty').textContent()).toContain('No devices yet');
    await devices.scan({ cidrs: [lab.subnet], interfaces: ['lab0'] });

    const progress = await devices.scanProgress();
    expect(progress.total).toBeGreaterThanOrEqual(254);
    expect(progress.done).toBe(progress.total);
    expect(progress.text).toContain(`100 % · ${progress.total} / ${progress.total} checks · done`);
    expect(await devices.page.getByTestId('scan-summary').textContent()).toContain('found 6 devices');

    for (const dev of lab.devices) {
      const row = devices.rowByAddress(dev.ip);
      await row.waitFor({ timeout: 15_000 });
      expect(await devices.sources(row), dev.name).toEqual(dev.name === 'pi-avahi' ? ['mdns', 'sweep'] : ['sweep']);
      expect(await row.getByTestId('device-state').getAttribute('data-state')).toBe('online');
      expect(await row.textContent()).toMatch(/([0-9a-f]{2}:){5}[0-9a-f]{2}/);
    }
    expect(await devices.page.getByTestId('device-row').count()).toBe(6);
    expect((await devices.page.getByTestId('devices-count').textContent())?.trim()).toBe('6');
    await session.screenshot('discovery-inventory');
  });

  it('filters the list by source', async () => {
    await devices.page.getByTestId('filter-source').click();
    await devices.page.getByRole('option', { name: 'mDNS' }).click();
    await devices.page.keyboard.press('Escape');
    await vi.waitFor(async () => expect(await devices.page.getByTestId('device-row').count()).toBe(1));
    expect(await devices.rowByAddress(lab.device('pi-avahi').ip).count()).toBe(1);
    expect((await devices.page.getByTestId('devices-count').textContent())?.trim()).toBe('1 of 6');
    await devices.clearFilter('source');
    await vi.waitFor(async () => expect(await devices.page.getByTestId('device-row').count()).toBe(6));
  });

  it('shows services with TXT and the SSH host key the device really has, then pins it after confirmation', async () => {
    const dev = lab.device('pi-avahi');
    const drawer = await devices.openDevice(devices.rowByAddress(dev.ip));
    expect(await devices.drawerText('device-fingerprint')).toBe(dev.hostKeyFingerprint);
    expect(await devices.drawerText('device-ssh-banner')).toMatch(/^SSH-2\.0-OpenSSH/);
    const services = (await drawer.getByTestId('detail-services').textContent()) ?? '';
    expect(services).toContain('_outpost._tcp');
    expect(services).toContain('site=north');
    expect(services).toContain('_ssh._tcp');
    expect(await drawer.getByTestId('device-pinned').getAttribute('data-pinned')).toBe('false');

    const { offered, dialog } = await devices.trustHostKey();
    expect(offered).toBe(dev.hostKeyFingerprint);
    await session.screenshot('discovery-trust-dialog');
    await devices.confirmPin(dialog);
    await drawer.locator('[data-testid="device-pinned"][data-pinned="true"]').waitFor({ timeout: 15_000 });
    expect(session.core.knownHosts.get(dev.ip, 22)?.fingerprint).toBe(dev.hostKeyFingerprint);
    await session.screenshot('discovery-detail');
    await devices.closeDrawer();
  });

  it('shows a changed host key loudly, old and new, and re-pins only after confirmation', async () => {
    const dev = lab.device('edge-2');
    // The laptop pinned another key for this address earlier (say, before the device was re-imaged).
    session.core.knownHosts.pin(dev.ip, 22, hostKeyBlob(lab.device('edge-1')));
    const drawer = await devices.openDevice(devices.rowByAddress(dev.ip));
    const alert = drawer.getByTestId('host-key-changed');
    await alert.waitFor({ timeout: 15_000 });
    expect((await alert.getByTestId('host-key-old').textContent())?.trim()).toBe(lab.device('edge-1').hostKeyFingerprint);
    expect((await alert.getByTestId('host-key-new').textContent())?.trim()).toBe(dev.hostKeyFingerprint);

    const { offered, dialog } = await devices.trustHostKey();
    expect(offered).toBe(dev.hostKeyFingerprint);
    expect((await dialog.getByTestId('host-key-old').textContent())?.trim()).toBe(lab.device('edge-1').hostKeyFingerprint);
    expect(await dialog.getByTestId('trust-pin').isDisabled()).toBe(true);
    // A changed key: ticking the box is not enough, the new fingerprint must be typed or pasted, and exactly.
    await dialog.getByTestId('trust-confirm-check').check();
    expect(await dialog.getByTestId('trust-pin').isDisabled()).toBe(true);
    await dialog.getByTestId('trust-typed-fingerprint').fill(lab.device('edge-1').hostKeyFingerprint);
    expect(await dialog.getByTestId('trust-pin').isDisabled()).toBe(true);
    await session.screenshot('discovery-host-key-changed');
    await dialog.getByTestId('trust-confirm-check').uncheck();
    await devices.confirmPin(dialog, dev.hostKeyFingerprint);
    await alert.waitFor({ state: 'detached', timeout: 15_000 });
    expect(session.core.knownHosts.get(dev.ip, 22)?.fingerprint).toBe(dev.hostKeyFingerprint);
    await devices.closeDrawer();
  });

  it('renames, tags and annotates a device; the core keeps it and the tag filter finds it', async () => {
    const dev = lab.device('edge-3');
    const drawer = await devices.openDevice(devices.rowByAddress(dev.ip));
    await drawer.getByTestId('device-edit-name').fill('boiler-room-3');
    await drawer.getByTestId('device-edit-tags').fill('site=north, role=boiler');
    await drawer.getByTestId('device-edit-notes').fill('behind the second boiler, key in the red box');
    await drawer.getByTestId('device-edit-save').click();
    await devices.page.getByTestId('drawer-device-name').getByText('boiler-room-3').waitFor({ timeout: 15_000 });
    const stored = session.core.devices.list().find((d) => d.addresses.includes(dev.ip));
    expect(stored).toMatchObject({ name: 'boiler-room-3', tags: { site: 'north', role: 'boiler' }, notes: 'behind the second boiler, key in the red box' });
    await devices.closeDrawer();

    await devices.page.getByTestId('filter-tag').click();
    await devices.page.getByRole('option', { name: 'role=boiler' }).click();
    await vi.waitFor(async () => expect(await devices.deviceNames()).toEqual(['boiler-room-3']));
    await devices.clearFilter('tag');
    await vi.waitFor(async () => expect(await devices.page.getByTestId('device-row').count()).toBe(6));
  });

  it('marks two cloned devices "shared host key" and gives one its own key from the drawer, pinned in the same step', async () => {
    const [c1, c2] = [lab.device('clone-1'), lab.device('clone-2')];
    for (const c of [c1, c2]) await devices.rowByAddress(c.ip).getByTestId('shared-host-key').waitFor({ timeout: 15_000 });
    const drawer = await devices.openDevice(devices.rowByAddress(c2.ip));
    await drawer.getByTestId('shared-host-key-alert').waitFor({ timeout: 15_000 });
    const { dialog } = await devices.trustHostKey();
    await devices.confirmPin(dialog);
    await drawer.locator('[data-testid="device-pinned"][data-pinned="true"]').waitFor({ timeout: 15_000 });
    const fresh = await devices.regenerateHostKeys(lab.clientKeyPath);
    const onDevice = (await c2.exec(['ssh-keygen', '-lf', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout.split(/\s+/)[1];
    expect(fresh).toBe(onDevice);
    expect(fresh).not.toBe(c2.hostKeyFingerprint);
    expect(session.core.knownHosts.get(c2.ip, 22)?.fingerprint).toBe(fresh);
    await session.screenshot('discovery-regenerated-host-keys');
    await drawer.getByTestId('shared-host-key-alert').waitFor({ state: 'detached', timeout: 15_000 });
    await devices.closeDrawer();
    // The scan that follows sees two different keys: neither is marked any more.
    await devices.scan({});
    await devices.rowByAddress(c1.ip).getByTestId('shared-host-key').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await devices.page.getByTestId('shared-host-key').count()).toBe(0);
  });

  it('unlocks the vault from the status bar: a mistyped passphrase is refused at once, the right one unlocks', async () => {
    await session.core.vault.unlock('e2e vault passphrase');
    await session.core.vault.lock();
    await devices.page.reload();
    await devices.page.locator('[data-testid="vault-status"][data-unlocked="false"]').waitFor({ timeout: 15_000 });
    await devices.page.getByTestId('vault-unlock-open').click();
    const dialog = devices.page.getByRole('dialog').filter({ has: devices.page.getByTestId('vault-passphrase') });
    await dialog.waitFor({ timeout: 15_000 });
    await dialog.getByTestId('vault-passphrase').fill('e2e vault passphrsae');
    await dialog.getByTestId('vault-unlock').click();
    expect((await dialog.getByTestId('vault-error').textContent())?.trim()).toMatch(/Wrong passphrase/);
    expect((await session.core.vault.status()).unlocked).toBe(false);
    await dialog.getByTestId('vault-passphrase').fill('e2e vault passphrase');
    await dialog.getByTestId('vault-unlock').click();
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    await devices.page.locator('[data-testid="vault-status"][data-unlocked="true"]').waitFor({ timeout: 15_000 });
    expect(await session.core.vault.status()).toMatchObject({ unlocked: true, source: 'session' });
  });

  it('logged no page errors', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
