import { createWriteStream, mkdirSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from '../../shared/contract';
import { importBusyboxImage, startLab, type Lab, type LabDevice } from '../lab/lab';
import { ARTIFACTS, openBrowserSession, type BrowserSession } from './pages/browser-session';

// The Workloads view against a real lab device: its dockerd runs a ticking container, reached over SSH from
// the technician netns this test runs in (`bash tests/lab/in-lab.sh npx vitest run --project e2e tests/e2e/workloads.test.ts`).
const IMAGE = 'outpost/busybox:lab';
const CONTAINER = 'ticker';
const TIMEOUT = 30_000;
// Nothing answers there: in the lab subnet, no device was given this address.
const DEAD_ADDRESS = '10.213.0.250';

/** The Workloads view: connection settings, per-device container lists, the container detail and its tabs. */
class WorkloadsPage {
  constructor(readonly page: Page) {}

  async setIdentityFile(path: string): Promise<void> {
    await this.page.getByTestId('link-override-open').click();
    await this.page.getByTestId('link-identity').fill(path);
    await this.page.getByTestId('link-apply').click();
  }

  deviceSection(name: string): Locator {
    return this.page.locator(`[data-testid="device-containers"][data-device="${name}"]`);
  }

  containerRow(device: string, container: string): Locator {
    return this.deviceSection(device)
      .getByTestId('container-row')
      .filter({ has: this.page.getByTestId('container-name').getByText(container, { exact: true }) });
  }

  get detail(): Locator {
    return this.page.getByTestId('container-detail');
  }

  async openTab(tab: 'logs' | 'stats' | 'events' | 'inspect' | 'shell'): Promise<void> {
    await this.page.getByTestId(`detail-tab-${tab}`).click();
  }

  /** Waits until `check` holds for the value read from the page; polls, never sleeps a fixed time. */
  async until<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + TIMEOUT;
    let last: T = await read();
    while (!check(last)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
      await this.page.waitForTimeout(100);
      last = await read();
    }
    return last;
  }

  async shot(name: string): Promise<void> {
    if (await this.detail.isVisible()) await this.detail.scrollIntoViewIfNeeded();
    await this.page.screenshot({ path: join(ARTIFACTS, `workloads-${name}.png`) });
  }
}

