import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { CONTENT_SECURITY_POLICY } from '../core/csp';

// One way to serve the built renderer, used by both doors that show it: the browser-mode HTTP bridge and the
// Electron window's app:// protocol. Every answer carries the CSP, so the policy holds whichever door is used.

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.json': 'application/json',
  '.map': 'application/json',
};

export const RENDERER_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export type RendererFile =
  | { status: 200; file: string; headers: Record<string, string> }
  | { status: 400 | 404 | 503; message: string };

/**
 * Maps a URL path to a file under `root` (the built renderer). Paths that escape the root (`..`, encoded or not),
 * NUL bytes and malformed escapes are refused; an unknown path inside the root is the single page (index.html).
 */
export function resolveRendererFile(root: string, pathname: string): RendererFile {
  const base = resolve(root);
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return { status: 400, message: 'malformed path' };
  }
  if (rel.includes('\0')) return { status: 400, message: 'malformed path' };
  let file = resolve(join(base, rel));
  if (file !== base && !file.startsWith(base + sep)) return { status: 404, message: 'not found' };
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(base, 'index.html');
  if (!existsSync(file)) return { status: 503, message: 'Outpost: the renderer is not built yet; run `npm run build`.\n' };
  return { status: 200, file, headers: { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', ...RENDERER_HEADERS } };
}

/** The Electron door: a fetch-style Response for `protocol.handle` (only the bundled origin is served). */
export async function rendererResponse(root: string, requestUrl: string, origin: string): Promise<Response> {
  const url = new URL(requestUrl);
  if (`${url.protocol}//${url.host}` !== origin) return new Response('not found', { status: 404, headers: RENDERER_HEADERS });
  const found = resolveRendererFile(root, url.pathname);
  if (found.status !== 200) return new Response(found.message, { status: found.status, headers: { 'content-type': 'text/plain; charset=utf-8', ...RENDERER_HEADERS } });
  return new Response(await readFile(found.file), { status: 200, headers: found.headers });
}
