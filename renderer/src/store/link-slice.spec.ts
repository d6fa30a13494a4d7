import { describe, expect, it } from 'vitest';
import type { LinkDefaultsTable } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { connectStore, createOutpostStore } from './index';
import { memoryStorage, ScriptedApi } from './scripted-api';

describe('link defaults in the store', () => {
  it('loads them at start, follows the core event, saves a change and reports a refused one', async () => {
    let table: LinkDefaultsTable = { all: { user: 'pi' }, sites: {} };
    const api = new ScriptedApi()
      .answer('link:defaults-all', () => table)
      .answer('link:defaults-set', ({ site, user }) => {
        table = { ...table, sites: { ...table.sites, [site ?? '']: { user: user ?? undefined } } };
        return { user: user ?? undefined };
      });
    const store = createOutpostStore({ api, storage: memoryStorage(), refreshDelayMs: 0 });
    connectStore(store, { api });
    await expect.poll(() => store.getState().linkDefaults).toEqual({ all: { user: 'pi' }, sites: {} });
    api.emit('link:defaults-changed', { all: { user: 'admin', port: 2222 }, sites: {} });
    expect(store.getState().linkDefaults.all).toEqual({ user: 'admin', port: 2222 });

    expect(await store.getState().saveLinkDefaults({ site: 'plant-3', user: 'tech' })).toBe(true);
    expect(api.argsOf('link:defaults-set')).toEqual([{ site: 'plant-3', user: 'tech' }]);
    expect(store.getState().linkDefaults.sites['plant-3']).toEqual({ user: 'tech' });
    expect(store.getState().notices.at(-1)?.message).toMatch(/^Devices tagged site=plant-3 /);

    api.answer('link:defaults-set', new OutpostError('invalid-input', 'no key file at /nope on this laptop'));
    expect(await store.getState().saveLinkDefaults({ identityFile: '/nope' })).toBe(false);
    expect(store.getState().notices.at(-1)).toMatchObject({ tone: 'error', title: 'Site defaults not saved', kind: 'invalid-input' });
  });
});
