import { Agent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { inspect } from 'node:util';
import type Docker from 'dockerode';
import { dockerodeModule } from '../lazy-require';

const dockerode = () => dockerodeModule<typeof Docker>();
import type { SshConnection } from './ssh-connection';

export const DEFAULT_ENGINE_SOCKET = '/var/run/docker.sock';

type StreamOpener = () => Promise<Duplex>;

/** http.Agent expects a net.Socket; an SSH channel is a plain Duplex, so give it the few socket knobs http touches. */
function socketLike(stream: Duplex): Socket {
  const s = stream as Duplex & Partial<Socket>;
  s.setTimeout ??= (() => s) as never;
  s.setNoDelay ??= (() => s) as never;
  s.setKeepAlive ??= (() => s) as never;
  s.ref ??= (() => s) as never;
  s.unref ??= (() => s) as never;
  return s as Socket;
}

/**
 * A keep-alive HTTP agent whose "sockets" are channels on the device's one SSH connection: the engine socket via
 * OpenSSH streamlocal forwarding, or — where the server forbids that — `docker system dial-stdio` over exec.
 */
export class SshEngineAgent extends Agent {
  private mode: 'forward' | 'dial-stdio' = 'forward';

  constructor(
    private readonly conn: SshConnection,
    private readonly socketPath: string = DEFAULT_ENGINE_SOCKET,
    options: AgentOptions = {},
  ) {
    super({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, ...options });
  }

  get transportMode(): 'forward' | 'dial-stdio' {
    return this.mode;
  }

  /**
   * docker-modem logs every request with `util.inspect(options, { showHidden: true, depth: null })`, evaluated even
   * when its debug output is off, and the options hold this agent: walking the agent's graph (the SSH connection,
   * its sockets, ssh2's state) cost ~0.9 ms per API call, four times the round trip itself.
   */
  [inspect.custom](): string {
    return `SshEngineAgent(${this.mode} ${this.socketPath})`;
  }

  private openForward: StreamOpener = () => this.conn.forwardUnix(this.socketPath);

  private openDialStdio: StreamOpener = async () => {
    const handle = await this.conn.exec(['docker', '-H', `unix://${this.socketPath}`, 'system', 'dial-stdio']);
    return handle.channel;
  };

  // Node's Agent accepts an asynchronous createConnection that answers through the callback.
  override createConnection(_options: ClientRequestArgs, cb?: (err: Error | null, stream: Duplex) => void): undefined {
    const callback = (err: Error | null, socket?: Socket) => cb?.(err, socket as Duplex);
    const open = this.mode === 'forward' ? this.openForward : this.openDialStdio;
    open().then(
      (stream) => callback(null, socketLike(stream)),
      (err: Error) => {
        if (this.mode === 'forward' && /prohibited|denied|administratively/i.test(err.message)) {
          this.mode = 'dial-stdio';
          this.openDialStdio().then((s) => callback(null, socketLike(s)), (e: Error) => callback(e));
          return;
        }
        callback(err);
      },
    );
    return undefined;
  }
}

/** dockerode talking to a device's engine through its persistent SSH connection. */
export function dockerOverSsh(conn: SshConnection, opts: { socketPath?: string; timeoutMs?: number } = {}): { docker: Docker; agent: SshEngineAgent } {
  const agent = new SshEngineAgent(conn, opts.socketPath);
  // Once the SSH connection is gone its channels are dead, and a kept-alive one handed to the next request would
  // swallow it without an answer (ssh2 drops writes on a closed channel): drop them all, so calls fail at once.
  conn.onClose(() => agent.destroy());
  const docker = new (dockerode())({ protocol: 'http', host: 'docker', port: 80, agent, timeout: opts.timeoutMs } as Docker.DockerOptions);
  return { docker, agent };
}
