import type { Duplex, Readable } from 'node:stream';
import type Docker from 'dockerode';
import { OutpostError } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';

/**
 * The device end of a session (Tabby's BaseSession, minus the UI): bytes out, bytes in, a window size, an end.
 * Each kind of byte stream — a shell in a container, a login shell over SSH — is one small opener below.
 */
export interface ByteSource {
  /** What the technician would call this stream, e.g. the container's name. */
  readonly name: string;
  readonly output: Readable;
  write(data: Buffer): void;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves once the remote side has ended, with its exit code when it told us one. */
  readonly exit: Promise<number | null>;
  kill(): void;
}

// A login shell where the image has one, else busybox/alpine's sh.
export const DEFAULT_CONTAINER_SHELL = ['sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];

function ended(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', finish);
  });
}

/** The engine can still report the exec as running for a moment after its stream ended. */
async function exitCodeOf(exec: Docker.Exec): Promise<number | null> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const info = await exec.inspect();
      if (!info.Running) return info.ExitCode ?? null;
    } catch {
      return null;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

/**
 * `docker exec -it` through the device's engine: a hijacked HTTP stream carries the pty both ways.
 * The engine keeps an exec's process running when its stream closes (it has no "kill exec"), so `kill()` also
 * hangs up the exec's process group through `hangup(pid)` — the pid as the engine reports it, in the device's view.
 */
export async function openDockerExec(docker: Docker, container: string, cmd: string[], cols: number, rows: number, hangup?: (pid: number) => Promise<unknown>): Promise<ByteSource> {
  const target = docker.getContainer(container);
  const info = await target.inspect();
  const name = info.Name.replace(/^\//, '');
  if (!info.State.Running) throw new OutpostError('conflict', `container ${name} is ${info.State.Status}; a shell needs it running`);
  const exec = await target.exec({
    Cmd: cmd,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    // No COLUMNS/LINES: busybox prefers them over the pty size, so a later resize would go unseen.
    Env: ['TERM=xterm-256color'],
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
  const resize = async (w: number, h: number) => {
    await exec.resize({ w, h });
  };
  // The engine refuses a resize before the process has started; the first one is best effort.
  resize(cols, rows).catch(() => undefined);
  const exit = ended(stream).then(() => exitCodeOf(exec));
  return {
    name,
    output: stream,
    write: (data) => void stream.write(data),
    resize,
    exit,
    kill: () => {
      stream.destroy();
      if (!hangup) return;
      void exec
        .inspect()
        .then((state) => (state.Running && Number.isInteger(state.Pid) && state.Pid > 1 ? hangup(state.Pid) : undefined))
        .catch(() => undefined);
    },
  };
}

/** A login shell on the device over its persistent SSH connection (a new channel, no new handshake). */
export async function openSshShell(conn: SshConnection, cols: number, rows: number): Promise<ByteSource> {
  const channel = await conn.shell({ cols, rows });
  let code: number | null = null;
  channel.once('exit', (c: number | null) => {
    code = c;
  });
  // OpenSSH may send EOF before exit-status: only 'close' means the exit code is in.
  const exit = new Promise<number | null>((resolve) => channel.once('close', () => resolve(code)));
  return {
    name: 'shell',
    output: channel,
    write: (data) => void channel.write(data),
    resize: async (w, h) => {
      channel.setWindow(h, w, 0, 0);
    },
    exit,
    kill: () => channel.close(),
  };
}
