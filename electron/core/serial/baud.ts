/** Auto-baud as data: which rates to try, and how plausible the bytes received at one rate are as console text. */

/** The rates technicians meet, most likely first (115200 on nearly every Linux SBC; 9600 on older gear). */
export const COMMON_BAUD_RATES = [115200, 9600, 57600, 38400, 19200, 230400, 460800, 921600, 1500000] as const;

/** Below this many bytes a rate proves nothing: a silent port is not a right one. */
export const MIN_SCORED_BYTES = 4;

export interface BaudScore {
  /** 0..1: the share of bytes that plain console text is made of. */
  score: number;
  bytes: number;
  /** Why the score is what it is, for the technician. */
  reason: string;
}

/**
 * Scores bytes received at one rate: printable ASCII, CR, LF, TAB, backspace and ANSI escapes count as text; UTF-8
 * multi-byte sequences that decode count as text; NUL, 0xFF and stray high bytes (what a wrong rate produces
 * through framing errors) count against it.
 */
export function scoreBaud(bytes: Uint8Array): BaudScore {
  if (bytes.length < MIN_SCORED_BYTES) return { score: 0, bytes: bytes.length, reason: bytes.length === 0 ? 'no answer' : `only ${bytes.length} byte(s)` };
  let good = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if ((b >= 0x20 && b <= 0x7e) || b === 0x0d || b === 0x0a || b === 0x09 || b === 0x08 || b === 0x1b || b === 0x07) {
      good++;
      i++;
      continue;
    }
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len && i + len <= bytes.length && [...bytes.subarray(i + 1, i + len)].every((c) => (c & 0xc0) === 0x80)) {
      good += len;
      i += len;
      continue;
    }
    i++;
  }
  const score = good / bytes.length;
  return { score, bytes: bytes.length, reason: `${Math.round(score * 100)}% console text in ${bytes.length} bytes` };
}

export interface BaudTrial extends BaudScore {
  baud: number;
}

export interface BaudChoice {
  baud: number | null;
  /** 0..1: how sure: the winner's score, less what the runner-up also scored. */
  confidence: number;
  tried: BaudTrial[];
}

/** A rate must read as at least this much text to be chosen at all. */
export const MIN_PLAUSIBLE = 0.8;

export function pickBaud(tried: readonly BaudTrial[]): BaudChoice {
  const ranked = [...tried].sort((a, b) => b.score - a.score || b.bytes - a.bytes);
  const best = ranked[0];
  if (!best || best.score < MIN_PLAUSIBLE) return { baud: null, confidence: 0, tried: [...tried] };
  const runnerUp = ranked[1]?.score ?? 0;
  const confidence = Math.max(0, Math.min(1, best.score - runnerUp * 0.5));
  return { baud: best.baud, confidence: Math.round(confidence * 100) / 100, tried: [...tried] };
}
