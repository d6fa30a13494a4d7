import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { OutpostState, OutpostStore } from './index';

const StoreContext = createContext<OutpostStore | null>(null);

export function StoreProvider({ store, children }: { store: OutpostStore; children: ReactNode }) {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

/** Components read with selectors and write through actions; never the whole state. */
export function useOutpost<T>(selector: (state: OutpostState) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useOutpost outside <StoreProvider>');
  return useStore(store, selector);
}
