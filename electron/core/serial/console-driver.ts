import { randomBytes } from 'node:crypto';
import { OutpostError } from '../../../shared/errors';
import { CONSOLE_PATTERNS, STATE_PATTERNS, cleanOutput, wrapCommand, type ConsoleState } from './console-patterns';
import { Expecter, type Deadlines, type ExpectEvent, type PatternSpec } from './expecter';

/** The byte stream a driver works over: a serial line, a test's scripted far end. */
export interface ConsoleIo {
  /** Where the bytes go, for messages ("/dev/ttyUSB0 at 115200"). */
  readonly label: string;
  write(bytes: Buffer): void;
  /** Delivers received bytes until the returned function is called; `onEnd` when the stream ends. */
  subscribe(onData: (bytes: Buffer) => void, onEnd: (reason: string) => void): () => void;
}

export interface Credentials {
  user: string;
  password?: string;
}

export interface CommandResult {
  output: string;
  exitCode: number;
}

export interface DriverOptions {
  now?: () => number;
  /** Milliseconds between writes of long lines (slow links and small UART FIFOs drop bytes of long bursts). */
  writeChunkBytes?: number;
}

/** "Kill the line, then Enter": clears what a wrong baud rate or an earlier user left typed, then asks for a fresh prompt. */
export const POKE = Buffer.from('\x15\r');
/** How long the line must stay quiet after a prompt before we answer it (a newer prompt supersedes it). */
const SETTLE_MS = 300;
/** A chatty console (boot messages) still gets an answer: the wait for quiet is capped. */
const SETTLE_MAX_MS = 3_000;

const tail = (text: string, n = 120) => JSON.stringify(text.slice(-n));

/**
 * Drives a console: waits for patterns with deadlines (never forever), logs in, runs commands with markers.
 * Matching is the pure Expecter; this class only moves bytes and time into it.
 */
