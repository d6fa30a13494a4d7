import type { Locator, Page } from 'playwright-core';

const TIMEOUT = 15_000;

/** The Devices view: inventory table, search box, "Add device" form. */
export class DevicesPage {
  constructor(readonly page: Page) {}

  get table(): Locator {
    return this.page.getByTestId('devices-table');
  }

  row(name: string): Locator {
    return this.page.getByTestId('device-row').filter({ has: this.page.getByTestId('device-name').getByText(name, { exact: true }) });
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
}
