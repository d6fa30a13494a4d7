/**
 * Line-ending and echo maps as named flags (tio's map_i_… and map_o_… flags), applied in a fixed order. The session log
 * keeps the raw bytes; only what is shown (input) or sent (output) is mapped.
 */
export interface LineMap {
  /** Received CR shown as LF. */
  inCrToNl?: boolean;
  /** Received LF shown as CR LF (a device that sends bare LF). */
  inNlToCrNl?: boolean;
  /** Received CR dropped. */
  inIgnoreCr?: boolean;
  /** Typed CR (Enter) sent as LF. */
  outCrToNl?: boolean;
  /** Typed CR (Enter) sent as CR LF. */
  outCrToCrNl?: boolean;
  /** Typed DEL (Backspace in xterm) sent as BS (^H), for consoles that expect it. */
  outDelToBs?: boolean;
  /** Show typed bytes locally (for devices that do not echo). */
  localEcho?: boolean;
}

export const LINE_MAP_FLAGS = ['inCrToNl', 'inNlToCrNl', 'inIgnoreCr', 'outCrToNl', 'outCrToCrNl', 'outDelToBs', 'localEcho'] as const;

/** Bytes from the device, as they are shown. */
export function mapInput(bytes: Uint8Array, map: LineMap): Buffer {
  if (!map.inCrToNl && !map.inNlToCrNl && !map.inIgnoreCr) return Buffer.from(bytes);
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0x0d) {
      if (map.inIgnoreCr) continue;
      if (map.inCrToNl) {
        out.push(0x0a);
        continue;
      }
    }
    if (b === 0x0a && map.inNlToCrNl) out.push(0x0d);
    out.push(b);
  }
  return Buffer.from(out);
}

/** Bytes typed by the technician, as they are sent. */
export function mapOutput(bytes: Uint8Array, map: LineMap): Buffer {
  if (!map.outCrToNl && !map.outCrToCrNl && !map.outDelToBs) return Buffer.from(bytes);
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0x0d && map.outCrToCrNl) out.push(0x0d, 0x0a);
    else if (b === 0x0d && map.outCrToNl) out.push(0x0a);
    else if (b === 0x7f && map.outDelToBs) out.push(0x08);
    else out.push(b);
  }
  return Buffer.from(out);
}

/** What local echo shows for typed bytes: Enter as a new line, Backspace as erase. */
export function localEchoOf(bytes: Uint8Array): Buffer {
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0x0d) out.push(0x0d, 0x0a);
    else if (b === 0x7f || b === 0x08) out.push(0x08, 0x20, 0x08);
    else out.push(b);
  }
  return Buffer.from(out);
}
