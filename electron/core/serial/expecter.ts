/**
 * Console matching free of I/O (pexpect's Expecter, minus the process): bytes go in with `feed`, time goes in with
 * `tick`, and out comes the first event — a pattern match, a deadline passed, or the end of the stream.
 *
 * - Patterns are data and the earliest match in the text wins (ties go to the pattern listed first), so the result
 *   does not depend on how the bytes were split into reads.
 * - The text searched is cleaned as it streams in: UTF-8 decoded across reads, ANSI escape sequences and CR/NUL
 *   removed, so a coloured bash prompt and a CRLF line end match the same patterns as plain ones.
 * - The search window is bounded (`windowChars`): a chatty boot log is never re-searched from its start.
 * - Deadlines are explicit fields: the first byte, the silence between bytes, and the whole wait.
 */

export type PatternSpec =
  | { id: string; kind: 'exact'; text: string }
  | { id: string; kind: 'regex'; regex: RegExp };

export interface Deadlines {
  /** Nothing at all received within this long after the wait began. */
  firstByteMs?: number;
  /** A silence this long after the last byte (only once something arrived). */
  idleMs?: number;
  /** The whole wait. */
  overallMs?: number;
}

export type ExpectEvent =
  | { kind: 'match'; id: string; text: string; groups: string[]; before: string }
  | { kind: 'timeout'; deadline: 'first-byte' | 'idle' | 'overall'; before: string }
  | { kind: 'eof'; before: string };

export const DEFAULT_WINDOW_CHARS = 16 * 1024;

/** Streaming ANSI/CR cleaner: keeps partial escape sequences across feeds. */
export class TextCleaner {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  // 0 text, 1 after ESC, 2 inside CSI, 3 inside OSC/DCS string, 4 ESC inside OSC (maybe ST)
  private state = 0;

  push(bytes: Uint8Array | string): string {
    const text = typeof bytes === 'string' ? bytes : this.decoder.decode(bytes, { stream: true });
    let out = '';
    for (const ch of text) {
      const c = ch.charCodeAt(0);
      switch (this.state) {
        case 0:
          if (c === 0x1b) this.state = 1;
          else if (c === 0x9b) this.state = 2;
          else if (c !== 0x0d && c !== 0x00 && c !== 0x07) out += ch;
          break;
        case 1:
          if (ch === '[') this.state = 2;
          else if (ch === ']' || ch === 'P' || ch === '_' || ch === '^') this.state = 3;
          else if (c >= 0x20 && c <= 0x2f) this.state = 1; // intermediate bytes: ESC ( B and friends
          else this.state = 0;
          break;
        case 2:
          if (c >= 0x40 && c <= 0x7e) this.state = 0;
          break;
        case 3:
          if (c === 0x07) this.state = 0;
          else if (c === 0x1b) this.state = 4;
          break;
        case 4:
          this.state = ch === '\\' ? 0 : 3;
          break;
      }
    }
    return out;
  }
}

function findEarliest(text: string, patterns: readonly PatternSpec[]): { index: number; end: number; id: string; groups: string[]; matched: string } | null {
  let best: { index: number; end: number; id: string; groups: string[]; matched: string } | null = null;
  for (const p of patterns) {
    if (p.kind === 'exact') {
      const i = text.indexOf(p.text);
      if (i >= 0 && (!best || i < best.index)) best = { index: i, end: i + p.text.length, id: p.id, groups: [], matched: p.text };
    } else {
      const re = new RegExp(p.regex.source, p.regex.flags.replace('g', '').replace('y', ''));
      const m = re.exec(text);
      if (m && (!best || m.index < best.index)) best = { index: m.index, end: m.index + m[0].length, id: p.id, groups: m.slice(1).map((g) => g ?? ''), matched: m[0] };
    }
  }
  return best;
}

export class Expecter {
  private readonly cleaner = new TextCleaner();
  private buffer = '';
  private patterns: readonly PatternSpec[] = [];
  private deadlines: Deadlines = {};
  private startedAt = 0;
  private lastByteAt: number | null = null;
  private ended = false;

  constructor(private readonly windowChars = DEFAULT_WINDOW_CHARS) {}

  /** Starts a new wait: the text already received stays and is searched first. */
  expect(patterns: readonly PatternSpec[], deadlines: Deadlines, now: number): ExpectEvent | null {
    this.patterns = patterns;
    this.deadlines = deadlines;
    this.startedAt = now;
    this.lastByteAt = null;
    return this.search();
  }

  /** Forgets what was received so far (before sending a command whose answer must be fresh). */
  clear(): void {
    this.buffer = '';
  }

  /** The cleaned text not yet consumed by a match. */
  get pending(): string {
    return this.buffer;
  }

  feed(bytes: Uint8Array | string, now: number): ExpectEvent | null {
    const text = this.cleaner.push(bytes);
    if (bytes.length > 0) this.lastByteAt = now;
    this.buffer += text;
    if (this.buffer.length > this.windowChars) this.buffer = this.buffer.slice(this.buffer.length - this.windowChars);
    return this.search();
  }

  /** The stream ended (port closed, far end hung up). */
  eof(): ExpectEvent {
    this.ended = true;
    return { kind: 'eof', before: this.buffer };
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Checks the deadlines; the earliest one passed wins. */
  tick(now: number): ExpectEvent | null {
    const { firstByteMs, idleMs, overallMs } = this.deadlines;
    const elapsed = now - this.startedAt;
    if (this.lastByteAt === null && firstByteMs !== undefined && elapsed >= firstByteMs) return { kind: 'timeout', deadline: 'first-byte', before: this.buffer };
    if (this.lastByteAt !== null && idleMs !== undefined && now - this.lastByteAt >= idleMs) return { kind: 'timeout', deadline: 'idle', before: this.buffer };
    if (overallMs !== undefined && elapsed >= overallMs) return { kind: 'timeout', deadline: 'overall', before: this.buffer };
    return null;
  }

  /** When `tick` next needs calling (ms from `now`), or null when no deadline is set. */
  nextDeadlineIn(now: number): number | null {
    const { firstByteMs, idleMs, overallMs } = this.deadlines;
    const at: number[] = [];
    if (this.lastByteAt === null && firstByteMs !== undefined) at.push(this.startedAt + firstByteMs);
    if (this.lastByteAt !== null && idleMs !== undefined) at.push(this.lastByteAt + idleMs);
    if (overallMs !== undefined) at.push(this.startedAt + overallMs);
    if (at.length === 0) return null;
    return Math.max(0, Math.min(...at) - now);
  }

  private search(): ExpectEvent | null {
    if (this.patterns.length === 0) return null;
    const hit = findEarliest(this.buffer, this.patterns);
    if (!hit) return null;
    const before = this.buffer.slice(0, hit.index);
    this.buffer = this.buffer.slice(hit.end);
    return { kind: 'match', id: hit.id, text: hit.matched, groups: hit.groups, before };
  }
}
