import type { z } from 'zod';
import { areaOf, contractAreas, wholeContract, type ContractArea } from '../../shared/contract/areas';
import type { ChannelDef } from '../../shared/contract/define';

/**
 * The contract's schemas, loaded one area at a time on first use (shared/contract/areas.ts). Channel and event
 * names are looked up in their area's module; a name it does not define loads the whole contract once.
 */
export class ContractSchemas {
  private readonly channels = new Map<string, ChannelDef>();
  private readonly events = new Map<string, z.ZodType>();
  private readonly loading = new Map<string, Promise<void>>();

  private add(area: ContractArea): void {
    for (const [name, def] of Object.entries(area.channels)) this.channels.set(name, def);
    for (const [name, schema] of Object.entries(area.events)) this.events.set(name, schema);
  }

  private load(key: string, loader: () => Promise<ContractArea>): Promise<void> {
    let pending = this.loading.get(key);
    if (!pending) {
      pending = loader().then((area) => this.add(area));
      pending.catch(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** Loads the areas a service serves, so its events validate synchronously. */
  async preload(areas: string[]): Promise<void> {
    await Promise.all(areas.map((a) => contractAreas[a] && this.load(`area:${a}`, contractAreas[a])));
  }

  async channel(name: string): Promise<ChannelDef | undefined> {
    if (!this.channels.has(name)) await this.loadFor(name);
    return this.channels.get(name);
  }

  /** The event's schema if its area is loaded already. */
  eventNow(name: string): z.ZodType | undefined {
    return this.events.get(name);
  }

  async event(name: string): Promise<z.ZodType | undefined> {
    if (!this.events.has(name)) await this.loadFor(name);
    return this.events.get(name);
  }

  private async loadFor(name: string): Promise<void> {
    const area = areaOf(name);
    const loader = Object.hasOwn(contractAreas, area) ? contractAreas[area] : undefined;
    if (loader) await this.load(`area:${area}`, loader);
    if (!this.channels.has(name) && !this.events.has(name)) await this.load('whole', wholeContract);
  }
}
