import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { META_CONTENT_SECURITY_POLICY } from './electron/core/csp';

const rendererRoot = fileURLToPath(new URL('./renderer/', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/renderer/', import.meta.url));

/** The built index.html carries the CSP itself, so the policy holds even where no header is sent (a file:// copy). */
function contentSecurityPolicyMeta(): Plugin {
  return {
    name: 'outpost-csp-meta',
    apply: 'build', // the dev server's HMR preamble is an inline script; the policy is for what ships
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: META_CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  };
}

// Everything is bundled: the app must work with the network unplugged and under a CSP that forbids remote
// code, so no CDN links, no web fonts (a system font stack), relative asset URLs for file:// in Electron.
export default defineConfig({
  root: rendererRoot,
  base: './',
  publicDir: false,
  plugins: [contentSecurityPolicyMeta(), react()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // A single-page desktop app: one chunk loads from disk in milliseconds, so splitting only adds noise.
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships `@__PURE__` comments in places Rollup ignores; harmless, and not ours to fix.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
  server: { host: '127.0.0.1', strictPort: false },
});
