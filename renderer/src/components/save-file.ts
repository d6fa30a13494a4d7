declare global {
  interface Window {
    /** Desktop-only calls from the Electron preload (absent in browser mode). */
    outpostDesktop?: { chooseSavePath(suggestedName: string): Promise<string | null> };
  }
}

/** The desktop app's "save as" dialog: a path, null when cancelled; undefined in browser mode (download instead). */
export async function chooseSavePath(suggestedName: string): Promise<string | null | undefined> {
  return window.outpostDesktop ? window.outpostDesktop.chooseSavePath(suggestedName) : undefined;
}

/** Hands bytes to the browser as a download (browser mode). */
export function downloadBase64(name: string, base64: string, type: string): void {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** `gw-1-support-20261130-1412.zip`: the device's name made safe for a file name, and the local time. */
export function bundleFileName(deviceName: string, now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
  const base = deviceName.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'device';
  return `${base}-support-${stamp}.zip`;
}
