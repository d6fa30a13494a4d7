import type { SecretProtector } from './secrets/vault';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$OUTPOST_HOME`, else the OS's per-user app-data dir — the same for the app, the CLI and browser mode. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.OUTPOST_HOME) return env.OUTPOST_HOME;
  const home = homedir();
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Outpost');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Outpost');
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'Outpost');
}

export interface CoreConfig {
  dataDir: string;
  transport?: 'electron' | 'browser' | 'in-process';
  /** The OS keychain (Electron's safeStorage, injected by main.ts) to remember the vault passphrase in. */
  protector?: SecretProtector;
}
