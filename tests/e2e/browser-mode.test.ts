import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { Core } from '../../electron/core/app';
import type { Bridge } from '../../electron/server/bridge';
import type { Api } from '../../shared/contract';
import { bridgeSocketUrl } from '../../shared/transport/ws-client';
import { TOKEN_COOKIE } from '../../shared/transport/ws-protocol';
import { ARTIFACTS, openBrowserSession, type BrowserSession } from './pages/browser-session';
import { DevicesPage } from './pages/devices-page';
import { VIEW_IDS, type ShellPage } from './pages/shell-page';

// Runs inside a network namespace with only `lo` up, e.g.
// `ip netns exec <ns> npx vitest run --project e2e`, so the app must say "offline".

/** Resolves with 101 when the upgrade succeeds, else with the HTTP status the bridge answered. */
function upgradeStatus(url: string, options: WebSocket.ClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

describe('browser mode, driven through Chromium', () => {
  let session: BrowserSession;
  let home: string;
  let core: Core;
  let api: Api;
  let bridge: Bridge;
  let page: Page;
  let shell: ShellPage;
  let devices: DevicesPage;

  beforeAll(async () => {
    // A new session is a fresh, throw-away browser profile: no cookies, no localStorage from earlier runs.
    session = await openBrowserSession({
      viewport: { width: 1280, height: 760 },
      seed: async (seedApi) => {
        await seedApi.invoke('devices:add', { name: 'pump-gateway', host: '10.0.4.17' });
      },
    });
    ({ home, core, api, bridge, page, shell } = session);
    devices = new DevicesPage(page);
  });

  afterAll(async () => {
    await session?.close();
  });

  it('renders the shell and trades the token in the URL for a cookie', async () => {
    expect(await shell.title.innerText()).toBe('Outpost');
    expect(page.url()).toBe(bridge.url);
    expect(page.url()).not.toContain(bridge.token);
  });

  it('shows LAN only (no upstream configured), the data dir and the transport in the status bar', async () => {
    await vi.waitFor(async () => expect(await shell.onlineStatus()).toBe('LAN only'), { timeout: 10_000 });
    expect(await shell.dataDir()).toBe(home);
    expect(await shell.transport()).toBe('browser');
  });

  it('says "upstream reachable" once the configured upstream answers, and "LAN only" again when it stops', async () => {
    // A TCP listener on the lab's loopback stands in for the broker: the check is a TCP handshake for mqtt://.
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await api.invoke('upstream:settings', { target: { mqtt: { url: `mqtt://127.0.0.1:${port}`, topicPrefix: 'outpost' } } });
    await vi.waitFor(async () => expect(await shell.onlineStatus()).toBe('upstream reachable'), { timeout: 10_000 });
    expect(await page.getByTestId('status-online').getAttribute('data-upstream-state')).toBe('upstream-reachable');
    await new Promise<void>((r) => server.close(() => r()));
    expect((await api.invoke('upstream:check', {})).state).toBe('lan-only');
    await vi.waitFor(async () => expect(await shell.onlineStatus()).toBe('LAN only'), { timeout: 10_000 });
    await api.invoke('upstream:settings', { target: null });
  });

  it('lists the device the core already knew', async () => {
    const row = await devices.waitForDevice('pump-gateway');
    expect(await row.textContent()).toContain('10.0.4.17');
    expect(await row.textContent()).toContain('manual');
  });

  it('follows devices added through the core while the page is open', async () => {
    await api.invoke('devices:add', { name: 'jetson-cam', serialPath: '/dev/ttyUSB0' });
    const row = await devices.waitForDevice('jetson-cam');
    expect(await row.textContent()).toContain('/dev/ttyUSB0');
    expect(await row.textContent()).toContain('serial');
  });

  it('filters the table with the search box', async () => {
    await devices.search('10.0.4');
    await devices.waitForNoDevice('jetson-cam');
    expect(await devices.deviceNames()).toEqual(['pump-gateway']);
    await devices.search('');
    await devices.waitForDevice('jetson-cam');
  });

  it('adds a device through the form, and the core stores it', async () => {
    await devices.addDevice('north-pump', '10.0.9.3');
    await devices.waitForDevice('north-pump');
    const stored = core.devices.list().find((d) => d.name === 'north-pump');
    expect(stored).toMatchObject({ name: 'north-pump', addresses: ['10.0.9.3'], sources: ['manual'] });
  });

  it('shows a rejected add as an error notice carrying the error kind', async () => {
    await page.getByTestId('add-device-open').click();
    await page.getByTestId('add-device-target').fill('not a host!');
    await page.getByTestId('add-device-submit').click();
    const notice = page.getByTestId('notice-error');
    await notice.waitFor({ timeout: 15_000 });
    expect(await notice.getAttribute('data-kind')).toBe('invalid-input');
    expect(await notice.textContent()).toContain('invalid-input');
    await notice.getByRole('button').click();
    await notice.waitFor({ state: 'detached', timeout: 15_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('removes a device after confirmation', async () => {
    const row = await devices.waitForDevice('jetson-cam');
    await row.getByTestId('device-remove').click();
    await page.getByTestId('device-remove-confirm').click();
    await devices.waitForNoDevice('jetson-cam');
    await vi.waitFor(() => expect(core.devices.list().map((d) => d.name)).not.toContain('jetson-cam'));
  });

  it('saves a screenshot of the inventory', async () => {
    await devices.waitForDevice('north-pump');
    await page.getByTestId('notice-success').waitFor({ state: 'detached', timeout: 15_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-mode.png') });
  });

  // Latency starts empty ("No probes yet") until a probe runs. The Console view opens on its port picker; Certificates
  // on its CA panel, which asks for a first site CA.
  const PLACEHOLDER_VIEWS: string[] = ['latency'];

  it('navigates to each view', async () => {
    for (const view of VIEW_IDS) {
      const section = await shell.goTo(view);
      expect(await shell.isNavActive(view)).toBe(true);
      // Views that are built show their own content (covered by their e2e files); the rest explain what is coming.
      if (PLACEHOLDER_VIEWS.includes(view)) expect(await section.getByTestId('empty-state').isVisible()).toBe(true);
      else expect(await section.getByTestId('empty-state').count()).toBe(0);
      if (view === 'certificates') {
        await section.getByTestId('ca-empty').waitFor();
        expect(await section.getByTestId('cert-empty').isVisible()).toBe(true);
        await page.screenshot({ path: join(ARTIFACTS, 'browser-mode-certificates.png') });
      }
    }
    await shell.goTo('devices');
  });

  it('switches to the dark theme and remembers it across a reload', async () => {
    expect(await shell.colorScheme()).toBe('light');
    await shell.toggleTheme();
    expect(await shell.colorScheme()).toBe('dark');
    await page.reload();
    await shell.open(bridge.url);
    expect(await shell.colorScheme()).toBe('dark');
    await devices.waitForDevice('north-pump');
    await page.screenshot({ path: join(ARTIFACTS, 'browser-mode-dark.png') });
  });

  it('made no request to any host but 127.0.0.1, and logged no errors (CSP violations included)', () => {
    const { requestedUrls, pageErrors } = session;
    expect(requestedUrls.length).toBeGreaterThan(0);
    const foreign = requestedUrls.filter((u) => new URL(u).hostname !== '127.0.0.1' && !u.startsWith('data:') && !u.startsWith('blob:'));
    expect(foreign).toEqual([]);
    expect(requestedUrls.some((u) => u.startsWith(`ws://127.0.0.1:${bridge.port}/api`))).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('answers 401 to a request without the token', async () => {
    const res = await fetch(bridge.url);
    expect(res.status).toBe(401);
    const asset = await fetch(new URL('assets/', bridge.url));
    expect(asset.status).toBe(401);
  });

  it('refuses a WebSocket upgrade from a foreign Origin even with the token cookie', async () => {
    const socketUrl = bridgeSocketUrl(bridge.url);
    const cookie = `${TOKEN_COOKIE}=${bridge.token}`;
    expect(await upgradeStatus(socketUrl, { origin: 'http://evil.example', headers: { cookie } })).toBe(403);
    expect(await upgradeStatus(bridgeSocketUrl(bridge.url, bridge.token), { origin: 'http://evil.example' })).toBe(403);
    // Control: the same request from the bridge's own origin is let in, so the 403 above is about the Origin.
    expect(await upgradeStatus(socketUrl, { origin: `http://127.0.0.1:${bridge.port}`, headers: { cookie } })).toBe(101);
    expect(await upgradeStatus(socketUrl, { origin: `http://127.0.0.1:${bridge.port}` })).toBe(401);
  });
});
