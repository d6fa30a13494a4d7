import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import type * as Ssh2 from 'ssh2';
import type { AnyAuthMethod, Client, ClientChannel, ConnectConfig, ParsedKey } from 'ssh2';
import { lazyModule } from '../lazy-require';
import { OutpostError } from '../../../shared/errors';
import { AES_GCM } from './cpu-features';
import { sshFingerprint } from './fingerprint';
import { hostKeyError, type HostKeyVerdict, type KnownHosts } from './known-hosts';
import { expandHome } from './laptop-key';
import { commandLine } from './shell-quote';

const ssh2 = lazyModule<typeof Ssh2>('ssh2');

/** Identity files parsed by content (a key file is read at each dial, so a replaced file is seen at once). */
const identities = new Map<string, ParsedKey | Error>();

function parsedIdentity(text: string): ParsedKey | Error {
  const known = identities.get(text);
  if (known) return known;
  const result: ParsedKey | ParsedKey[] | Error = ssh2().utils.parseKey(text);
  const parsed = Array.isArray(result) ? (result[0] ?? new Error('no key in the file')) : result;
  if (identities.size >= 16) identities.clear();
  identities.set(text, parsed);
  return parsed;
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** A private key file given by the technician (`--identity`); the laptop key and the agent are tried too. */
  identityFile?: string;
  password?: string;
  /** The cipher to ask for first (chosen for the device's CPU); AES-GCM when not given. */
  cipher?: string;
}

export interface TrustPolicy {
  /** Pin an unknown host key (the technician confirmed it, e.g. `--yes`). */
  acceptNew?: boolean;
  /** Pin an unknown key only if it has this fingerprint; also re-pins a changed key that matches it. */
  expectedFingerprint?: string;
  /**
   * Keys already pinned for this same device at its other addresses (a DHCP move: same MAC, same key). A key among
   * them is the device's own: it is accepted and pinned at the new address without asking again.
   */
  knownForDevice?: readonly string[];
}

export interface SshDeps {
  knownHosts: KnownHosts;
  /**
   * The laptop's own key; a function is asked at each connection when the key is reached in the auth order
   * (undefined while the vault is locked). Reading it from the vault derives a key (scrypt, ~50 ms on the thread
   * pool): when it is the first key tried, that runs while the handshake does.
   */
  laptopPrivateKey?: string | (() => string | undefined | Promise<string | undefined>);
  useAgent?: boolean;
  readyTimeoutMs?: number;
}

export interface ExecHandle {
  stdout: Readable;
  stderr: Readable;
  stdin: Writable;
  /** Resolves with the remote exit code (or null when killed by a signal). */
  exit: Promise<{ code: number | null; signal?: string }>;
  channel: ClientChannel;
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function describeTarget(t: Pick<SshTarget, 'host' | 'port'>): string {
  return t.port === 22 ? t.host : `${t.host}:${t.port}`;
}

/** Turns ssh2's failures into words a technician can act on, tagged with a kind. */
export function sshError(target: SshTarget, err: Error & { level?: string; code?: string }): OutpostError {
  const where = describeTarget(target);
  if (err instanceof OutpostError) return err;
  if (err.level === 'client-authentication') return new OutpostError('auth', `device ${where} refused the key for user ${target.user}`, { host: target.host });
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') return new OutpostError('timeout', `device ${where} did not finish the SSH handshake in time`, { host: target.host });
  if (err.code === 'ECONNREFUSED') return new OutpostError('unreachable', `device ${where} refused the connection (no SSH server on port ${target.port}?)`, { host: target.host });
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
    return new OutpostError('unreachable', `device ${where} is unreachable (${err.code})`, { host: target.host });
  if (err.level === 'protocol' || err.level === 'handshake') return new OutpostError('protocol', `SSH to ${where} failed: ${err.message}`, { host: target.host });
  return new OutpostError('unreachable', `SSH to ${where} failed: ${err.message}`, { host: target.host });
}

/** An auth failure while the laptop key sits locked in the vault says how to unlock it. */
function withLockedHint(err: OutpostError, laptopKeyLocked: boolean): OutpostError {
  if (err.kind !== 'auth' || !laptopKeyLocked) return err;
  return new OutpostError('auth', `${err.message} (the laptop's own key is locked in the vault: unlock it in the app, or set OUTPOST_PASSPHRASE or pass --passphrase-file)`, err.details);
}

/**
 * One persistent SSH connection to a device. Every exec, engine-socket forward and transfer to that device
 * rides on it: a new SSH handshake per call costs ~300 ms here, a channel on an open connection ~3 ms.
 */
export class SshConnection {
  private closed = false;
  private readonly closeListeners = new Set<() => void>();

