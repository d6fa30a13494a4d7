import type { Locator, Page } from 'playwright-core';

const TIMEOUT = 15_000;

/** The Devices view: scan controls, filters, the inventory table, "Add by hand", and the device drawer. */
export class DevicesPage {
  constructor(readonly page: Page) {}

  get table(): Locator {
    return this.page.getByTestId('devices-table');
  }

  row(name: string): Locator {
    return this.page.getByTestId('device-row').filter({ has: this.page.getByTestId('device-name').getByText(name, { exact: true }) });
  }

  /** The row listing this address (names of swept devices are chosen by the core, addresses are facts). */
  rowByAddress(ip: string): Locator {
    return this.page.getByTestId('device-row').filter({ has: this.page.getByText(ip, { exact: true }) });
  }

  async waitForDevice(name: string): Promise<Locator> {
    const row = this.row(name);
    await row.waitFor({ timeout: TIMEOUT });
    return row;
  }

  async waitForNoDevice(name: string): Promise<void> {
    await this.row(name).waitFor({ state: 'detached', timeout: TIMEOUT });
  }

  async deviceNames(): Promise<string[]> {
    return (await this.page.getByTestId('device-name').allTextContents()).map((t) => t.trim());
  }

  async search(query: string): Promise<void> {
    await this.page.getByTestId('devices-search').fill(query);
  }

  async addDevice(name: string, target: string): Promise<void> {
    await this.page.getByTestId('add-device-open').click();
    const form = this.page.getByTestId('add-device-form');
    await form.waitFor({ timeout: TIMEOUT });
    await this.page.getByTestId('add-device-name').fill(name);
    await this.page.getByTestId('add-device-target').fill(target);
    await this.page.getByTestId('add-device-submit').click();
    // The form closes once the core has accepted the device.
    await form.waitFor({ state: 'detached', timeout: TIMEOUT });
  }

  /** Source badges of a row, as the contract spells them (mdns, sweep, serial, manual). */
  async sources(row: Locator): Promise<string[]> {
    const badges = row.getByTestId('device-source');
    return (await badges.evaluateAll((els) => els.map((e) => e.getAttribute('data-source') ?? ''))).sort();
  }

  /** Types into a Mantine TagsInput and commits each value with Enter. */
  async fillTags(testId: string, values: string[]): Promise<void> {
    const input = this.page.getByTestId(testId);
    for (const v of values) {
      await input.fill(v);
      await input.press('Enter');
    }
  }

  /** Mantine marks its clear buttons aria-hidden (the keyboard clears with Backspace), so find them by label. */
  async clearFilter(which: 'source' | 'state' | 'tag'): Promise<void> {
    await this.page.locator(`button[aria-label="Clear the ${which} filter"]`).click();
  }

  /** Runs a scan from the scan panel and waits until it has finished. */
  async scan(opts: { cidrs?: string[]; interfaces?: string[] }): Promise<void> {
    if (opts.cidrs) await this.fillTags('scan-cidrs', opts.cidrs);
    if (opts.interfaces) {
      await this.page.getByTestId('scan-options-toggle').click();
      await this.fillTags('scan-interfaces', opts.interfaces);
    }
    const start = this.page.getByTestId('scan-start');
    await start.click();
    await this.page.getByTestId('scan-summary').waitFor({ timeout: 60_000 });
  }

  async scanProgress(): Promise<{ done: number; total: number; text: string }> {
    const bar = this.page.getByTestId('scan-progress');
    return {
      done: Number(await bar.getAttribute('data-done')),
      total: Number(await bar.getAttribute('data-total')),
      text: ((await bar.textContent()) ?? '').trim(),
    };
  }

  get drawer(): Locator {
    return this.page.getByTestId('device-detail');
  }

  async openDevice(row: Locator): Promise<Locator> {
    await row.getByTestId('device-name').click();
    await this.drawer.waitFor({ timeout: TIMEOUT });
    return this.drawer;
  }

  async closeDrawer(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.drawer.waitFor({ state: 'detached', timeout: TIMEOUT });
  }

  async drawerText(testId: string): Promise<string> {
    return ((await this.drawer.getByTestId(testId).first().textContent()) ?? '').trim();
  }

  /** Opens "Trust / Re-pin", returns the fingerprint the dialog shows, confirms and pins it. */
  async trustHostKey(): Promise<{ offered: string; dialog: Locator }> {
    await this.drawer.getByTestId('trust-open').click();
    const dialog = this.page.getByRole('dialog').filter({ has: this.page.getByTestId('trust-offered') });
    await dialog.waitFor({ timeout: TIMEOUT });
    const offered = ((await dialog.getByTestId('trust-offered').textContent()) ?? '').trim();
    return { offered, dialog };
  }

  /** Confirms and pins; a changed key also needs its new fingerprint typed (or pasted) into the dialog. */
  async confirmPin(dialog: Locator, typedFingerprint?: string): Promise<void> {
    await dialog.getByTestId('trust-confirm-check').check();
    if (typedFingerprint !== undefined) await dialog.getByTestId('trust-typed-fingerprint').fill(typedFingerprint);
    await dialog.getByTestId('trust-pin').click();
    await dialog.waitFor({ state: 'detached', timeout: TIMEOUT });
  }

  /** Runs "Regenerate host keys…" from the open drawer; returns the new fingerprint the dialog reports. */
  async regenerateHostKeys(identityFile?: string): Promise<string> {
    await this.drawer.getByTestId('regenerate-open').click();
    const dialog = this.page.getByRole('dialog').filter({ has: this.page.getByTestId('regenerate-run') });
    await dialog.waitFor({ timeout: TIMEOUT });
    if (identityFile) await dialog.getByTestId('regenerate-identity').fill(identityFile);
    await dialog.getByTestId('regenerate-run').click();
    const result = this.page.getByTestId('regenerate-new');
    const failed = this.page.getByTestId('notice-error');
    await result.or(failed).first().waitFor({ timeout: 60_000 });
    if (!(await result.isVisible())) throw new Error(`regenerating host keys failed: ${(await failed.first().textContent()) ?? ''}`);
    const fingerprint = ((await result.textContent()) ?? '').trim();
    await this.page.getByRole('dialog').getByRole('button', { name: 'Done' }).click();
    return fingerprint;
  }
}
