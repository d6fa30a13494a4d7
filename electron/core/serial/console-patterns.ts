import type { PatternSpec } from './expecter';

/**
 * What a serial console can be waiting at, as data. Prompts are anchored at the end of the text received so far: a
 * prompt is only a prompt when nothing follows it (the device waits for us).
 */
export const CONSOLE_PATTERNS = {
  /** U-Boot counting down: a key press now stops the boot, so the technician must decide, not us. */
  ubootAutoboot: { id: 'uboot-autoboot', kind: 'regex', regex: /Hit any key to stop autoboot/ },
  ubootPrompt: { id: 'uboot-prompt', kind: 'regex', regex: /(?:^|\n)(?:=>|U-Boot>|[A-Za-z0-9_-]+#?=>) *$/ },
  /** busybox init on a console without getty. */
  activate: { id: 'activate', kind: 'regex', regex: /Please press Enter to activate this console\.?/ },
  loginIncorrect: { id: 'login-incorrect', kind: 'regex', regex: /Login incorrect|Authentication failure|Permission denied|Access denied/ },
  /** `gw-17 login: `, but not the `Last login: ` of a motd cut short by a slow read. */
  login: { id: 'login', kind: 'regex', regex: /(?:^|\n)(?![^\n]*Last login)[^\n]*\blogin: *$/ },
  password: { id: 'password', kind: 'regex', regex: /[Pp]assword(?: for [^\n:]*)?: *$/ },
  /** `#` or `$` then a space at the end: busybox `/ # `, `~ $ `, bash `root@gw:~# ` once colours are stripped. */
  shell: { id: 'shell', kind: 'regex', regex: /(?:^|\n)[^\n]*[#$] *$/ },
} as const satisfies Record<string, PatternSpec>;

export type ConsoleState = 'uboot-autoboot' | 'uboot-prompt' | 'activate' | 'login-incorrect' | 'login' | 'password' | 'shell';

/** Order matters only for ties at the same position: the more specific first. */
export const STATE_PATTERNS: readonly PatternSpec[] = [
  CONSOLE_PATTERNS.ubootAutoboot,
  CONSOLE_PATTERNS.activate,
  CONSOLE_PATTERNS.loginIncorrect,
  CONSOLE_PATTERNS.login,
  CONSOLE_PATTERNS.password,
  CONSOLE_PATTERNS.ubootPrompt,
  CONSOLE_PATTERNS.shell,
];

/**
 * The marker trick of pexpect's pxssh: the command that prints a marker differs from the text that matches it
 * (`"OP_""END_…"` is typed, `OP_END_…` is printed), so the console echoing our own input can never match.
 */
export function wrapCommand(command: string, nonce: string): { line: string; begin: PatternSpec; end: PatternSpec } {
  if (!/^[a-z0-9]+$/.test(nonce)) throw new Error('nonce must be lower-case alphanumeric');
  if (/[\r\n]/.test(command)) throw new Error('a console command is one line');
  return {
    line: `echo "OP_""BEGIN_${nonce}"; ${command}; echo "OP_""END_${nonce}:$?"`,
    begin: { id: 'begin', kind: 'regex', regex: new RegExp(`OP_BEGIN_${nonce}\\n`) },
    end: { id: 'end', kind: 'regex', regex: new RegExp(`OP_END_${nonce}:(\\d+)\\n`) },
  };
}

/** printk lines (`[   12.345678] usb 1-1: …`) that the kernel writes to the console in the middle of our output. */
const KERNEL_LINE = /^(?:<\d>)?\[\s*\d+\.\d+\] .*$/;

/** The output between the markers: kernel messages that interleaved are removed, the trailing line end dropped. */
export function cleanOutput(between: string): string {
  return between
    .split('\n')
    .filter((line) => !KERNEL_LINE.test(line))
    .join('\n')
    .replace(/\n$/, '');
}