describe('Workloads view against a real device', () => {
  let lab: Lab;
  let dev: LabDevice;
  let session: BrowserSession;
  let api: Api;
  let page: Page;
  let workloads: WorkloadsPage;
  let archive: string;

  beforeAll(async () => {
    lab = await startLab({ devices: [{ name: 'wl-1', docker: true }] });
    dev = lab.device('wl-1');
    await importBusyboxImage(dev, IMAGE);
    const engine = new Docker({ socketPath: dev.dockerSocketHostPath });
    const container = await engine.createContainer({
      name: CONTAINER,
      Image: IMAGE,
      Cmd: ['sh', '-c', 'while true; do echo tick; sleep 1; done'],
      HostConfig: { NetworkMode: 'host' },
    });
    await container.start();

    session = await openBrowserSession({
      viewport: { width: 1360, height: 900 },
      seed: async (seedApi, home) => {
        // The archive a technician would carry on a USB stick: `docker save` of the image.
        archive = join(home, 'busybox-lab.tar');
        await pipeline(await engine.getImage(IMAGE).get(), createWriteStream(archive));
        await seedApi.invoke('devices:add', { name: dev.name, host: dev.ip });
        await seedApi.invoke('devices:add', { name: 'dead-gateway', host: DEAD_ADDRESS });
        // The technician compared the fingerprint with the device's label: pin exactly that key.
        await seedApi.invoke('trust:pin', { device: dev.name, fingerprint: dev.hostKeyFingerprint, yes: true });
      },
    });
    ({ api, page } = session);
    workloads = new WorkloadsPage(page);
    await session.shell.goTo('workloads');
    await workloads.setIdentityFile(lab.clientKeyPath);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await session?.close();
    await lab?.teardown();
  });

  it('lists the running container, and shows the dead device by its error kind without blanking the list', async () => {
    const row = workloads.containerRow(dev.name, CONTAINER);
    await row.waitFor({ timeout: TIMEOUT });
    expect(await row.getByTestId('container-state').textContent()).toBe('running');
    expect(await row.textContent()).toContain(IMAGE);

    const dead = workloads.deviceSection('dead-gateway');
    await dead.waitFor({ timeout: TIMEOUT });
    expect(await dead.getAttribute('data-ok')).toBe('false');
    const kind = (await dead.getByTestId('device-error-kind').textContent())?.trim();
    expect(['unreachable', 'timeout']).toContain(kind);
    expect(await dead.getByTestId('device-error').textContent()).toContain(DEAD_ADDRESS);
    // The healthy device's list is still there beside the dead one.
    expect(await row.isVisible()).toBe(true);
    await workloads.shot('containers');
  });

  it('follows the container logs', async () => {
    await workloads.containerRow(dev.name, CONTAINER).click();
    await workloads.detail.waitFor({ timeout: TIMEOUT });
    await workloads.openTab('logs');
    const lines = page.getByTestId('log-line');
    await lines.filter({ hasText: 'tick' }).first().waitFor({ timeout: TIMEOUT });
    const before = await lines.count();
    // Following, not a one-off read: new ticks keep arriving.
    await workloads.until(() => lines.count(), (n) => n > before, 'more log lines');
    expect(await page.getByTestId('follow-live').textContent()).toBe('following');
    await workloads.shot('logs');
  });

  it('plots live stats that grow with each sample', async () => {
    await workloads.openTab('stats');
    const plot = page.getByTestId('plot-cpu');
    await plot.locator('canvas').waitFor({ timeout: TIMEOUT });
    for (const id of ['plot-memory', 'plot-network']) expect(await page.getByTestId(id).locator('canvas').count()).toBe(1);
    const points = () => plot.getAttribute('data-points').then(Number);
    const first = await workloads.until(points, (n) => n >= 2, 'two stats samples');
    await workloads.until(points, (n) => n > first, 'a further stats sample');
    expect(await page.getByTestId('stats-error').count()).toBe(0);
    await workloads.shot('stats');
  });

  it('lists the engine events for the container', async () => {
    await workloads.openTab('events');
    const start = page.getByTestId('event-row').filter({ hasText: 'start' });
    await start.first().waitFor({ timeout: TIMEOUT });
    await workloads.shot('events');
  });

  it('shows the container inspect as JSON', async () => {
    await workloads.openTab('inspect');
    const json = page.getByTestId('inspect-json');
    await json.getByText(`"Name": "/${CONTAINER}"`).waitFor({ timeout: TIMEOUT });
    expect(await json.textContent()).toContain('"NetworkMode": "host"');
    await workloads.shot('inspect');
  });

  it('opens a shell in the container and runs hostname in the terminal', async () => {
    await workloads.openTab('shell');
    const terminal = page.locator('[data-testid="terminal"][data-state="open"]');
    await terminal.waitFor({ timeout: TIMEOUT });
    const screen = page.getByTestId('terminal-screen');
    const text = () => screen.locator('.xterm-rows').innerText();
    await workloads.until(text, (t) => t.includes('#'), 'the shell prompt');
    await screen.click();
    await page.keyboard.type('hostname\n');
    // Host networking shares the device's UTS namespace, so the container answers with the device's hostname.
    await workloads.until(text, (t) => t.split('\n').some((line) => line.trim() === dev.hostname), `"${dev.hostname}" in the terminal`);
    await workloads.shot('shell');
    // One terminal, one session on the core.
    const sessions = () => api.invoke('sessions:list', {});
    await workloads.until(sessions, (list) => list.length === 1, 'exactly one open session');
    expect((await sessions())[0]).toMatchObject({ kind: 'docker-exec', title: `${dev.name} · ${CONTAINER}`, paused: false });

    // Leaving the tab ends the session on the device.
    await workloads.openTab('inspect');
    await workloads.until(sessions, (list) => list.length === 0, 'the session to close');
  });

  it('imports an image archive into the cache and verifies it', async () => {
    await page.getByTestId('workloads-tab-images').click();
    await page.getByTestId('image-import-path').fill(archive);
    await page.getByTestId('image-import').click();
    const row = page.getByTestId('image-row').filter({ hasText: IMAGE });
    await row.waitFor({ timeout: TIMEOUT });
    await page.getByTestId('image-verify-all').click();
    await row.getByText('intact').waitFor({ timeout: TIMEOUT });
    await workloads.shot('images');
  });

  it('previews a deploy with the edge defaults and the bytes to send, then rolls it out', async () => {
    await page.getByTestId('workloads-tab-deploy').click();
    await page.getByTestId('deploy-devices').click();
    await page.getByRole('option', { name: dev.name }).click();
    await page.keyboard.press('Escape');
    const compose = `services:\n  beacon:\n    image: ${IMAGE}\n    command: ["sh", "-c", "while true; do echo beacon; sleep 1; done"]\n    network_mode: host\n`;
    await page.getByTestId('deploy-compose').fill(compose);
    await workloads.shot('deploy');
    await page.getByTestId('deploy-preview').click();
    const plan = page.getByTestId('deploy-plan');
    await plan.waitFor({ timeout: TIMEOUT });
    expect(await page.getByTestId('deploy-defaults').locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('deploy-transfer-plan').textContent()).toContain('beacon');
    await workloads.shot('deploy-plan');

    await page.getByTestId('deploy-start').click();
    const steps = page.getByTestId('rollout-steps');
    await steps.getByText('done', { exact: true }).waitFor({ timeout: 90_000 });
    await workloads.shot('deploy-rollout');

    await page.getByTestId('workloads-tab-history').click();
    await page.getByTestId('history-row').filter({ hasText: 'beacon' }).first().waitFor({ timeout: TIMEOUT });
    await workloads.shot('history');

    await page.getByTestId('workloads-tab-containers').click();
    await workloads.containerRow(dev.name, 'beacon').waitFor({ timeout: TIMEOUT });
  });

  it('a rollout a dockerd crash interrupted: the banner says what reconcile will do, and Reconcile settles it', async () => {
    const device = (await api.invoke('devices:list', {})).find((d) => d.name === dev.name)!;
    const compose = `services:\n  beacon:\n    image: ${IMAGE}\n    command: ["sh", "-c", "while true; do echo beacon 2; sleep 1; done"]\n    network_mode: host\n`;
    const off = api.on('workloads:rollout', (r) => {
      if (r.service === 'beacon' && r.phase === 'new-started') void dev.killDocker('SIGKILL');
    });
    const link = { identityFile: lab.clientKeyPath };
    const interrupted = await api.invoke('workloads:deploy', { devices: [device.id], compose: { text: compose, name: 'compose.yml' }, link, healthTimeoutMs: 20_000 }).finally(off);
    expect(interrupted.results[0]).toMatchObject({ ok: false, error: { kind: 'unreachable' } });

    await page.getByTestId('workloads-tab-containers').click();
    const banner = page.locator(`[data-testid="pending-rollout"][data-device="${dev.name}"]`);
    await banner.waitFor({ timeout: TIMEOUT });
    expect(await banner.locator('[data-service="beacon"]').getAttribute('data-resolution')).toBe('undo');
    await banner.screenshot({ path: join(ARTIFACTS, 'workloads-pending-rollout.png') });
    // The engine is still down: reconcile cannot settle it yet, and says why.
    await banner.getByTestId('pending-rollout-reconcile').click();
    await page.getByTestId('notice-error').filter({ hasText: `Could not reconcile ${dev.name}` }).first().waitFor({ timeout: TIMEOUT });
    expect(await banner.isVisible()).toBe(true);

    await dev.startDocker();
    // Outpost may settle it by itself first (it retries while one is pending); either way the banner goes.
    await banner.getByTestId('pending-rollout-reconcile').click({ timeout: 2000 }).catch(() => undefined);
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    const [last] = await api.invoke('workloads:history', { device: device.id, limit: 1 });
    expect(last).toMatchObject({ service: 'beacon', phase: 'rolled-back', message: expect.stringMatching(/^reconciled: /) });
    await workloads.containerRow(dev.name, 'beacon').waitFor({ timeout: TIMEOUT });
  });

  it('logged no page errors', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
