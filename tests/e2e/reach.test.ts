// What the core can do, reached from the app alone (issue 8 §9, §10), against one real lab device with dockerd:
// site-wide SSH defaults (Settings), a device's own login overriding them, per-device buffer locations checked on
// the device, the support bundle saved as a download, and forgetting a pinned host key.
// Run: OUTPOST_LAB_ID=<id> bash tests/lab/in-lab.sh npx vitest run --project e2e tests/e2e/reach.test.ts
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab, type LabDevice } from '../lab/lab';
import { openBrowserSession, type BrowserSession } from './pages/browser-session';
import { BuffersPage } from './pages/buffers-page';
import { DevicesPage } from './pages/devices-page';

const TIMEOUT = 30_000;
let lab: Lab;
let dev: LabDevice;
let session: BrowserSession;
let devices: DevicesPage;
let siteKey = '';

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'reach-a', docker: true }] });
  dev = lab.device('reach-a');
  session = await openBrowserSession();
  devices = new DevicesPage(session.page);
  // A login only the site key opens: user fieldtech with its own authorized_keys.
  siteKey = join(session.home, 'site_ed25519');
  expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'site-key', '-f', siteKey]).status).toBe(0);
  const added = await dev.exec(
    ['sh', '-c', 'echo "fieldtech:x:4242:4242::/home/fieldtech:/bin/sh" >> /etc/passwd && echo "fieldtech:*:19000:0:99999:7:::" >> /etc/shadow && mkdir -p /home/fieldtech/.ssh && cat > /home/fieldtech/.ssh/authorized_keys && chown -R 4242:4242 /home/fieldtech'],
    { input: readFileSync(`${siteKey}.pub`) },
  );
  expect(added.code, added.stderr).toBe(0);
});

afterAll(async () => {
  await session?.close();
  await lab?.teardown();
});

