/** No remote code, no remote assets: everything the renderer needs is bundled. ws: for the browser-mode bridge. */
const DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
];

/** The policy sent as a response header by both doors that serve the renderer (app:// and browser mode). */
export const CONTENT_SECURITY_POLICY = DIRECTIVES.join('; ');

/**
 * The same policy for a `<meta http-equiv>` in the built index.html, so it holds however the page is loaded
 * (a copied file:// page gets no headers). Browsers ignore frame-ancestors in a meta policy, so it is left out there.
 */
export const META_CONTENT_SECURITY_POLICY = DIRECTIVES.filter((d) => !d.startsWith('frame-ancestors')).join('; ');

/**
 * The Electron window loads the bundled renderer from this privileged custom scheme (served by `protocol.handle`
 * with the CSP header), never from file://, so "our page" is one exact origin that no other file can claim.
 */
export const RENDERER_SCHEME = 'app';
export const RENDERER_ORIGIN = `${RENDERER_SCHEME}://outpost`;

/** True only for a URL of the bundled renderer's own origin. */
export function isRendererUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === RENDERER_ORIGIN;
  } catch {
    return false;
  }
}
