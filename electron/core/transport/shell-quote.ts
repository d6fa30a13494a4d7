/**
 * SSH exec carries one command string to the remote shell. We never splice untrusted text into it: every
 * argument is single-quoted, with embedded single quotes closed, escaped and reopened.
 */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error('argument contains a NUL byte');
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(quoteArg).join(' ');
}
