// The device drawer's Container engine section against one real lab device whose dockerd listens in no usual place
// (only on /var/run/engine/docker.sock): what a technician sees before and after Outpost looks, the places it tried,
// the socket setting (a wrong path, the right one), and DOCKER_HOST from the device's login environment.
// Run: OUTPOST_LAB_ID=<id> bash tests/lab/in-lab.sh npx vitest run --project e2e tests/e2e/engine.test.ts
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../shared/contract';
import { startLab, type Lab, type LabDevice } from '../lab/lab';
import { openBrowserSession, type BrowserSession } from './pages/browser-session';
import { DevicesPage } from './pages/devices-page';

const TIMEOUT = 30_000;
const NAME = 'eng-ui';
const SOCKET = '/var/run/engine/docker.sock';
const WRONG = '/run/nothing/here.sock';
const USUAL = ['/var/run/docker.sock', '/var/run/balena-engine.sock', '/run/podman/podman.sock', '/run/user/0/docker.sock', '/run/user/0/podman/podman.sock'];
let lab: Lab;
let dev: LabDevice;
let device: Device;
let session: BrowserSession;
let devices: DevicesPage;
let drawer: Locator;

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: NAME, docker: true, dockerSocket: SOCKET }] });
  dev = lab.device(NAME);
  session = await openBrowserSession({
    seed: async (api) => {
      // The device's own login (root, the lab key) and its host key pinned as read from its label.
      device = await api.invoke('devices:add', { name: NAME, host: dev.ip, sshUser: 'root', sshIdentityFile: lab.clientKeyPath });
      await api.invoke('trust:pin', { device: NAME, fingerprint: dev.hostKeyFingerprint, yes: true });
    },
  });
  devices = new DevicesPage(session.page);
  await session.shell.goTo('devices');
  drawer = await devices.openDevice(await devices.waitForDevice(NAME));
});

afterAll(async () => {
  await session?.close();
  await lab?.teardown();
});

/** The error notice whose message contains `text` (earlier notices stay on screen). */
const errorNotice = (text: string) => session.page.getByTestId('notice-error').filter({ hasText: text });
const setSocket = async (value: string) => {
  await drawer.getByTestId('engine-socket-input').fill(value);
  await drawer.getByTestId('engine-socket-save').click();
};

