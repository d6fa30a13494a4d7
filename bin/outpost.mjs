#!/usr/bin/env node
// Runs the TypeScript CLI straight from a checkout (tsx registers the loader); `npm run build` is not needed.
import { register } from 'tsx/esm/api';

register();
await import('../electron/cli/main.ts');
