/** Pure helpers for followed streams: bounded line buffers and engine events. */

/** Appends a chunk of newline-terminated text, keeping at most `max` lines (oldest dropped). */
export function appendLines(lines: string[], text: string, max: number): string[] {
  const added = text.split('\n').filter((l) => l.length > 0);
  if (added.length === 0) return lines;
  const next = lines.concat(added);
  return next.length > max ? next.slice(next.length - max) : next;
}

export interface ContainerEvent {
  time: number;
  action: string;
  details: string;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  time?: number;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

const DETAIL_KEYS = ['exitCode', 'signal', 'image', 'name'];

/** The engine's JSON event lines that concern one container, oldest first; lines that are not JSON are skipped. */
export function containerEvents(lines: string[], containerId: string): ContainerEvent[] {
  const events: ContainerEvent[] = [];
  for (const line of lines) {
    let raw: RawEvent;
    try {
      raw = JSON.parse(line) as RawEvent;
    } catch {
      continue;
    }
    const id = raw.Actor?.ID ?? raw.id;
    if (raw.Type !== undefined && raw.Type !== 'container') continue;
    if (id !== containerId) continue;
    const attributes = raw.Actor?.Attributes ?? {};
    const details = DETAIL_KEYS.filter((k) => attributes[k] !== undefined).map((k) => `${k}=${attributes[k]}`).join('  ');
    const time = raw.timeNano ? Math.floor(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000;
    events.push({ time, action: raw.Action ?? raw.status ?? '?', details });
  }
  return events;
}
