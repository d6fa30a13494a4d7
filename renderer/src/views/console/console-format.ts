import type { LineMapArgs, SerialPortInfo } from '../../../../shared/contract';

export interface PortSettings {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 2;
  flow: 'none' | 'rtscts' | 'xonxoff';
}

export const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1500000, 3000000];

export const MAP_FLAGS: Array<{ flag: keyof LineMapArgs; label: string }> = [
  { flag: 'localEcho', label: 'Local echo' },
  { flag: 'inCrToNl', label: 'CR → LF (in)' },
  { flag: 'inNlToCrNl', label: 'LF → CR LF (in)' },
  { flag: 'inIgnoreCr', label: 'Drop CR (in)' },
  { flag: 'outCrToNl', label: 'Enter sends LF' },
  { flag: 'outCrToCrNl', label: 'Enter sends CR LF' },
  { flag: 'outDelToBs', label: 'Backspace sends ^H' },
];

/** `/dev/ttyUSB0 — FT232R USB UART (0403:6001)`. */
export function portLabel(p: SerialPortInfo): string {
  const name = p.product ?? p.manufacturer;
  const ids = p.vendorId ? ` (${p.vendorId}:${p.productId ?? ''})` : '';
  return name || ids ? `${p.path} — ${name ?? ''}${ids}`.replace('—  (', '— (') : p.path;
}

/** Saves text as a file on the laptop (the browser's download, Electron's save dialog). */
export function saveText(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** One line per bring-up step for the panel: its title, then the exact commands it types. */
export function planText(actions: ReadonlyArray<{ title: string; commands: readonly string[] }>): string {
  return actions.map((a) => `# ${a.title}\n${a.commands.map((c) => `  ${c}`).join('\n')}`).join('\n');
}