describe('reaching the core from the app', () => {
  it('sets site-wide SSH defaults in Settings; a device without its own login shows and uses them', async () => {
    const page = session.page;
    const settings = await session.shell.goTo('settings');
    await settings.getByTestId('site-user').fill('fieldtech');
    await settings.getByTestId('site-identity').fill(siteKey);
    await settings.getByTestId('site-save').click();
    await page.getByTestId('notice-success').filter({ hasText: 'Site defaults saved' }).waitFor({ timeout: TIMEOUT });
    expect(await session.api.invoke('link:defaults', {})).toEqual({ user: 'fieldtech', identityFile: siteKey });

    await session.shell.goTo('devices');
    await devices.addDevice('reach-a', dev.ip);
    const drawer = await devices.openDevice(await devices.waitForDevice('reach-a'));
    await drawer.getByText('SSH — fieldtech, port 22, key site_ed25519 (site defaults)').waitFor({ timeout: TIMEOUT });
    // The edit form keeps the device's own fields empty and shows what they inherit.
    expect(await drawer.getByTestId('device-edit-user').getAttribute('placeholder')).toBe('fieldtech (site default)');
    const { dialog } = await devices.trustHostKey();
    await devices.confirmPin(dialog);
    await devices.closeDrawer();

    // Settings lists what each device will use, and where it comes from.
    const again = await session.shell.goTo('settings');
    const row = again.locator(`[data-testid="site-device-row"]`).filter({ hasText: 'reach-a' });
    expect((await row.getByTestId('site-device-login').textContent())?.trim()).toBe(`fieldtech@${dev.ip}:22`);

    // One site's own set: only devices tagged with that site take it; this untagged device keeps every site's.
    await again.getByTestId('site-scope').fill('plant-9');
    expect(await again.getByTestId('site-user').inputValue()).toBe('');
    await again.getByTestId('site-user').fill('ops');
    await again.getByTestId('site-port').fill('2222');
    await again.getByTestId('site-save').click();
    await page.getByTestId('notice-success').filter({ hasText: 'Devices tagged site=plant-9' }).waitFor({ timeout: TIMEOUT });
    expect(await session.api.invoke('link:defaults-all', {})).toEqual({ all: { user: 'fieldtech', identityFile: siteKey }, sites: { 'plant-9': { user: 'ops', port: 2222 } } });
    expect((await row.getByTestId('site-device-login').textContent())?.trim()).toBe(`fieldtech@${dev.ip}:22`);
    await session.screenshot('reach-settings');
    await again.getByTestId('site-clear').click();
    await expect.poll(async () => (await session.api.invoke('link:defaults-all', {})).sites).toEqual({});
    await again.getByTestId('site-scope').fill('');
    await expect.poll(() => again.getByTestId('site-user').inputValue()).toBe('fieldtech');
  });

  it('views and sets the device\'s buffer locations from Buffers, checked on the device over the site login', async () => {
    const page = session.page;
    const view = await session.shell.goTo('buffers');
    const row = view.locator(`[data-testid="buffers-row"]`).filter({ hasText: 'reach-a' });
    await row.getByTestId('buffer-paths-open').click();
    const dialog = page.getByTestId('buffer-paths-dialog').last();
    await dialog.getByTestId('buffer-paths-defaults').waitFor({ timeout: TIMEOUT });
    // Reading did not freeze the defaults as the device's own.
    expect((await session.api.invoke('buffers:config', { deviceId: (await session.api.invoke('devices:list', {}))[0]!.id })).defaults).toBe(true);
    const spools = dialog.getByTestId('buffer-paths-spools');
    await spools.fill('/var/spool/not-here');
    await spools.press('Enter');
    await dialog.getByTestId('buffer-paths-outboxes').fill('');
    await dialog.getByTestId('buffer-paths-save').click();
    const check = dialog.locator('[data-testid="buffer-paths-check"][data-reached="true"]');
    await check.waitFor({ timeout: TIMEOUT });
    expect(await check.getAttribute('data-missing')).toBe('/var/spool/not-here');
    expect(await dialog.getByTestId('buffer-paths-defaults').count()).toBe(0);
    const log = await dev.exec(['cat', '/var/log/sshd.log']);
    expect(log.stdout).toMatch(/Accepted publickey for fieldtech from /);
    await session.screenshot('reach-buffer-paths');

    await dialog.getByTestId('buffer-paths-reset').click();
    await dialog.getByTestId('buffer-paths-defaults').waitFor({ timeout: TIMEOUT });
    await page.keyboard.press('Escape');
  });

  it("saves the support bundle as a download, over the device's own login (which comes before the site's)", async () => {
    const page = session.page;
    await session.shell.goTo('devices');
    const drawer = await devices.openDevice(await devices.waitForDevice('reach-a'));
    // The engine socket is root's: the device gets its own login, root with the lab key.
    await drawer.getByTestId('device-edit-user').fill('root');
    await drawer.getByTestId('device-edit-identity').fill(lab.clientKeyPath);
    await drawer.getByTestId('device-edit-save').click();
    await drawer.getByText('SSH — root, port 22, key').waitFor({ timeout: TIMEOUT });
    expect(await drawer.getByText('(site defaults)').count()).toBe(0);

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), drawer.getByTestId('save-bundle').click()]);
    expect(download.suggestedFilename()).toMatch(/^reach-a-support-\d{8}-\d{4}\.zip$/);
    const saved = join(session.home, 'bundle.zip');
    await download.saveAs(saved);
    const listing = spawnSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', saved], { encoding: 'utf8' });
    expect(listing.status, listing.stderr).toBe(0);
    expect(listing.stdout.split('\n')).toEqual(expect.arrayContaining(['containers.json', 'facts.json', 'device.json', 'deploy-history.json']));
    // The zip went to the page; nothing of it stays in the data dir.
    expect(readdirSync(session.home).filter((f) => f.endsWith('.zip.part'))).toEqual([]);
    await page.getByTestId('notice-success').filter({ hasText: 'Support bundle of reach-a' }).waitFor({ timeout: TIMEOUT });
  });

  it('lists a running flush in the status bar with a Cancel that stops it; the device keeps what was not acknowledged', async () => {
    const page = session.page;
    await devices.closeDrawer();
    const ready = join(dev.spoolDir, 'bulk', 'ready');
    mkdirSync(ready, { recursive: true });
    for (let i = 1; i <= 8; i++) writeFileSync(join(ready, `seg-000${i}.bin`), randomBytes(1024 * 1024));
    // 4 Mbit/s: the 8 MiB take ~17 s, time to find the job in the status bar.
    await dev.rateLimit(4000);
    try {
      await session.shell.goTo('buffers');
      const buffers = new BuffersPage(page);
      await buffers.select(['reach-a']);
      await buffers.startFlush();
      await buffers.midFlight('reach-a');
      await page.getByTestId('status-jobs').click();
      const job = page.locator('[data-testid="status-job"][data-kind="flush"]');
      await job.waitFor({ timeout: TIMEOUT });
      // The job carries the flush's bytes (all its devices summed), not only the Buffers row.
      await job.getByText(/ \/ 8\.0 MiB$/).waitFor({ timeout: TIMEOUT });
      await session.screenshot('reach-status-bar-job');
      await job.getByTestId('status-job-cancel').click();
      await page.getByTestId('status-jobs').waitFor({ state: 'detached', timeout: TIMEOUT });
    } finally {
      await dev.rateLimit(null);
    }
    const left = readdirSync(ready).filter((f) => f.endsWith('.bin'));
    // Stopped before the end, and nothing lost: what left the device is in the laptop store, the rest is still there.
    expect(left.length).toBeGreaterThan(0);
    const stored = (await session.api.invoke('store:list', { limit: 1000 })).segments.filter((s) => s.stream === 'bulk');
    expect(stored.length).toBe(8 - left.length);
    await session.shell.goTo('devices');
    await devices.openDevice(await devices.waitForDevice('reach-a'));
  });

  it('forgets the pinned host key: the next connection asks again', async () => {
    const page = session.page;
    const drawer = devices.drawer;
    await drawer.locator('[data-testid="device-pinned"][data-pinned="true"]').waitFor({ timeout: TIMEOUT });
    await drawer.getByTestId('forget-key-open').click();
    const dialog = page.getByTestId('forget-key-dialog').last();
    await dialog.getByText(dev.hostKeyFingerprint).waitFor({ timeout: TIMEOUT });
    await session.screenshot('reach-forget-key');
    await page.getByTestId('forget-key-confirm').click();
    await drawer.locator('[data-testid="device-pinned"][data-pinned="false"]').waitFor({ timeout: TIMEOUT });
    expect(await session.api.invoke('trust:list', {})).toEqual([]);
    // The pooled connection went with the pin: a call now stops at the unknown key.
    const id = (await session.api.invoke('devices:list', {}))[0]!.id;
    await expect(session.api.invoke('buffers:scan', { deviceId: id })).rejects.toMatchObject({ kind: 'host-key-unknown' });
  });
});
