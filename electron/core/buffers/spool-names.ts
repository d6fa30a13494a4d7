import type { RefusedEntry } from '../../../shared/contract/buffers';

/**
 * Names in a spool come from the device and are untrusted. A stream or segment name is one path component of
 * letters, digits, `.`, `_` and `-`, starting with a letter or digit and never containing `..`; anything else is
 * refused (reported, never fetched), so every name that reaches a remote command or a laptop path is inert.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function isSafeName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

export interface SpoolEntry {
  stream: string;
  segment: string;
  /** Path relative to the spool root: `<stream>/ready/<segment>`. */
  rel: string;
}

export interface SpoolListing {
  segments: SpoolEntry[];
  /** Regular files in ready/ named `<segment>.sha256`, keyed by `<stream>/<segment>`. */
  sidecars: Set<string>;
  refused: RefusedEntry[];
}

/** Printable form of an untrusted name for reports: JSON-escaped, bounded. */
export function printable(raw: Buffer | string): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const json = JSON.stringify(text);
  return json.length > 300 ? `${json.slice(0, 297)}..."` : json;
}

function splitNul(buf: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      parts.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < buf.length) parts.push(buf.subarray(start));
  return parts;
}

/**
 * Parses the scan script's output: NUL-separated paths of regular files under `<root>/*\/ready/`, an empty record,
 * then NUL-separated paths of everything else found there (symlinks, FIFOs, sockets, directories).
 */
export function parseListing(root: string, output: Buffer): SpoolListing {
  const records = splitNul(output);
  const gap = records.findIndex((r) => r.length === 0);
  const regular = gap < 0 ? records : records.slice(0, gap);
  const special = gap < 0 ? [] : records.slice(gap + 1).filter((r) => r.length > 0);
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const refused: RefusedEntry[] = [];
  const files: SpoolEntry[] = [];
  const names = new Set<string>();

  const relOf = (raw: Buffer): { stream: string; segment: string } | string => {
    const path = raw.toString('utf8');
    if (!Buffer.from(path, 'utf8').equals(raw)) return 'name is not valid UTF-8';
    if (!path.startsWith(prefix)) return 'outside the spool root';
    const parts = path.slice(prefix.length).split('/');
    if (parts.length !== 3 || parts[1] !== 'ready') return 'not directly in <stream>/ready/';
    const [stream = '', , segment = ''] = parts;
    if (!isSafeName(stream)) return 'unsafe stream name';
    if (!isSafeName(segment)) return 'unsafe segment name';
    return { stream, segment };
  };

  for (const raw of special) {
    const parsed = relOf(raw);
    refused.push({ path: printable(raw), reason: typeof parsed === 'string' ? parsed : 'not a regular file (symlink, FIFO, socket or directory)' });
  }
  for (const raw of regular) {
    const parsed = relOf(raw);
    if (typeof parsed === 'string') {
      refused.push({ path: printable(raw), reason: parsed });
      continue;
    }
    files.push({ ...parsed, rel: `${parsed.stream}/ready/${parsed.segment}` });
    names.add(`${parsed.stream}/${parsed.segment}`);
  }

  const sidecars = new Set<string>();
  const segments: SpoolEntry[] = [];
  for (const f of files) {
    if (f.segment.endsWith('.sha256')) {
      const base = f.segment.slice(0, -'.sha256'.length);
      if (names.has(`${f.stream}/${base}`)) {
        sidecars.add(`${f.stream}/${base}`);
        continue;
      }
    }
    segments.push(f);
  }
  // Producers name segments so that name order is production order (timestamps, counters); upstream relies on it.
  segments.sort((a, b) => (a.stream === b.stream ? compareNames(a.segment, b.segment) : a.stream < b.stream ? -1 : 1));
  return { segments, sidecars, refused };
}

/** Name order with digit runs compared as numbers, so `seg-10` follows `seg-9`. */
export function compareNames(a: string, b: string): number {
  return NAME_ORDER.compare(a, b);
}

// One collator for every comparison: String#localeCompare with options builds a new one per call (slow in a sort).
const NAME_ORDER = new Intl.Collator('en', { numeric: true });
