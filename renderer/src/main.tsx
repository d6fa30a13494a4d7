import '@mantine/core/styles.css';
import './shell.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { resolveApi } from './api';
import { Shell } from './shell';
import { connectStore, createOutpostStore } from './store';
import { StoreProvider } from './store/context';

const { api, transport } = resolveApi();
const store = createOutpostStore({ api, storage: window.localStorage, refreshDelayMs: 150 });
connectStore(store, { api });

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <StoreProvider store={store}>
      <Shell fallbackTransport={transport} />
    </StoreProvider>
  </StrictMode>,
);
