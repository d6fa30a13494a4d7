import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from '../../shared/contract';
import { startLab, type Lab, type LabDevice } from '../lab/lab';
import { openBrowserSession, type BrowserSession } from './pages/browser-session';

// The Certificates view against a real lab device, in Debian's Chromium, from the technician netns
// (`bash tests/lab/in-lab.sh npx vitest run --project e2e tests/e2e/certificates.test.ts`): unlock the vault from the
// view, create a site CA, provision two devices through the wizard (SANs preview, clock check, live progress, summary)
// where one lives in 1970 and fails with kind clock-skew until Retry failures sets its clock; find the certificate in
// the table with its expiry; a certificate close to expiry warns in the table and the Devices list; the files target
// from the wizard lands the certificate, key and CA with the owner and mode asked and runs the reload.
const TIMEOUT = 30_000;
const PASSPHRASE = 'e2e certificates passphrase';

describe('Certificates view against a real device', () => {
  let lab: Lab;
  let dev: LabDevice;
  let old: LabDevice;
  let session: BrowserSession;
  let api: Api;
  let page: Page;
  let view: Locator;

  beforeAll(async () => {
    lab = await startLab({ devices: [{ name: 'cert-gw' }, { name: 'cert-1970', clock: '@1970-01-01 00:00:00' }] });
    dev = lab.device('cert-gw');
    old = lab.device('cert-1970');
    session = await openBrowserSession({
      viewport: { width: 1440, height: 1000 },
      seed: async (seedApi, _home, core) => {
        for (const d of [dev, old]) {
          await seedApi.invoke('devices:add', { name: d.name, host: d.ip });
          await seedApi.invoke('trust:pin', { device: d.name, fingerprint: d.hostKeyFingerprint, yes: true });
        }
        // A vault with a passphrase, locked: as the app is after a restart.
        await core.vault.unlock(PASSPHRASE);
        await core.vault.lock();
      },
    });
    ({ api, page } = session);
    view = await session.shell.goTo('certificates');
    // The lab's key reaches the device (the laptop's own key was never installed on it).
    await page.getByTestId('link-override-open').click();
    await page.getByTestId('link-identity').fill(lab.clientKeyPath);
    await page.getByTestId('link-apply').click();
  });

  afterAll(async () => {
    await session?.close();
    await lab?.teardown();
  });

  it('asks for the vault when it is locked, unlocks through the shared dialog, and creates a site CA', async () => {
    await view.getByTestId('ca-empty').waitFor({ timeout: TIMEOUT });
    await view.getByTestId('certificates-unlock').click();
    const dialog = page.getByRole('dialog').filter({ has: page.getByTestId('vault-passphrase') });
    await dialog.getByTestId('vault-passphrase').fill(PASSPHRASE);
    await dialog.getByTestId('vault-unlock').click();
    await dialog.waitFor({ state: 'detached', timeout: TIMEOUT });
    await view.getByTestId('certificates-vault-locked').waitFor({ state: 'detached', timeout: TIMEOUT });

    await view.getByTestId('ca-create-open').click();
    await page.getByTestId('ca-name').fill('plant-9');
    await page.getByTestId('ca-create').click();
    const row = view.locator('[data-testid="ca-row"][data-ca="plant-9"]');
    await row.waitFor({ timeout: TIMEOUT });
    expect(await row.textContent()).toContain('CN=plant-9');
    expect((await api.invoke('pki:ca-list', {})).map((c) => c.algorithm)).toEqual(['ec-p256']);

    await row.getByTestId('ca-export').click();
    await page.getByTestId('ca-export-pem').getByText('BEGIN CERTIFICATE').waitFor({ timeout: TIMEOUT });
    await session.screenshot('certificates-ca-export');
    await page.keyboard.press('Escape');
  });

  it('provisions two devices through the wizard; the 1970 one fails with clock-skew until Retry failures sets its clock', async () => {
    await view.getByTestId('provision-open').click();
    await page.getByTestId('provision-devices').click();
    await page.getByRole('option', { name: dev.name }).click();
    await page.getByRole('option', { name: old.name }).click();
    await page.keyboard.press('Escape');
    await page.getByTestId('provision-review').click();

    const review = page.locator(`[data-testid="provision-review-row"][data-device="${dev.name}"]`);
    await review.waitFor({ timeout: TIMEOUT });
    const sans = (await review.getByTestId('provision-sans').textContent()) ?? '';
    expect(sans).toContain(dev.ip);
    expect(sans).toContain(`${dev.name}.local`);
    await review.locator('[data-testid="provision-clock"][data-clock="ok"]').waitFor({ timeout: TIMEOUT });
    // The 1970 device's clock is shown as it reads, with the offer to set it.
    const oldReview = page.locator(`[data-testid="provision-review-row"][data-device="${old.name}"]`);
    const skewed = oldReview.locator('[data-testid="provision-clock"][data-clock="skewed"]');
    await skewed.waitFor({ timeout: TIMEOUT });
    expect(await skewed.textContent()).toContain('1970-01-01');
    expect(await skewed.getByTestId('provision-set-clock-now').isVisible()).toBe(true);
    await session.screenshot('certificates-wizard-review');

    // Provisioned without setting clocks: the good device gets its certificate, the 1970 one fails at the clock.
    await page.getByTestId('provision-start').click();
    await page.locator('[data-testid="provision-summary"][data-succeeded="1"][data-failed="1"]').waitFor({ timeout: TIMEOUT });
    const good = page.locator(`[data-testid="provision-device"][data-device="${dev.name}"]`);
    expect(await good.getAttribute('data-ok')).toBe('true');
    expect(await good.getByTestId('provision-step').textContent()).toMatch(/^issued [0-9a-f]{12}…, valid until \d{4}-\d{2}-\d{2}$/);
    const bad = page.locator(`[data-testid="provision-device"][data-device="${old.name}"]`);
    expect(await bad.getAttribute('data-ok')).toBe('false');
    expect(await bad.getAttribute('data-stage')).toBe('clock');
    expect(await bad.getByTestId('provision-error-kind').textContent()).toBe('clock-skew');
    await session.screenshot('certificates-wizard-failed');

    // Retry failures (setting wrong clocks this time) runs only the 1970 device.
    await page.getByTestId('provision-retry').click();
    await page.locator('[data-testid="provision-summary"][data-succeeded="2"][data-failed="0"]').waitFor({ timeout: TIMEOUT });
    expect(await bad.getAttribute('data-ok')).toBe('true');
    expect((await api.invoke('pki:cert-list', { deviceId: dev.name })).length).toBe(1);
    expect((await api.invoke('pki:cert-list', { deviceId: old.name })).length).toBe(1);
    await session.screenshot('certificates-wizard-done');
  });

  it('lists the certificate with its SANs, device and expiry; the device holds it', async () => {
    const [cert] = await api.invoke('pki:cert-list', { deviceId: dev.name });
    expect(cert).toMatchObject({ deviceName: dev.name, profile: 'device-identity', keyOrigin: 'device' });
    const row = view.locator(`[data-testid="cert-row"][data-serial="${cert!.serial}"]`);
    await row.waitFor({ timeout: TIMEOUT });
    expect(await row.getByTestId('cert-device').textContent()).toBe(dev.name);
    expect(await row.getByTestId('cert-not-after').textContent()).toBe(cert!.notAfter.slice(0, 10));
    expect(await row.getAttribute('data-expiry')).toBe('ok');
    expect(await row.getByTestId('cert-expiry').textContent()).toMatch(/^\d+ d left$/);
    expect(await row.getByTestId('cert-sans').textContent()).toContain(dev.ip);
    const onDevice = await dev.exec(['sh', '-c', 'cd /etc/outpost/pki/device-identity && openssl verify -CAfile ca.pem cert.pem']);
    expect(onDevice.stdout).toBe('cert.pem: OK\n');
    await session.screenshot('certificates-table');
  });

  it('colours a certificate with under 30 days left orange, in the table and in the Devices list', async () => {
    const r = await api.invoke('pki:issue', { device: dev.name, profile: 'mqtt-client', lifetimeDays: 10, link: { identityFile: lab.clientKeyPath } });
    const row = view.locator(`[data-testid="cert-row"][data-serial="${r.certificate!.serial}"]`);
    await row.waitFor({ timeout: TIMEOUT });
    expect(await row.getAttribute('data-expiry')).toBe('expiring');
    expect(await row.getByTestId('cert-expiry').textContent()).toMatch(/^(9|10) d left$/);
    await view.getByTestId('cert-warnings').waitFor({ timeout: TIMEOUT });

    const devices = await session.shell.goTo('devices');
    const badge = devices.locator('[data-testid="device-row"]').filter({ hasText: dev.name }).getByTestId('device-cert-expiry');
    await badge.waitFor({ timeout: TIMEOUT });
    expect(await badge.getAttribute('data-state')).toBe('expiring');
    await session.screenshot('certificates-devices-warning');
  });

  it('the files target from the wizard: refuses a traversal path, then writes cert, key and CA with the owner and key mode asked and runs the reload as argv', async () => {
    view = await session.shell.goTo('certificates');
    const wizard = page.getByTestId('provision-wizard');
    // A fresh wizard: hide the last one if it is still open, then open it again.
    if (await wizard.isVisible()) await view.getByTestId('provision-open').click();
    await wizard.waitFor({ state: 'detached', timeout: TIMEOUT });
    await view.getByTestId('provision-open').click();
    await page.getByTestId('provision-devices').click();
    await page.getByRole('option', { name: dev.name }).click();
    await page.keyboard.press('Escape');
    await page.getByTestId('provision-install').click();
    await page.getByRole('option', { name: /^Files/ }).click();
    const dir = '/etc/e2e-app';
    const marker = `${dir}/reloaded by outpost`;
    await page.getByTestId('files-cert-path').fill(`${dir}/tls.crt`);
    await page.getByTestId('files-key-path').fill(`${dir}/../e2e-app/tls.key`);
    await page.getByTestId('files-ca-path').fill(`${dir}/ca.crt`);
    await page.getByTestId('files-owner').fill('daemon:daemon');
    await page.getByTestId('files-key-mode').fill('0640');
    // The reload, word by word: the space in the marker's name is part of one argument, not a shell separator.
    for (const word of ['touch', marker]) {
      await page.getByTestId('files-reload').fill(word);
      await page.keyboard.press('Enter');
    }
    await page.getByTestId('provision-review').click();
    await wizard.getByText('no . or .. segments').waitFor({ timeout: TIMEOUT });
    expect(await page.getByTestId('provision-review-table').count()).toBe(0);
    await session.screenshot('certificates-wizard-files-invalid');

    await page.getByTestId('files-key-path').fill(`${dir}/tls.key`);
    await page.getByTestId('provision-review').click();
    await page.locator(`[data-testid="provision-review-row"][data-device="${dev.name}"] [data-testid="provision-clock"][data-clock="ok"]`).waitFor({ timeout: TIMEOUT });
    expect(await page.getByTestId('provision-files-summary').textContent()).toContain(`then runs touch "${marker}"`);
    await page.getByTestId('provision-start').click();
    await page.locator('[data-testid="provision-summary"][data-succeeded="1"][data-failed="0"]').waitFor({ timeout: TIMEOUT });
    await session.screenshot('certificates-wizard-files-done');

    // On the device: the files with the owner and modes asked, the key pairs with the certificate, the CA verifies it,
    // the reload ran (its one argument with a space made one file), and the record says where it was installed.
    const sh = async (script: string) => {
      const r = await dev.exec(['sh', '-c', script]);
      expect(r.stderr).toBe('');
      return r.stdout;
    };
    expect(await sh(`stat -c '%a %U:%G %n' ${dir}/tls.key ${dir}/tls.crt ${dir}/ca.crt`)).toBe(`640 daemon:daemon ${dir}/tls.key\n644 daemon:daemon ${dir}/tls.crt\n644 daemon:daemon ${dir}/ca.crt\n`);
    expect(await sh(`cd ${dir} && openssl verify -CAfile ca.crt tls.crt`)).toBe('tls.crt: OK\n');
    expect(await sh(`cd ${dir} && openssl x509 -in tls.crt -noout -pubkey`)).toBe(await sh(`openssl pkey -in ${dir}/tls.key -pubout`));
    expect(await sh(`ls "${marker}"`)).toBe(`${marker}\n`);
    const newest = (await api.invoke('pki:cert-list', { deviceId: dev.name })).find((c) => c.installed.some((i) => i.target === 'files'));
    expect(newest?.installed.find((i) => i.target === 'files')?.files).toMatchObject({ certPath: `${dir}/tls.crt`, keyPath: `${dir}/tls.key`, caPath: `${dir}/ca.crt`, owner: 'daemon:daemon', keyMode: '0640', reload: ['touch', marker] });
    expect(await sh(`openssl x509 -in ${dir}/tls.crt -noout -serial`)).toBe(`serial=${newest!.serial.toUpperCase()}\n`);
  });

  it('logged no page errors', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