  private constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    readonly hostKeyFingerprint: string,
    /** The cipher negotiated for what the device sends (server to client). */
    readonly cipher: string,
  ) {
    client.on('close', () => {
      this.closed = true;
      for (const l of this.closeListeners) l();
    });
    client.on('error', () => undefined);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  static open(target: SshTarget, deps: SshDeps, trust: TrustPolicy = {}): Promise<SshConnection> {
    let identityText: string | undefined;
    const identityPath = target.identityFile ? expandHome(target.identityFile) : undefined;
    if (identityPath) {
      try {
        identityText = readFileSync(identityPath, 'utf8');
      } catch (err) {
        return Promise.reject(new OutpostError('invalid-input', `cannot read identity file ${identityPath}: ${(err as Error).message}`));
      }
    }
    const agent = deps.useAgent !== false ? process.env.SSH_AUTH_SOCK : undefined;
    if (identityText === undefined && !deps.laptopPrivateKey && !agent && target.password === undefined) {
      return Promise.reject(new OutpostError('auth', `no SSH credentials for ${describeTarget(target)}: give --identity, a password, or run an SSH agent`));
    }
    // The TCP connect first: it, and the device's sshd accepting, forking and greeting, run while ssh2 loads (the
    // first dial of a process, ~30 ms) and the key parses. TCP_NODELAY from the first byte: the handshake is a string
    // of small writes (NEWKEYS then the service request, the auth requests), and with Nagle each one waited for the
    // device's delayed ACK — ~40 ms per stall on Linux, every dial; Docker API calls later are small exchanges too.
    const sock = createConnection({ host: target.host, port: target.port, noDelay: true });
    const client = new (ssh2().Client)();
    let verdict: HostKeyVerdict | undefined;
    let fingerprint = '';
    let cipher = '';
    const privateKeys: Array<string | ParsedKey> = [];
    if (identityText !== undefined) {
      const path = identityPath;
      const parsed = parsedIdentity(identityText);
      if (parsed instanceof Error) {
        sock.destroy();
        const locked = /encrypted|passphrase/i.test(parsed.message);
        return Promise.reject(
          locked
            ? new OutpostError('auth', `identity file ${path} is protected by a passphrase: add it to your ssh-agent (ssh-add ${target.identityFile}) and Outpost will use the agent`)
            : new OutpostError('invalid-input', `identity file ${path} is not an SSH private key: ${parsed.message}`),
        );
      }
      // Parsed once: ssh2 takes the parsed key as it is (a fleet of ten links would parse it ten more times).
      privateKeys.push(parsed);
    }
    let laptopKeyLocked = false;
    let laptopKeyRead: Promise<string | undefined> | undefined;
    const laptopKey = (): Promise<string | undefined> =>
      (laptopKeyRead ??= (async () => {
        try {
          const key = typeof deps.laptopPrivateKey === 'function' ? await deps.laptopPrivateKey() : deps.laptopPrivateKey;
          laptopKeyLocked = typeof deps.laptopPrivateKey === 'function' && !key;
          return key;
        } catch (err) {
          throw err instanceof OutpostError ? err : new OutpostError('internal', `cannot read the laptop key: ${(err as Error).message}`);
        }
      })());

    // Tried in this order: the identity file, the laptop's key (read only when reached), the agent, the password.
    type Step = AnyAuthMethod | 'laptop-key';
    const steps: Step[] = [];
    for (const key of privateKeys) steps.push({ type: 'publickey', username: target.user, key });
    if (deps.laptopPrivateKey) steps.push('laptop-key');
    if (agent) steps.push({ type: 'agent', username: target.user, agent });
    if (target.password !== undefined) steps.push({ type: 'password', username: target.user, password: target.password });
    const nextMethod = async (): Promise<AnyAuthMethod | undefined> => {
      for (let step = steps.shift(); step; step = steps.shift()) {
        if (step !== 'laptop-key') return step;
        const text = await laptopKey();
        if (!text) continue;
        // Parsed once per process, like an identity file (a fleet of links would parse it once each).
        const parsed = parsedIdentity(text);
        return { type: 'publickey', username: target.user, key: parsed instanceof Error ? text : parsed };
      }
      return undefined;
    };
    // The laptop key first in line: read it now, beside the TCP connect and the key exchange.
    if (steps[0] === 'laptop-key') void laptopKey().catch(() => undefined);

    const config: ConnectConfig = {
      sock,
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: deps.readyTimeoutMs ?? 10_000,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      // The client's preference decides. AES-GCM unless the device's CPU lacks AES instructions (cpu-features.ts):
      // ssh2 would otherwise order by the laptop's CPU.
      // (ssh2's `prepend` skips a cipher already in its list, so it is removed first: keys apply in order.)
      algorithms: { cipher: { remove: [target.cipher ?? AES_GCM], prepend: [target.cipher ?? AES_GCM] } as never },
      hostVerifier: (key: Buffer) => {
        fingerprint = sshFingerprint(key);
        verdict = deps.knownHosts.check(target.host, target.port, key);
        if (verdict.status === 'match') return true;
        const confirmed =
          trust.expectedFingerprint !== undefined
            ? trust.expectedFingerprint === fingerprint
            : trust.knownForDevice?.includes(fingerprint) === true || (verdict.status === 'unknown' && trust.acceptNew === true);
        if (!confirmed) return false;
        deps.knownHosts.pin(target.host, target.port, key);
        verdict = { status: 'match' };
        return true;
      },
      authHandler: (_methodsLeft, _partial, next) => {
        nextMethod().then(
          (method) => next(method ?? (false as never)), // ssh2: false means no methods left
          (err: unknown) => fail(err as Error),
        );
      },
    };

    let fail: (err: Error) => void = () => undefined;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        client.removeListener('ready', onReady);
        client.end();
        if (verdict && verdict.status !== 'match') reject(hostKeyError(target.host, target.port, verdict));
        else reject(withLockedHint(sshError(target, err), laptopKeyLocked));
      };
      // The laptop key could not be read (a wrong vault passphrase): that is the answer, whatever the device says.
      fail = (err) => {
        client.removeListener('ready', onReady);
        client.removeListener('error', onError);
        client.end();
        reject(err);
      };
      const onReady = () => {
        client.removeListener('error', onError);
        resolve(new SshConnection(target, client, fingerprint, cipher));
      };
      client.once('handshake', (negotiated: { sc?: { cipher?: string } }) => {
        cipher = negotiated.sc?.cipher ?? '';
      });
      client.once('ready', onReady);
      client.once('error', onError);
      // ssh2 may emit a second error while a failed handshake unwinds (a link cut mid-handshake); the first one
      // already settled the promise, and an unhandled 'error' event would take the whole process down.
      client.on('error', () => undefined);
      const none = () => withLockedHint(new OutpostError('auth', `no SSH credentials for ${describeTarget(target)}: give --identity, a password, or run an SSH agent`), laptopKeyLocked);
      if (steps.length === 1 && steps[0] === 'laptop-key') {
        // Only the laptop key could log in: without it (locked, none made), say so rather than dial for nothing.
        laptopKey().then(
          (key) => {
            if (!key) fail(none());
          },
          (err: unknown) => fail(err as Error),
        );
      }
      client.connect(config);
    });
  }

  /** Runs argv on the device. Arguments are quoted, never interpolated into a shell string. */
  exec(argv: readonly string[], opts: { pty?: boolean } = {}): Promise<ExecHandle> {
    return new Promise((resolve, reject) => {
      this.client.exec(commandLine(argv), { pty: opts.pty ?? false }, (err, channel) => {
        if (err) return reject(sshError(this.target, err));
        const exit = new Promise<{ code: number | null; signal?: string }>((res) => {
          let code: number | null = null;
          let signal: string | undefined;
          channel.once('exit', (c: number | null, s?: string) => {
            code = c;
            signal = s;
          });
          channel.once('close', () => res({ code, signal }));
        });
        resolve({ stdout: channel, stderr: channel.stderr, stdin: channel, exit, channel });
      });
    });
  }

  /** Runs argv to completion and collects its output (bounded, so a chatty device cannot fill the laptop's memory). */
  async run(argv: readonly string[], opts: { input?: string | Buffer; maxBytes?: number } = {}): Promise<RunResult> {
    const max = opts.maxBytes ?? 64 * 1024 * 1024;
    const handle = await this.exec(argv);
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    handle.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > max) {
        handle.channel.close();
        return;
      }
      out.push(chunk);
    });
    handle.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 65_536) err += chunk.toString('utf8');
    });
    if (opts.input !== undefined) handle.stdin.end(opts.input);
    else handle.stdin.end();
    const { code } = await handle.exit;
    if (outBytes > max) throw new OutpostError('protocol', `${argv[0]} on ${describeTarget(this.target)} printed more than ${max} bytes`);
    return { code, stdout: Buffer.concat(out), stderr: err };
  }

  /**
   * One SSH-level round trip on this connection, in ms: a `keepalive@openssh.com` global request with want-reply,
   * the same packet ssh2's own keep-alive sends; the server answers it without starting anything. ssh2 has no public
   * call for it, so this pushes onto the same ordered reply-callback queue its keep-alive uses; if a future ssh2
   * renames those internals, an exec of `true` (a channel open + a process) is the honest, slower stand-in.
   */
  ping(timeoutMs: number): Promise<number> {
    const internals = this.client as unknown as { _protocol?: { ping?: () => void }; _callbacks?: Array<(failed: boolean) => void> };
    const proto = internals._protocol;
    const callbacks = internals._callbacks;
    if (!proto?.ping || !Array.isArray(callbacks)) {
      const t0 = process.hrtime.bigint();
      return this.run(['true']).then(() => Number(process.hrtime.bigint() - t0) / 1e6);
    }
    if (this.closed) return Promise.reject(new OutpostError('unreachable', `SSH connection to ${describeTarget(this.target)} is closed`));
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new OutpostError('timeout', `SSH round trip to ${describeTarget(this.target)} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const t0 = process.hrtime.bigint();
      // A late reply still pops its own callback, keeping ssh2's queue in order.
      callbacks.push(() => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        clearTimeout(timer);
        if (!settled) resolve(ms);
      });
      proto.ping?.();
    });
  }

  /** An interactive login shell with a pseudo-terminal (terminal sessions); resize with `channel.setWindow`. */
  shell(opts: { cols: number; rows: number; term?: string }): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.shell({ cols: opts.cols, rows: opts.rows, term: opts.term ?? 'xterm-256color' }, (err, channel) => {
        if (err) return reject(sshError(this.target, err));
        resolve(channel);
      });
    });
  }

  /** A stream to a unix socket on the device (OpenSSH's streamlocal forwarding), e.g. the Docker engine. */
  forwardUnix(socketPath: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.client.openssh_forwardOutStreamLocal(socketPath, (err, channel) => {
        if (err) return reject(sshError(this.target, err));
        resolve(channel);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }

  /**
   * Tears the connection down at once, for a link presumed dead. `close()` ends politely, and on a dead link its
   * FIN is never answered: the socket stays open and every channel on it — including the engine agent's kept-alive
   * sockets — waits for an answer that never comes. Destroying the socket closes every channel, so whatever was
   * waiting fails now (and the next call reconnects).
   */
  destroy(): void {
    this.closed = true;
    this.client.destroy();
  }
}