export class ConsoleDriver {
  private readonly expecter = new Expecter();
  private readonly now: () => number;
  private endedReason: string | null = null;
  private waiter: ((e: ExpectEvent) => void) | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly io: ConsoleIo,
    opts: DriverOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.unsubscribe = io.subscribe(
      (bytes) => {
        const e = this.expecter.feed(bytes, this.now());
        if (e) this.deliver(e);
      },
      (reason) => {
        this.endedReason = reason;
        this.deliver(this.expecter.eof());
      },
    );
  }

  dispose(): void {
    this.unsubscribe();
  }

  send(text: string | Buffer): void {
    this.io.write(typeof text === 'string' ? Buffer.from(text) : text);
  }

  clear(): void {
    this.expecter.clear();
  }

  private deliver(e: ExpectEvent): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(e);
    }
  }

  /** Waits for the earliest of `patterns`, a deadline or the end of the stream. */
  expect(patterns: readonly PatternSpec[], deadlines: Deadlines): Promise<ExpectEvent> {
    if (this.endedReason !== null) return Promise.resolve({ kind: 'eof', before: this.expecter.pending });
    const first = this.expecter.expect(patterns, deadlines, this.now());
    if (first) return Promise.resolve(first);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        const wait = this.expecter.nextDeadlineIn(this.now());
        if (wait === null) return;
        timer = setTimeout(() => {
          const t = this.expecter.tick(this.now());
          if (t) this.deliver(t);
          else arm();
        }, wait + 1);
      };
      this.waiter = (e) => {
        if (timer) clearTimeout(timer);
        resolve(e);
      };
      arm();
    });
  }

  /** Finds out where the console is, poking it once; `null` when nothing plausible answered. */
  async detectState(deadlines: Deadlines = { firstByteMs: 3_000, overallMs: 6_000 }): Promise<{ state: ConsoleState; text: string } | null> {
    this.clear();
    this.send(POKE);
    const e = await this.expect(STATE_PATTERNS, deadlines);
    if (e.kind === 'match') return { state: e.id as ConsoleState, text: e.before + e.text };
    if (e.kind === 'eof') throw this.endError('waiting for a prompt');
    return null;
  }

  /**
   * Reaches a shell: through "Press Enter", a login and password prompt, or straight to a shell with no login.
   * Wrong credentials are kind `auth`; a bootloader is kind `conflict`; silence is kind `timeout`.
   */
  async login(creds: Credentials, overallMs = 30_000): Promise<{ loggedIn: boolean }> {
    const started = this.now();
    let sentUser = false;
    let sentPassword = false;
    let pokes = 0;
    this.clear();
    this.send(POKE);
    for (;;) {
      const left = overallMs - (this.now() - started);
      if (left <= 0) throw this.timeoutError('a login or shell prompt', overallMs);
      // login(1) waits ~3 s after a failure before the next prompt: the idle gap must outlast it.
      let e = await this.expect(STATE_PATTERNS, { firstByteMs: Math.min(left, 5_000), overallMs: left });
      // Act only on the newest prompt. A console can hold a prompt printed before we opened it, and our poke brings
      // another: answering both would type the user name at the password prompt (seen in the lab after a failed
      // login). So once a prompt matches, keep reading until the line is quiet and take the last one.
      while (e.kind === 'match') {
        // A refusal of what we typed is final, whatever prompt follows it.
        if (e.id === 'login-incorrect' && (sentPassword || sentUser)) throw this.refused(creds.user);
        const newer = await this.expect(STATE_PATTERNS, { firstByteMs: SETTLE_MS, idleMs: SETTLE_MS, overallMs: SETTLE_MAX_MS });
        if (newer.kind !== 'match') break;
        e = newer;
      }
      if (e.kind === 'eof') throw this.endError('logging in');
      if (e.kind === 'timeout') {
        // One more poke: a console that printed its prompt before we opened it stays silent until asked.
        if (pokes++ < 2 && e.deadline === 'first-byte') {
          this.send(POKE);
          continue;
        }
        throw this.timeoutError('a login or shell prompt', overallMs, e.before);
      }
      switch (e.id as ConsoleState) {
        case 'shell':
          return { loggedIn: sentPassword || sentUser };
        case 'activate':
          this.send('\r');
          break;
        case 'login':
          this.send(`${creds.user}\r`);
          sentUser = true;
          sentPassword = false;
          break;
        case 'password':
          if (!sentUser) {
            // Someone else's half-typed login: an empty password ends it and brings a fresh login prompt.
            this.send('\r');
            break;
          }
          if (creds.password === undefined) throw new OutpostError('auth', `${this.io.label} asks for ${creds.user}'s password and none was given`);
          this.send(`${creds.password}\r`);
          sentPassword = true;
          break;
        case 'login-incorrect':
          if (sentPassword || sentUser) throw this.refused(creds.user);
          break;
        case 'uboot-autoboot':
        case 'uboot-prompt':
          throw new OutpostError('conflict', `${this.io.label} is at the U-Boot bootloader, not a Linux console: boot the device (type "boot" in the terminal) and try again`);
      }
    }
  }

  private refused(user: string): OutpostError {
    return new OutpostError('auth', `${this.io.label} refused the login for user ${user} (wrong user name or password)`);
  }

  /** Runs one shell command line and returns its output (kernel messages removed) and exit status. */
  async run(command: string, opts: { timeoutMs?: number; idleMs?: number } = {}): Promise<CommandResult> {
    const nonce = randomBytes(6).toString('hex');
    const { line, begin, end } = wrapCommand(command, nonce);
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const started = this.now();
    this.clear();
    this.send(`${line}\r`);
    const b = await this.expect([begin], { overallMs: timeoutMs, idleMs: opts.idleMs });
    if (b.kind === 'eof') throw this.endError(`running ${JSON.stringify(command)}`);
    if (b.kind === 'timeout') throw this.timeoutError(`the start of the output of ${JSON.stringify(command)} (is a shell prompt up?)`, timeoutMs, b.before);
    const left = Math.max(1, timeoutMs - (this.now() - started));
    const e = await this.expect([end], { overallMs: left, idleMs: opts.idleMs });
    if (e.kind === 'eof') throw this.endError(`running ${JSON.stringify(command)}`);
    if (e.kind === 'timeout') throw this.timeoutError(`the end of ${JSON.stringify(command)}`, timeoutMs, e.before);
    return { output: cleanOutput(e.before), exitCode: Number(e.groups[0]) };
  }

  /** Leaves the console as we found it: a login we made is ended (never waits for an answer). */
  logout(): void {
    if (this.endedReason === null) this.send('exit\r');
  }

  /** Like `run`, but a non-zero exit is an error naming the command and its output. */
  async check(command: string, opts: { timeoutMs?: number } = {}): Promise<string> {
    const r = await this.run(command, opts);
    if (r.exitCode !== 0) throw new OutpostError('protocol', `on ${this.io.label}, "${command}" exited with ${r.exitCode}: ${r.output.slice(-300)}`);
    return r.output;
  }

  private timeoutError(what: string, ms: number, received = this.expecter.pending): OutpostError {
    const got = received.length ? `last text received: ${tail(received)}` : 'nothing readable was received';
    return new OutpostError('timeout', `no ${what} on ${this.io.label} within ${Math.round(ms / 1000)} s (${got})`);
  }

  private endError(what: string): OutpostError {
    return new OutpostError('unreachable', `${this.io.label} closed while ${what}: ${this.endedReason ?? 'the port was closed'}`);
  }
}

export { CONSOLE_PATTERNS };