describe('the device drawer’s Container engine section', () => {
  it('says nothing was looked for yet; “Look for the engine” lists every place tried, in order, and the error’s kind', async () => {
    await drawer.getByTestId('engine-unknown').waitFor({ timeout: TIMEOUT });
    await drawer.getByTestId('engine-locate').click();
    const alert = drawer.getByTestId('engine-not-found');
    await alert.waitFor({ timeout: TIMEOUT });
    const items = (await alert.locator('li').allTextContents()).map((t) => t.trim());
    expect(items).toEqual([
      '/var/run/docker.sock — Docker’s standard socket: no socket there',
      '/var/run/balena-engine.sock — balena-engine’s socket: no socket there',
      '/run/podman/podman.sock — Podman’s system service socket: no socket there',
      '/run/user/0/docker.sock — rootless Docker of the login user: no socket there',
      '/run/user/0/podman/podman.sock — rootless Podman of the login user: no socket there',
    ]);
    const notice = errorNotice(`${NAME}: no container engine answered`);
    await notice.waitFor({ timeout: TIMEOUT });
    expect(await notice.getAttribute('data-kind')).toBe('engine-not-found');
    expect((await notice.getByTestId('notice-kind').textContent())?.trim()).toBe('engine-not-found');
    for (const place of USUAL) expect(await notice.textContent()).toContain(place);
    expect(await drawer.getByTestId('engine-product').count()).toBe(0);
    await session.screenshot('engine-not-found');
  });

  it('a wrong socket path is tried first and fails with engine-not-found; the right path reaches the engine there', async () => {
    // Not a path at all: refused before anything is saved or tried.
    await setSocket('var/run/engine/docker.sock');
    const invalid = session.page.getByTestId('notice-error').filter({ hasText: 'Could not save the device' });
    await invalid.waitFor({ timeout: TIMEOUT });
    expect(await invalid.getAttribute('data-kind')).toBe('invalid-input');
    expect(await invalid.textContent()).toContain('engineSocket: an absolute socket path');
    expect((await session.api.invoke('devices:get', { id: device.id })).docker?.socket).toBeUndefined();
    await setSocket(WRONG);
    const notice = errorNotice(`tried ${WRONG} (setting): no socket there;`);
    await notice.waitFor({ timeout: TIMEOUT });
    expect(await notice.getAttribute('data-kind')).toBe('engine-not-found');
    const first = drawer.getByTestId('engine-not-found').locator('li').first();
    await first.getByText(`${WRONG} — this device’s engine socket setting: no socket there`).waitFor({ timeout: TIMEOUT });
    expect(await drawer.getByTestId('engine-not-found').locator('li').count()).toBe(USUAL.length + 1);

    await setSocket(SOCKET);
    await drawer.getByTestId('engine-product').waitFor({ timeout: TIMEOUT });
    expect(await devices.drawerText('engine-product')).toMatch(/^Docker \d+\.\d+/);
    expect(await devices.drawerText('engine-socket')).toBe(SOCKET);
    expect(await devices.drawerText('engine-source')).toMatch(/^this device’s engine socket setting · /);
    expect(await drawer.getByTestId('engine-not-found').count()).toBe(0);
    expect(await drawer.getByTestId('engine-passed-over').count()).toBe(0);
    await session.page.getByTestId('notice-success').filter({ hasText: `${NAME}: docker ` }).filter({ hasText: `at ${SOCKET}` }).waitFor({ timeout: TIMEOUT });
    // Reachable for every Workloads call, not only found: the listing answers from that engine.
    const [ps] = await session.api.invoke('workloads:ps', { devices: [device.id] });
    expect(ps, JSON.stringify(ps)).toMatchObject({ ok: true, engine: { socket: SOCKET, source: 'setting', product: 'docker' } });
    await session.screenshot('engine-found-by-setting');
  });

  it('cleared, the engine is found where DOCKER_HOST in the login environment points; a wrong setting is then passed over and shown', async () => {
    // The device's login profile names the engine, as an image that moved dockerd would.
    const profile = await dev.exec(['sh', '-c', `printf 'export DOCKER_HOST=unix://${SOCKET}\\n' >> "$HOME/.profile"`]);
    expect(profile.code, profile.stderr).toBe(0);
    await drawer.getByTestId('engine-socket-clear').click();
    await drawer.getByTestId('engine-source').getByText(/^DOCKER_HOST in the device’s login environment · /).waitFor({ timeout: TIMEOUT });
    expect(await devices.drawerText('engine-socket')).toBe(SOCKET);
    expect(await drawer.getByTestId('engine-socket-input').inputValue()).toBe('');

    await setSocket(WRONG);
    await drawer.getByTestId('engine-passed-over').getByText(`Passed over first: ${WRONG} (no socket there)`).waitFor({ timeout: TIMEOUT });
    expect(await devices.drawerText('engine-source')).toMatch(/^DOCKER_HOST in the device’s login environment · /);
    expect((await session.api.invoke('devices:get', { id: device.id })).docker).toMatchObject({ socket: WRONG, engine: { socket: SOCKET, source: 'DOCKER_HOST' } });
    await session.screenshot('engine-passed-over');
  });

  it('a setting changed from the CLI while the drawer is open shows in the field once the drawer looks again (Save then keeps it)', async () => {
    const cli = spawnSync(process.execPath, [resolve(__dirname, '../../bin/outpost.mjs'), 'devices', 'update', NAME, '--engine-socket', SOCKET, '--json'], { env: { ...process.env, OUTPOST_HOME: session.home }, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    await drawer.getByTestId('engine-locate').click();
    await drawer.getByTestId('engine-source').getByText(/^this device’s engine socket setting · /).waitFor({ timeout: TIMEOUT });
    expect(await drawer.getByTestId('engine-passed-over').count()).toBe(0);
    // The field shows the setting in force, not what was typed before the CLI changed it: saving it unchanged keeps it.
    expect(await drawer.getByTestId('engine-socket-input').inputValue()).toBe(SOCKET);
    const record = async () => (await session.api.invoke('devices:get', { id: device.id })).docker;
    const before = (await record())?.engine?.foundAt;
    await drawer.getByTestId('engine-socket-save').click();
    // A save looks for the engine again in full: done once the record holds a new search.
    await expect.poll(async () => (await record())?.engine?.foundAt, { timeout: TIMEOUT, message: 'the engine search after Save never recorded' }).not.toBe(before);
    expect((await session.api.invoke('devices:get', { id: device.id })).docker).toMatchObject({ socket: SOCKET, engine: { socket: SOCKET, source: 'setting' } });
  });
});
