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
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowserSession(opts: { viewport?: { width: number; height: number } } = {}): Promise<BrowserSession> {
  const staticDir = ensureRendererBuilt();
  const home = mkdtempSync(join(tmpdir(), 'outpost-e2e-'));
  process.env.OUTPOST_HOME = home;
  const core = createCore({ dataDir: defaultDataDir(), transport: 'browser' });
  const api = inProcessApi(core);
  const bridge = await startBridge({ core, staticDir });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1440, height: 900 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
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
    async screenshot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      // Drawers and modals slide in: shoot once every CSS transition has settled, not mid-flight.
      // Endless ones (striped progress bars, spinners) never settle and are left alone.
      await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity), undefined, { timeout: 10_000 });
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
    },
    async close() {
      await browser.close();
      await bridge.close();
      await core.close();
      rmSync(home, { recursive: true, force: true });
      delete process.env.OUTPOST_HOME;
    },
  };
}
