import type { Locator, Page } from 'playwright-core';

const TIMEOUT = 15_000;

/** The Buffers view: devices' spools (scan, flush, progress, results), the laptop store, the upstream queue. */
export class BuffersPage {
  constructor(readonly page: Page) {}

  row(name: string): Locator {
    return this.page.getByTestId('buffers-row').filter({ has: this.page.getByTestId('buffers-device-name').getByText(name, { exact: true }) });
  }

  async setIdentityFile(path: string): Promise<void> {
    await this.page.getByTestId('link-override-open').click();
    await this.page.getByTestId('link-identity').fill(path);
    await this.page.getByTestId('link-apply').click();
  }

  async select(names: string[]): Promise<void> {
    for (const name of names) await this.row(name).getByTestId('buffers-select').check();
  }

  async scanSelected(): Promise<void> {
    await this.page.getByTestId('buffers-scan').click();
  }

  /** Waits for the row's scan to show a result (a tally or an error) and returns it. */
  async waiting(name: string): Promise<{ segments: number; bytes: number; text: string }> {
    const cell = this.row(name).getByTestId('buffers-waiting');
    await cell.waitFor({ timeout: 60_000 });
    return { segments: Number(await cell.getAttribute('data-segments')), bytes: Number(await cell.getAttribute('data-bytes')), text: (await cell.textContent()) ?? '' };
  }

  async rowError(name: string): Promise<string> {
    const cell = this.row(name).getByTestId('buffers-error');
    await cell.waitFor({ timeout: 60_000 });
    return (await cell.textContent()) ?? '';
  }

  async startFlush(): Promise<void> {
    await this.page.getByTestId('buffers-flush').click();
  }

  async flushResults(): Promise<Locator> {
    const results = this.page.getByTestId('flush-results');
    await results.waitFor({ timeout: 120_000 });
    return results;
  }

  /** Waits until one of the device's stream bars shows a transfer under way (some bytes moved, not all) and returns its text. */
  async midFlight(name: string): Promise<string> {
    const handle = await this.page.waitForFunction(
      (device) => {
        const row = [...document.querySelectorAll('[data-testid="buffers-row"]')].find((r) => r.querySelector('[data-testid="buffers-device-name"]')?.textContent === device);
        const moving = [...(row?.querySelectorAll('[data-testid="flush-progress-stream"]') ?? [])].find((e) => {
          const done = Number(e.getAttribute('data-bytes-done'));
          return done > 0 && done < Number(e.getAttribute('data-bytes-total'));
        });
        return moving?.textContent ?? false;
      },
      name,
      { timeout: 60_000, polling: 50 },
    );
    return String(await handle.jsonValue());
  }

  /** Per-stream progress bars of a device row: stream label → bytes done / total. */
  async streamProgress(name: string): Promise<Array<{ label: string; done: number; total: number; text: string }>> {
    const bars = this.row(name).getByTestId('flush-progress-stream');
    const out: Array<{ label: string; done: number; total: number; text: string }> = [];
    for (const bar of await bars.all()) {
      const text = ((await bar.textContent()) ?? '').trim();
      out.push({ label: (await bar.getAttribute('data-label')) ?? '', done: Number(await bar.getAttribute('data-bytes-done')), total: Number(await bar.getAttribute('data-bytes-total')), text });
    }
    return out.sort((a, b) => a.label.localeCompare(b.label));
  }

  async openTab(tab: 'devices' | 'store' | 'upstream'): Promise<void> {
    await this.page.getByTestId(`buffers-tab-${tab}`).click();
  }

  async storeSegments(): Promise<Array<{ stream: string; segment: string }>> {
    const rows = this.page.getByTestId('store-row');
    await rows.first().waitFor({ timeout: TIMEOUT });
    return rows.evaluateAll((els) => els.map((e) => ({ stream: e.getAttribute('data-stream') ?? '', segment: e.getAttribute('data-segment') ?? '' })));
  }

  async preview(segment: string): Promise<{ format: string; lines: string }> {
    await this.page.locator(`[data-testid="store-row"][data-segment="${segment}"]`).click();
    const preview = this.page.getByTestId('segment-preview');
    await preview.getByTestId('segment-preview-format').waitFor({ timeout: TIMEOUT });
    await preview.getByText(segment, { exact: false }).first().waitFor({ timeout: TIMEOUT });
    return {
      format: ((await preview.getByTestId('segment-preview-format').textContent()) ?? '').trim(),
      lines: (await preview.getByTestId('segment-preview-lines').textContent()) ?? '',
    };
  }

  /** Store tab: runs a dry run for the prune form as it stands and returns the plan's counts. */
  async previewPrune(): Promise<{ segments: number; freed: number; kept: number; summary: string }> {
    await this.page.getByTestId('prune-preview').click();
    const plan = this.page.getByTestId('prune-plan');
    await plan.waitFor({ timeout: TIMEOUT });
    return {
      segments: Number(await plan.getAttribute('data-segments')),
      freed: Number(await plan.getAttribute('data-freed')),
      kept: Number(await plan.getAttribute('data-kept')),
      summary: (await this.page.getByTestId('prune-summary').textContent()) ?? '',
    };
  }

  async confirmPrune(): Promise<void> {
    await this.page.getByTestId('prune-confirm').click();
    await this.page.getByTestId('prune-plan').waitFor({ state: 'detached', timeout: TIMEOUT });
  }
}
