import { describe, expect, it } from 'vitest';
import { cleanHostname, cleanMac, firstLine, sanitizeText } from './sanitize';

describe('sanitizeText', () => {
  it('strips ANSI escapes, control bytes and bidi overrides', () => {
    expect(sanitizeText('\u001b[31mred\u001b[0m \u001b]0;title\u0007ok\u0000\u202e!')).toBe('red ok!');
  });

  it('bounds the length', () => {
    expect(sanitizeText('a'.repeat(10_000), 20)).toHaveLength(20);
  });

  it('takes the first line of binary junk without throwing', () => {
    expect(firstLine(Buffer.from([0xff, 0xfe, 0x53, 0x53, 0x48, 0x0a, 0x41]))).toBe('SSH');
  });
});

describe('identifiers', () => {
  it('accepts DNS hostnames only', () => {
    expect(cleanHostname('Pi-3.local.')).toBe('pi-3.local');
    expect(cleanHostname('bad name.local')).toBeUndefined();
    expect(cleanHostname('\u001b[2J.local')).toBeUndefined();
    expect(cleanHostname('a'.repeat(64) + '.local')).toBeUndefined();
  });

  it('normalises MACs and drops placeholders', () => {
    expect(cleanMac('AA-BB-CC-00-11-22')).toBe('aa:bb:cc:00:11:22');
    expect(cleanMac('00:00:00:00:00:00')).toBeUndefined();
    expect(cleanMac('zz:bb:cc:00:11:22')).toBeUndefined();
  });
});
