import { describe, expect, it } from 'vitest';
import { ScriptedApi } from '../store/scripted-api';
import { base64ToBytes, bytesToBase64, TerminalSession } from './terminal-session';

/** The core's side of `sessions:*`; `beforeOpen` runs just before `sessions:open` answers (early output). */
function fakeSessions(beforeOpen: (api: ScriptedApi) => void = () => undefined): ScriptedApi {
  const api = new ScriptedApi();
  api.answer('sessions:open', () => {
    beforeOpen(api);
    return { sessionId: 's1', windowBytes: 1024 };
  });
  api.answer('sessions:ack', { unacknowledged: 0 });
  api.answer('sessions:write', { written: 0 });
  api.answer('sessions:resize', { resized: true });
  api.answer('sessions:close', { closed: true });
  return api;
}

const text = (s: string) => bytesToBase64(new TextEncoder().encode(s));

describe('TerminalSession', () => {
  it('round-trips bytes through base64, binary included', () => {
    const bytes = new Uint8Array([0, 1, 127, 128, 255, 27, 91]);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
  });

  it('delivers output sent before open answered, and acknowledges only what the sink consumed', async () => {
    const api = fakeSessions((a) => a.emit('sessions:data', { sessionId: 's1', data: text('welcome ') }));
    const pending: Array<() => void> = [];
    const seen: string[] = [];
    const session = new TerminalSession(api, {
      write: (bytes, done) => {
        seen.push(new TextDecoder().decode(bytes));
        pending.push(done);
      },
      exited: () => undefined,
    });
    await session.open({ kind: 'ssh-shell', device: 'gw', link: {} }, { cols: 80, rows: 24 });
    api.emit('sessions:data', { sessionId: 'other', data: text('not ours') });
    api.emit('sessions:data', { sessionId: 's1', data: text('prompt# ') });
    expect(seen).toEqual(['welcome ', 'prompt# ']);
    expect(api.argsOf('sessions:ack')).toEqual([]);

    pending[0]?.();
    pending[1]?.();
    await new Promise((r) => setTimeout(r, 0));
    const acked = (api.argsOf('sessions:ack') as Array<{ bytes: number }>).reduce((n, a) => n + a.bytes, 0);
    expect(acked).toBe('welcome prompt# '.length);
    expect(api.argsOf('sessions:open')).toEqual([{ kind: 'ssh-shell', device: 'gw', link: {}, cols: 80, rows: 24 }]);
  });

  it('sends keystrokes as base64, resizes, reports the exit and closes the session', async () => {
    const api = fakeSessions();
    let exit: number | null | undefined;
    const session = new TerminalSession(api, { write: (_b, done) => done(), exited: (code) => (exit = code) });
    await session.open({ kind: 'docker-exec', device: 'gw', container: 'app', link: {} }, { cols: 80, rows: 24 });
    await session.input('ls\r');
    await session.resize(120, 40);
    api.emit('sessions:exit', { sessionId: 's1', code: 3 });
    await session.close();
    expect(api.argsOf('sessions:write')).toEqual([{ sessionId: 's1', data: text('ls\r') }]);
    expect(api.argsOf('sessions:resize')).toEqual([{ sessionId: 's1', cols: 120, rows: 40 }]);
    expect(exit).toBe(3);
    expect(api.argsOf('sessions:close')).toEqual([{ sessionId: 's1' }]);
    expect(session.input('late')).toBeUndefined();
  });
});
