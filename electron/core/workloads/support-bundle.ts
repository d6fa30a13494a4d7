import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { ZipFile } from 'yazl';

const SECRET_NAME = /(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|auth|access[_-]?key|session|cookie|signature|^key$|_key$)/i;
export const REDACTED = '«redacted»';

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Redacts `NAME=value` env entries and JSON values whose key looks like a secret, at any depth. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => {
      if (typeof v === 'string') {
        const eq = v.indexOf('=');
        if (eq > 0 && looksSecret(v.slice(0, eq))) return `${v.slice(0, eq)}=${REDACTED}`;
      }
      return redact(v);
    });
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, looksSecret(k) && (typeof v === 'string' || typeof v === 'number') ? REDACTED : redact(v)]));
  }
  return value;
}

/** Free text (logs): `password=hunter2`, `TOKEN: abc`, `Authorization: Bearer x` lose their values. */
export function redactText(text: string): string {
  return text
    .replace(/\b([A-Za-z0-9_.-]*(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|access[_-]?key)[A-Za-z0-9_.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, `$1$2${REDACTED}`)
    .replace(/\b(Authorization:\s*\w+\s+)\S+/gi, `$1${REDACTED}`)
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED);
}

export interface BundleEntry {
  name: string;
  body: string | Buffer;
}

/** Writes a zip for offline hand-off; every text entry passes through the redactor. */
export async function writeBundle(out: string, entries: BundleEntry[]): Promise<{ path: string; entries: string[]; bytes: number }> {
  const zip = new ZipFile();
  const mtime = new Date();
  for (const e of entries) {
    const body = typeof e.body === 'string' ? Buffer.from(redactText(e.body)) : e.body;
    zip.addBuffer(body, e.name, { mtime });
  }
  zip.end();
  const sink = createWriteStream(out, { mode: 0o600 });
  zip.outputStream.pipe(sink);
  await once(sink, 'close');
  return { path: out, entries: entries.map((e) => e.name), bytes: existsSync(out) ? statSync(out).size : 0 };
}
