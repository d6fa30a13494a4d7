import type { Locator, Page } from 'playwright-core';

export const VIEW_IDS = ['devices', 'certificates', 'buffers', 'workloads', 'latency', 'console', 'settings'] as const;
export type ViewId = (typeof VIEW_IDS)[number];

const TIMEOUT = 15_000;

/** The app frame: sidebar, status bar, theme toggle. Views hang off it. */
export class ShellPage {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.getByTestId('shell').waitFor({ timeout: TIMEOUT });
    // The status bar says "connecting…" until app:info has come back over the WebSocket.
    await this.page.locator('[data-testid="status-online"]:not([data-online="unknown"])').waitFor({ timeout: TIMEOUT });
  }

  get title(): Locator {
    return this.page.getByTestId('app-title');
  }

  // textContent, not innerText: badges are upper-cased by CSS, and the words are what we assert on.
  async onlineStatus(): Promise<string> {
    return this.text('status-online');
  }

  async dataDir(): Promise<string> {
    return this.text('status-datadir');
  }

  async transport(): Promise<string> {
    return this.text('status-transport');
  }

  private async text(testId: string): Promise<string> {
    return ((await this.page.getByTestId(testId).textContent()) ?? '').trim();
  }

  /** Clicks the sidebar entry and returns the view's section once it is shown. */
  async goTo(view: ViewId): Promise<Locator> {
    await this.page.getByTestId(`nav-${view}`).click();
    const section = this.page.getByTestId(`view-${view}`);
    await section.waitFor({ timeout: TIMEOUT });
    return section;
  }

  async isNavActive(view: ViewId): Promise<boolean> {
    return (await this.page.getByTestId(`nav-${view}`).getAttribute('aria-current')) === 'page';
  }

  async toggleTheme(): Promise<void> {
    const before = await this.colorScheme();
    await this.page.getByTestId('theme-toggle').click();
    await this.page.waitForFunction((prev) => document.documentElement.getAttribute('data-mantine-color-scheme') !== prev, before, { timeout: TIMEOUT });
  }

  async colorScheme(): Promise<string | null> {
    return this.page.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme'));
  }
}
