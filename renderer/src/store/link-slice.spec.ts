import { describe, expect, it } from 'vitest';
import { OutpostError } from '../../../shared/errors';
import { connectStore, createOutpostStore } from './index';
import { memoryStorage, ScriptedApi } from './scripted-api';

describe('site link defaults in the store', () => {
  it('loads them at start, follows the core event, saves a change and reports a refused one', async () => {
    const api = new ScriptedApi().answer('link:defaults', { user: 'pi' }).answer('link:defaults-set', (change) => ({ user: change.user ?? undefined, port: change.port ?? undefined }));
    const store = createOutpostStore({ api, storage: memoryStorage(), refreshDelayMs: 0 });
    connectStore(store, { api });
    await expect.poll(() => store.getState().siteLinkDefaults).toEqual({ user: 'pi' });
    api.emit('link:defaults-changed', { user: 'admin', port: 2222 });
    expect(store.getState().siteLinkDefaults).toEqual({ user: 'admin', port: 2222 });

    expect(await store.getState().saveSiteLinkDefaults({ user: 'tech', port: null })).toBe(true);
    expect(api.argsOf('link:defaults-set')).toEqual([{ user: 'tech', port: null }]);
    expect(store.getState().siteLinkDefaults).toEqual({ user: 'tech', port: undefined });

    api.answer('link:defaults-set', new OutpostError('invalid-input', 'no key file at /nope on this laptop'));
    expect(await store.getState().saveSiteLinkDefaults({ identityFile: '/nope' })).toBe(false);
    expect(store.getState().notices.at(-1)).toMatchObject({ tone: 'error', title: 'Site defaults not saved', kind: 'invalid-input' });
  });
});
