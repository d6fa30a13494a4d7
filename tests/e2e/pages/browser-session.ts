import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createCore, inProcessApi, type Core } from '../../../electron/core/app';
import { defaultDataDir } from '../../../electron/core/config';
import { startBridge, type Bridge } from '../../../electron/server/bridge';
import type { Api } from '../../../shared/contract';
import { ensureRendererBuilt } from '../support/renderer-build';
import { ShellPage } from './shell-page';

const CHROMIUM = process.env.OUTPOST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));

/** The app as a technician sees it in browser mode: a throw-away data dir, the core in this process, the bridge, Chromium. */
export interface BrowserSession {
  home: string;
  core: Core;
  api: Api;
  bridge: Bridge;
  browser: Browser;
  page: Page;
  shell: ShellPage;
  /** Page errors and console errors seen so far (CSP violations included). */
  pageErrors: string[];
  /** Every URL the page requested or opened a WebSocket to, from the first load on. */
  requestedUrls: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface BrowserSessionOptions {
  viewport?: { width: number; height: number };
  /** Runs once the core is up and before the page first loads: what the core should already know (devices, pinned keys, files in `home`). */
  seed?: (api: Api, home: string, core: Core) => Promise<void>;
}

export async function openBrowserSession(opts: BrowserSessionOptions = {}): Promise<BrowserSession> {
  const staticDir = ensureRendererBuilt();
  const home = mkdtempSync(join(tmpdir(), 'outpost-e2e-'));
  process.env.OUTPOST_HOME = home;
  const core = createCore({ dataDir: defaultDataDir(), transport: 'browser' });
  const api = inProcessApi(core);
  let bridge: Bridge | undefined;
  let browser: Browser | undefined;
  // Also what a failed start calls, so a test whose beforeAll threw leaves no core, bridge or Chromium behind.
  const close = async () => {
    await browser?.close();
    await bridge?.close();
    await core.close();
    rmSync(home, { recursive: true, force: true });
    delete process.env.OUTPOST_HOME;
  };
  try {
    await opts.seed?.(api, home, core);
    bridge = await startBridge({ core, staticDir });
    // As `outpost serve` does once it serves: the rest of the services start (the upstream check among them).
    await core.loadAll();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1440, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    const requestedUrls: string[] = [];
    page.on('request', (request) => requestedUrls.push(request.url()));
    page.on('websocket', (socket) => requestedUrls.push(socket.url()));
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    const shell = new ShellPage(page);
    await shell.open(bridge.urlWithToken);
    return {
      home,
      core,
      api,
      bridge,
      browser,
      page,
      shell,
      pageErrors,
      requestedUrls,
      async screenshot(name) {
        mkdirSync(ARTIFACTS, { recursive: true });
        // Drawers and modals slide in: shoot once every CSS transition has settled, not mid-flight.
        // Endless ones (striped progress bars, spinners) never settle and are left alone.
        await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity), undefined, { timeout: 10_000 });
        await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
