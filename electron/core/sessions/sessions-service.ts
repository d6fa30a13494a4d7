import { randomUUID } from 'node:crypto';
import type { ParsedArgsOf, ResultOf } from '../../../shared/contract';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { Engine, EngineRegistry } from '../engines/registry';
import type { EventBus, Router } from '../router';
import type { DeviceLinks } from '../transport/device-links';
import { DEFAULT_CONTAINER_SHELL, openDockerExec, openSshShell, type ByteSource } from './byte-source';
import { FlowControl } from './flow-control';

// 256 KiB: a few screens of a fast-scrolling terminal; well above what one render frame consumes.
export const DEFAULT_WINDOW_BYTES = 256 * 1024;
// An open that never answers (dead link mid-handshake) must not leave the terminal spinning forever.
const OPEN_TIMEOUT_MS = 20_000;

export interface SessionsDeps {
  router: Router;
  bus: EventBus;
  engines: EngineRegistry;
  links: DeviceLinks;
  windowBytes?: number;
  /** Opens `kind: 'serial'` sessions (the serial service owns the port and its reconnects). */
  serial?: { openTerminal(args: Extract<OpenArgs, { kind: 'serial' }>): Promise<{ id: string; source: ByteSource; deviceId: string; title: string }> };
}

interface Session {
  id: string;
  kind: OpenArgs['kind'];
  deviceId: string;
  title: string;
  source: ByteSource;
  flow: FlowControl;
}

export interface SessionsHandle {
  /** Ends every open session (the core is closing). */
  close: () => void;
  count(): number;
}

type OpenArgs = ParsedArgsOf<'sessions:open'>;

/** Registers `sessions:*`: one session shape for every interactive byte stream to a device. */
export function registerSessionsService(deps: SessionsDeps): SessionsHandle {
  const { router, bus, engines, links } = deps;
  const windowBytes = deps.windowBytes ?? DEFAULT_WINDOW_BYTES;
  const sessions = new Map<string, Session>();

  function session(id: string): Session {
    const s = sessions.get(id);
    if (!s) throw new OutpostError('not-found', `no open terminal session ${id} (it has ended)`);
    return s;
  }

  async function openSource(args: OpenArgs): Promise<{ source: ByteSource; deviceId: string; title: string; id?: string }> {
    if (args.kind === 'serial') {
      if (!deps.serial) throw new OutpostError('unsupported', 'serial terminals are not available in this core');
      return deps.serial.openTerminal(args);
    }
    const device = engines.device(args.device);
    if (args.kind === 'docker-exec') {
      const cmd = args.cmd ?? DEFAULT_CONTAINER_SHELL;
      // The exec is a session leader on its pty: SIGHUP to its process group ends it and, through the hangup of
      // its terminal, its foreground jobs.
      const hangup = (e: Engine) => (pid: number) => e.ssh.run(['kill', '-HUP', '--', `-${pid}`]);
      const source = await engines.call(device, (e) => openDockerExec(e.docker, args.container, cmd, args.cols, args.rows, hangup(e)), {
        link: args.link,
        timeoutMs: OPEN_TIMEOUT_MS,
        what: `opening a shell in ${args.container}`,
      });
      return { source, deviceId: device.id, title: `${device.name} · ${source.name}` };
    }
    const conn = await links.ssh(device, args.link);
    return { source: await openSshShell(conn, args.cols, args.rows), deviceId: device.id, title: `${device.name} · shell` };
  }

  function start(s: Session): void {
    const { source, flow, id } = s;
    source.output.on('data', (chunk: Buffer) => {
      bus.emit('sessions:data', { sessionId: id, data: chunk.toString('base64') });
      if (flow.produced(chunk.length)) source.output.pause();
    });
    source.output.on('error', () => undefined);
    void source.exit.then(
      (code) => {
        if (sessions.delete(id)) bus.emit('sessions:exit', { sessionId: id, code });
      },
      (err: unknown) => {
        if (sessions.delete(id)) bus.emit('sessions:exit', { sessionId: id, code: null, error: toErrorBody(err) });
      },
    );
  }

  router.handle('sessions:open', async (args): Promise<ResultOf<'sessions:open'>> => {
    const { source, deviceId, title, id } = await openSource(args);
    const s: Session = { id: id ?? randomUUID(), kind: args.kind, deviceId, title, source, flow: new FlowControl(windowBytes) };
    sessions.set(s.id, s);
    // Data flows from the next tick: the caller has its sessionId before the first `sessions:data` arrives.
    setImmediate(() => start(s));
    return { sessionId: s.id, windowBytes };
  });

  router.handle('sessions:write', ({ sessionId, data }) => {
    const bytes = Buffer.from(data, 'base64');
    session(sessionId).source.write(bytes);
    return { written: bytes.length };
  });

  router.handle('sessions:resize', async ({ sessionId, cols, rows }) => {
    await session(sessionId).source.resize(cols, rows);
    return { resized: true };
  });

  router.handle('sessions:ack', ({ sessionId, bytes }) => {
    const s = sessions.get(sessionId);
    // Acks for a session that just ended are normal (they cross the exit event); nothing to resume.
    if (!s) return { unacknowledged: 0 };
    if (s.flow.acknowledged(bytes)) s.source.output.resume();
    return { unacknowledged: s.flow.unacknowledged };
  });

  router.handle('sessions:close', ({ sessionId }) => {
    const s = sessions.get(sessionId);
    s?.source.kill();
    return { closed: Boolean(s) };
  });

  router.handle('sessions:list', () =>
    [...sessions.values()].map((s) => ({ sessionId: s.id, kind: s.kind, deviceId: s.deviceId, title: s.title, paused: s.flow.paused, unacknowledged: s.flow.unacknowledged })),
  );

  return {
    close: () => {
      for (const s of sessions.values()) s.source.kill();
      sessions.clear();
    },
    count: () => sessions.size,
  };
}
