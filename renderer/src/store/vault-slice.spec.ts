import { describe, expect, it } from 'vitest';
import type { VaultStatus } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { createOutpostStore } from './index';
import { memoryStorage, ScriptedApi } from './scripted-api';

const locked: VaultStatus = { initialized: true, unlocked: false, source: null, keychainAvailable: true, remembered: false, laptopKey: 'encrypted', agent: false };

function setup() {
  const api = new ScriptedApi();
  const store = createOutpostStore({ api, storage: memoryStorage(), refreshDelayMs: 10 });
  return { api, store };
}

describe('vault slice', () => {
  it('unlocks through the core, keeps no passphrase in the store, and says "wrong passphrase" for kind auth', async () => {
    const { api, store } = setup();
    api.answer('vault:status', locked);
    await store.getState().loadVault();
    expect(store.getState().vault?.unlocked).toBe(false);

    store.getState().openUnlockDialog(true);
    api.answer('vault:unlock', new OutpostError('auth', 'wrong vault passphrase'));
    expect(await store.getState().unlockVault('tpyo', false)).toMatch(/Wrong passphrase/);
    expect(store.getState().unlockDialogOpen).toBe(true);

    api.answer('vault:unlock', ({ remember }) => ({ ...locked, unlocked: true, source: remember ? 'keychain' : 'session', remembered: Boolean(remember) }));
    expect(await store.getState().unlockVault('right one', true)).toBeNull();
    expect(api.argsOf('vault:unlock').at(-1)).toEqual({ passphrase: 'right one', remember: true });
    expect(store.getState()).toMatchObject({ unlockDialogOpen: false, vault: { unlocked: true, remembered: true } });
    expect(JSON.stringify(store.getState(), (key, value: unknown) => (key === 'workloadsApi' ? undefined : value))).not.toContain('right one');

    api.answer('vault:lock', (args) => ({ ...locked, remembered: !args?.forget }));
    await store.getState().lockVault(true);
    expect(api.argsOf('vault:lock')).toEqual([{ forget: true }]);
    expect(store.getState().vault).toMatchObject({ unlocked: false, remembered: false });
  });

  it('offers the unlock dialog when a call failed because the laptop key was locked away', () => {
    const { store } = setup();
    store.getState().reportError(new OutpostError('auth', "device 10.0.0.5 refused the key for user root (the laptop's own key is locked in the vault: unlock it in the app, …)"), 'Flush failed');
    expect(store.getState().unlockDialogOpen).toBe(true);
    store.getState().openUnlockDialog(false);
    store.getState().reportError(new OutpostError('unreachable', 'device 10.0.0.5 is unreachable'), 'Flush failed');
    expect(store.getState().unlockDialogOpen).toBe(false);
  });
});
