import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine, quoteArg } from './shell-quote';

describe('quoteArg', () => {
  const hostile = ["a b", "it's", "$(rm -rf /)", '`id`', 'x;y', 'a\nb', '"q"', "'", '', '*', '~root', '-n'];

  it.each(hostile)('round-trips %j through a real sh unchanged', (arg) => {
    const out = execFileSync('sh', ['-c', `printf '%s' ${quoteArg(arg)}`]).toString();
    expect(out).toBe(arg);
  });

  it('leaves plain words readable', () => {
    expect(commandLine(['docker', 'ps', '--format', '{{.ID}}'])).toBe("docker ps --format '{{.ID}}'");
  });

  it('refuses NUL bytes and empty commands', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL/);
    expect(() => commandLine([])).toThrow(/empty/);
  });
});
