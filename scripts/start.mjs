#!/usr/bin/env node
// `npm start`: the Electron app when its binary is installed, else browser mode (`outpost serve`) on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The Electron binary's path, or null. Deliberately not `require('electron')`: since Electron 45 that call
 * downloads the binary when it is missing, which on an offline laptop hangs on the network and then throws.
 */
function electronBinary() {
  try {
    const pkgDir = dirname(require.resolve('electron/package.json'));
    const pathFile = join(pkgDir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const binary = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Same rule as tests/e2e/support/renderer-build.ts: rebuild when dist is missing or older than its sources. */
function rendererIsStale() {
  const index = join(root, 'dist', 'renderer', 'index.html');
  if (!existsSync(index)) return true;
  const sources = ['renderer', 'shared', 'resources', 'vite.config.ts'].map((p) => join(root, p)).filter((p) => existsSync(p));
  return statSync(index).mtimeMs < Math.max(...sources.map(newestMtime));
}

function runOrExit(args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function viteBuild() {
  runOrExit([join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js'), 'build']);
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/** The command that opens a URL in the user's browser, or null when there is no desktop to open it on. */
function browserOpener() {
  if (process.env.OUTPOST_NO_BROWSER) return null;
  if (process.platform === 'darwin') return ['open'];
  if (process.platform === 'win32') return ['cmd', '/c', 'start', '""'];
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return null;
  return onPath('xdg-open') ? ['xdg-open'] : null;
}

/** Runs the child until it exits, forwarding Ctrl+C and termination to it exactly once. */
function supervise(child) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function startElectron(binary) {
  viteBuild();
  runOrExit([join(root, 'scripts', 'build-electron.mjs')]);
  supervise(spawn(binary, [root], { cwd: root, stdio: 'inherit' }));
}

function startBrowserMode() {
  console.log('Electron binary is not available; starting browser mode instead (outpost serve).');
  if (rendererIsStale()) viteBuild();
  const opener = browserOpener();
  // Own process group (not on Windows), so the terminal's Ctrl+C reaches the server once, through us.
  const child = spawn(process.execPath, [join(root, 'bin', 'outpost.mjs'), 'serve'], {
    cwd: root,
    stdio: ['ignore', opener ? 'pipe' : 'inherit', 'inherit'],
    detached: process.platform !== 'win32',
  });
  if (opener && child.stdout) {
    let opened = false;
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const url = !opened && /https?:\/\/127\.0\.0\.1:\d+\/\S*/.exec(String(chunk))?.[0];
      if (!url) return;
      opened = true;
      const [command, ...args] = opener;
      spawn(command, [...args, url], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
    });
  }
  supervise(child);
}

const binary = electronBinary();
if (binary) startElectron(binary);
else startBrowserMode();
