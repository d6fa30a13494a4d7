import { OutpostError } from '../../../shared/errors';
import type { CliIo, CommandContext, CommandOutput } from '../context';
import type { ConsoleFlags } from './serial';

/** The escape key of `outpost console`: Ctrl-] (as telnet), then a command letter. */
export const ESCAPE = 0x1d;

export type EscapeAction = 'quit' | 'break' | 'help';

/**
 * Splits typed bytes into what goes to the device and escape commands (pure; remembers a trailing Ctrl-]).
 * Ctrl-] q quits, Ctrl-] b sends BREAK, Ctrl-] ? shows help, Ctrl-] Ctrl-] sends one Ctrl-]; anything else after
 * Ctrl-] is dropped.
 */
export class EscapeReader {
  private pending = false;

  feed(bytes: Uint8Array): { send: Buffer; actions: EscapeAction[] } {
    const send: number[] = [];
    const actions: EscapeAction[] = [];
    for (const b of bytes) {
      if (this.pending) {
        this.pending = false;
        if (b === ESCAPE) send.push(ESCAPE);
        else if (b === 0x71 || b === 0x51 || b === 0x2e) actions.push('quit');
        else if (b === 0x62 || b === 0x42) actions.push('break');
        else if (b === 0x3f || b === 0x68) actions.push('help');
      } else if (b === ESCAPE) this.pending = true;
      else send.push(b);
    }
    return { send: Buffer.from(send), actions };
  }
}

const HELP = '\r\n[outpost] Ctrl-] q quit · Ctrl-] b BREAK · Ctrl-] Ctrl-] send Ctrl-] · Ctrl-] ? this help\r\n';

export async function runConsole(ctx: CommandContext, io: CliIo, path: string, o: ConsoleFlags): Promise<CommandOutput> {
  if (![5, 6, 7, 8].includes(o.databits)) throw new OutpostError('invalid-input', '--databits must be 5, 6, 7 or 8');
  if (o.stopbits !== 1 && o.stopbits !== 2) throw new OutpostError('invalid-input', '--stopbits must be 1 or 2');
  if (!['none', 'even', 'odd', 'mark', 'space'].includes(o.parity)) throw new OutpostError('invalid-input', '--parity must be none, even, odd, mark or space');
  if (!['none', 'rtscts', 'xonxoff'].includes(o.flow)) throw new OutpostError('invalid-input', '--flow must be none, rtscts or xonxoff');
  const map: Record<string, boolean> = { localEcho: Boolean(o.localEcho) };
  for (const flag of (o.map ?? '').split(',').filter(Boolean)) map[flag.trim()] = true;
  const { api } = ctx;
  const cols = process.stdout.columns ?? 80;
  const rows = process.stdout.rows ?? 24;
  const opened = await api.invoke('sessions:open', {
    kind: 'serial',
    path,
    settings: {
      baudRate: o.baud,
      dataBits: o.databits as 5 | 6 | 7 | 8,
      parity: o.parity as 'none',
      stopBits: o.stopbits as 1 | 2,
      rtscts: o.flow === 'rtscts',
      xonxoff: o.flow === 'xonxoff',
    },
    map,
    cols,
    rows,
  });
  const { sessionId } = opened;
  io.stderr(`[outpost] connected to ${path} at ${o.baud} baud; Ctrl-] q quits, Ctrl-] ? for help\r\n`);
  const stdin = process.stdin;
  const escape = new EscapeReader();
  let logFile = '';
  let cleanup = () => undefined as void;
  const done = new Promise<void>((resolve) => {
    const offData = api.on('sessions:data', (p) => {
      if (p.sessionId !== sessionId) return;
      const bytes = Buffer.from(p.data, 'base64');
      process.stdout.write(bytes, () => void api.invoke('sessions:ack', { sessionId, bytes: bytes.length }).catch(() => undefined));
    });
    const offState = api.on('serial:state', (s) => {
      if (s.sessionId === sessionId && s.state === 'waiting') io.stderr(`\r\n[outpost] ${s.message}\r\n`);
    });
    const offExit = api.on('sessions:exit', (p) => {
      if (p.sessionId !== sessionId) return;
      offData();
      offState();
      offExit();
      resolve();
    });
    const onInput = (chunk: Buffer) => {
      const { send, actions } = escape.feed(chunk);
      if (send.length) void api.invoke('sessions:write', { sessionId, data: send.toString('base64') }).catch(() => undefined);
      for (const a of actions) {
        if (a === 'quit') {
          void api.invoke('serial:log', { sessionId }).then((l) => (logFile = l.file)).catch(() => undefined).finally(() => void api.invoke('sessions:close', { sessionId }));
        } else if (a === 'break') {
          void api.invoke('serial:signal', { sessionId, brk: true }).then(
            () => io.stderr('\r\n[outpost] BREAK sent\r\n'),
            (err: Error) => io.stderr(`\r\n[outpost] ${err.message}\r\n`),
          );
        } else io.stderr(HELP);
      }
    };
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.resume();
    // stdin closed (a pipe ran dry): end the session.
    stdin.once('end', () => void api.invoke('sessions:close', { sessionId }).catch(() => undefined));
    cleanup = () => {
      stdin.off('data', onInput);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
    };
  });
  await done;
  cleanup();
  io.stderr(`\r\n[outpost] closed ${path}${logFile ? `; session log: ${logFile}` : ''}\r\n`);
  return { data: { path, closed: true, log: logFile || null }, human: '' };
}
